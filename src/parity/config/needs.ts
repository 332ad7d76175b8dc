/**
 * What a release needs from the environment it goes to: another service's version in a semver
 * range (`service:payments@^2.1.0`) or a platform version (`platform:node@>=20 <23`).
 */
import semver from 'semver';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { NAME_RE } from '../../domain/ids.ts';
import { PLATFORM_NAME_RE } from './manifest-schema.ts';

export const MAX_NEEDS = 64;
export const needKinds = ['service', 'platform'] as const;

export interface Needs {
  kind: (typeof needKinds)[number];
  name: string;
  /** a semver range */
  range: string;
}
export type Need = Needs;

const rangeSchema = z.string().min(1).max(256).refine((r) => semver.validRange(r) !== null, 'must be a semver range');
export const needSchema = z.union([
  z.strictObject({ kind: z.literal('service'), name: z.string().regex(NAME_RE), range: rangeSchema }),
  z.strictObject({ kind: z.literal('platform'), name: z.string().regex(PLATFORM_NAME_RE), range: rangeSchema }),
]);
export const needsSchema = z.array(needSchema).max(MAX_NEEDS);

export const formatNeed = (n: Needs): string => `${n.kind}:${n.name}@${n.range}`;

const NEED_FIX = 'write service:NAME@RANGE or platform:NAME@RANGE, e.g. service:payments@^2.1.0 or "platform:node@>=20 <23"';

/** parse `--needs` values; sorted, one per kind and name */
export function parseNeeds(specs: readonly string[]): Needs[] {
  if (specs.length > MAX_NEEDS) throw new DomainError('invalid_input', `at most ${MAX_NEEDS} --needs, got ${specs.length}`, { field: 'needs', fix: 'declare fewer needs' });
  const out = new Map<string, Needs>();
  for (const spec of specs) {
    const shown = JSON.stringify(spec.slice(0, 100));
    const m = /^(service|platform):([^@\s]{1,63})@(.{1,256})$/.exec(spec);
    if (!m) throw new DomainError('invalid_input', `--needs ${shown} is not KIND:NAME@RANGE`, { field: 'needs', fix: NEED_FIX });
    const kind = m[1] as Needs['kind'];
    const name = m[2] as string;
    const range = (m[3] as string).trim();
    if (!(kind === 'service' ? NAME_RE : PLATFORM_NAME_RE).test(name)) {
      throw new DomainError('invalid_input', `--needs ${shown}: "${name}" is not a valid ${kind} name`, { field: 'needs', fix: kind === 'service' ? 'use the service name from stagegate.yaml' : 'use a platform name such as node, postgres or kubernetes' });
    }
    if (semver.validRange(range) === null) throw new DomainError('invalid_input', `--needs ${shown}: "${range}" is not a semver range`, { field: 'needs', fix: NEED_FIX });
    const key = `${kind}:${name}`;
    if (out.has(key)) throw new DomainError('invalid_input', `--needs names ${key} twice`, { field: 'needs', fix: `combine the ranges into one --needs ${key}@RANGE` });
    out.set(key, { kind, name, range });
  }
  return [...out.values()].sort((a, b) => (formatNeed(a) < formatNeed(b) ? -1 : 1));
}
