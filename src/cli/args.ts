/** parseArgs with usage errors as DomainError. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DomainError } from '../domain/errors.ts';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, usage: string, allowPositionals = true, command?: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    const message = (e as Error).message;
    throw new DomainError('invalid_input', command ? `${command}: ${message}` : message, { fix: usage.startsWith('usage:') ? usage : `usage: ${usage}` });
  }
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === '') throw new DomainError('invalid_input', `${flag} is required`, { fix: `usage: ${usage}` });
  return value;
}
