/** Read back the step data a target wrote in `prepare` (kept in the steps table): JSON, checked with the target's schema. */
import type { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';

export function parseStepData<S extends z.ZodType>(schema: S, data: string, target: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new DomainError('internal', `${target} step data is not JSON; it was not written by this target`);
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new DomainError('internal', `${target} step data is invalid at ${r.error.issues[0]?.path.join('.') ?? ''}; it was not written by this target version`);
  return r.data;
}
