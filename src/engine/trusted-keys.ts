/** The release-signing keys the project trusts, by key id; per environment when named. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { keyIdOf } from '../crypto/keys.ts';
import type { Project } from '../project/schema.ts';

const cache = new WeakMap<Project, Map<string, { keyId: string; key: KeyObject }>>();

function byName(project: Project): Map<string, { keyId: string; key: KeyObject }> {
  let m = cache.get(project);
  if (!m) {
    m = new Map();
    for (const k of project.keys) {
      const key = createPublicKey(k.publicKeyPem);
      m.set(k.name, { keyId: keyIdOf(key), key });
    }
    cache.set(project, m);
  }
  return m;
}

/** keys by key id; only those named when `names` is given */
export function trustedKeys(project: Project, names?: readonly string[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const [name, { keyId, key }] of byName(project)) {
    if (!names || names.includes(name)) out.set(keyId, key);
  }
  return out;
}

export function keyNameOf(project: Project, keyId: string): string | undefined {
  for (const [name, k] of byName(project)) if (k.keyId === keyId) return name;
  return undefined;
}
