/** The differences between two effective configs, each JSON Pointer with both values and origins. */
import diff from 'microdiff';
import type { EffectiveConfig } from './effective-config.ts';
import { isUnder, pointerOf } from './pointer.ts';

export interface ConfigChange {
  pointer: string;
  change: 'added' | 'removed' | 'changed';
  from?: { value: unknown; origin: string };
  to?: { value: unknown; origin: string };
}

/** the origin of a pointer; for an object or array, the origins of its leaves joined */
export function originOf(cfg: EffectiveConfig, pointer: string): string {
  const direct = cfg.origins[pointer];
  if (direct) return direct;
  const under = [...new Set(Object.entries(cfg.origins).filter(([p]) => isUnder(p, pointer)).map(([, o]) => o))];
  return under.join(', ') || 'base';
}

export function diffConfigs(from: EffectiveConfig, to: EffectiveConfig): ConfigChange[] {
  return diff(from.document, to.document)
    .map((d): ConfigChange => {
      const pointer = pointerOf(d.path);
      if (d.type === 'CREATE') return { pointer, change: 'added', to: { value: d.value, origin: originOf(to, pointer) } };
      if (d.type === 'REMOVE') return { pointer, change: 'removed', from: { value: d.oldValue, origin: originOf(from, pointer) } };
      return { pointer, change: 'changed', from: { value: d.oldValue, origin: originOf(from, pointer) }, to: { value: d.value, origin: originOf(to, pointer) } };
    })
    .sort((a, b) => (a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : 0));
}
