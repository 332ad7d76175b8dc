import { parseArgs } from 'node:util';
import { DomainError } from '../../domain/errors.ts';
import { projectJsonSchemaText } from '../../project/json-schema.ts';
import type { Command } from '../command.ts';

const usage = `usage: stagegate schema

Print the JSON Schema (draft 2020-12) of stagegate.yaml. Editors use it for completion, e.g. with
the YAML language server: # yaml-language-server: $schema=./schema/stagegate.schema.json`;

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of stagegate.yaml',
  usage,
  async run(args, ctx) {
    try {
      parseArgs({ args, options: {}, allowPositionals: false, strict: true });
    } catch (e) {
      throw new DomainError('invalid_input', `stagegate schema: ${(e as Error).message}`, { fix: usage });
    }
    ctx.out(projectJsonSchemaText().trimEnd());
    return 0;
  },
};
