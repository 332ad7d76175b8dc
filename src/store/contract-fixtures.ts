/** Record builders for the Store contract suite: valid by default, overridable per test. */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { isDomainError } from '../domain/errors.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { NewPromotion, ReleaseRecord, StepRecord, Store, TokenRecord } from './store.ts';

/** returns a fresh, empty store on every call */
export type OpenStore = () => Promise<Store>;

/** open a store, run fn, close the store whatever happens */
export async function withStore(open: OpenStore, fn: (s: Store) => Promise<void>): Promise<void> {
  const s = await open();
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

export const T0 = '2026-11-26T10:00:00.000Z';

export function at(seconds: number): string {
  return new Date(Date.parse(T0) + seconds * 1000).toISOString();
}

export function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

export function hash32(text: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

export function release(service: string, version: string, over: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    id: digestOf(`${service}@${version}`),
    service,
    version,
    bundle: JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', v: `${service}@${version}` }),
    signerKeyId: 'a2V5LWlk',
    subjects: [
      { name: `${service}.tar.gz`, digest: digestOf(`${service}-${version}-tar`), kind: 'artifact', size: 1234 },
      { name: 'config/app.yaml', digest: digestOf(`${service}-${version}-cfg`), kind: 'config', size: 56 },
      { name: `registry.example/${service}`, digest: digestOf(`${service}-${version}-img`), kind: 'image', size: null },
    ],
    pushedBy: 'user:alice',
    createdAt: T0,
    ...over,
  };
}

export function promotion(id: string, r: ReleaseRecord, environment: string, over: Partial<NewPromotion> = {}): NewPromotion {
  return {
    id,
    service: r.service,
    version: r.version,
    releaseId: r.id,
    environment,
    state: 'Pending',
    requestedBy: 'user:alice',
    createdAt: T0,
    updatedAt: T0,
    stateChangedAt: T0,
    gates: null,
    message: null,
    succeededAt: null,
    ...over,
  };
}

export function step(promotionId: string, name: string): Pick<StepRecord, 'promotionId' | 'step' | 'data' | 'startedAt'> {
  return { promotionId, step: name, data: JSON.stringify({ pid: 4242, runDir: `/tmp/run-${name}` }), startedAt: T0 };
}

export function token(id: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    scopes: [],
    expiresAt: null,
    id,
    name: `ci-${id}`,
    secretHash: createHash('sha256').update(`secret-${id}`).digest('hex'),
    actor: `token:${id}`,
    role: 'deployer',
    createdAt: T0,
    revokedAt: null,
    ...over,
  };
}

export function auditEntry(index: number): { index: number; entry: string; createdAt: string } {
  return {
    index,
    entry: JSON.stringify({ action: 'release.push', actor: 'user:alice', n: index, outcome: 'allowed' }),
    createdAt: at(index),
  };
}

/** assert that fn rejects with a DomainError of `code` whose message matches every pattern */
export async function rejectsWith(fn: () => Promise<unknown>, code: ErrorCode, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(isDomainError(e), `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code, `code of "${e.message}"`);
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(typeof e.details.fix === 'string' && e.details.fix.length > 0, 'details.fix says what to do');
    return true;
  });
}
