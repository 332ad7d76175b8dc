/** The published JSON Schema (draft 2020-12) of stagegate.yaml, generated from the zod schema. */
import { z } from 'zod';
import { projectFileSchema } from './schema.ts';

export const PROJECT_SCHEMA_ID = 'https://stagegate.dev/schemas/stagegate.schema.json';

export function projectJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(projectFileSchema, { target: 'draft-2020-12', io: 'input' });
  const { $schema, ...rest } = generated as Record<string, unknown>;
  return { $schema, $id: PROJECT_SCHEMA_ID, title: 'stagegate project file', ...rest };
}

/** The exact text of schema/stagegate.schema.json (and of `stagegate schema`). */
export function projectJsonSchemaText(): string {
  return `${JSON.stringify(projectJsonSchema(), null, 2)}\n`;
}
