/**
 * The `config` section of an effective configuration flattened to ConfigMap data: nested keys joined
 * with `.`, strings kept, every other value as its JSON text; keys sorted.
 */
import { DomainError } from '../../../domain/errors.ts';

/** the key alphabet Kubernetes allows in ConfigMap data */
const CONFIGMAP_KEY_RE = /^[-._a-zA-Z0-9]{1,253}$/;
const pointerPart = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function flattenConfig(config: unknown): Record<string, string> {
  if (config === undefined) return {};
  if (!isObject(config)) {
    throw new DomainError('invalid_input', 'gitops render: the effective configuration section /config is not a map', {
      field: '/config',
      fix: 'write `config:` in base.yaml as a map of keys to values',
    });
  }
  const out: Record<string, string> = {};
  const walk = (node: Record<string, unknown>, prefix: string, pointer: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const ptr = `${pointer}/${pointerPart(k)}`;
      if (isObject(v) && Object.keys(v).length > 0) {
        walk(v, key, ptr);
        continue;
      }
      if (!CONFIGMAP_KEY_RE.test(key)) {
        throw new DomainError('invalid_input', `gitops render: configuration key "${key.slice(0, 100)}" (${ptr.slice(0, 200)}) is not a valid ConfigMap key`, {
          field: ptr.slice(0, 300),
          fix: 'use only letters, digits, -, _ and . in configuration keys (at most 253 characters when joined with .)',
        });
      }
      if (key in out) {
        throw new DomainError('invalid_input', `gitops render: configuration key "${key.slice(0, 100)}" appears twice once nested keys are joined with "."`, {
          field: ptr.slice(0, 300),
          fix: 'rename one of the keys so the flattened names differ',
        });
      }
      out[key] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  };
  walk(config, '', '/config');
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
