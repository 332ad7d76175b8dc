/** Bounded query parameters. */
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';

export function intParam(q: URLSearchParams, name: string, dflt: number | undefined, min: number, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new DomainError('invalid_input', `query parameter ${name}=${raw.slice(0, 40)} is not a whole number from ${min} to ${max}`, { field: name, fix: `give ${name} as a number from ${min} to ${max}` });
  }
  return Number(raw);
}

export function nameParam(q: URLSearchParams, name: string): string | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!NAME_RE.test(raw)) {
    throw new DomainError('invalid_input', `query parameter ${name} is not a valid name`, { field: name, fix: 'names are lowercase letters, digits and dashes' });
  }
  return raw;
}
