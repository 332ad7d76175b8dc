/**
 * The facts gate rules see: ONE declaration table from which the CEL environment (types and
 * variables), the TypeScript `GateFacts` type and the runtime conversion are all derived, so they
 * cannot drift. Numbers are CEL `double` (cel-js makes `int` a BigInt); times are
 * `google.protobuf.Timestamp` (a JS Date; the bare name `timestamp` is buggy in cel-js 8).
 */

/** CEL message types (records) the facts use: field name -> CEL type */
export const factMessages = {
  'stagegate.Provenance': { builder: 'string', source: 'string', buildType: 'string' },
  'stagegate.Release': {
    service: 'string',
    version: 'string',
    id: 'string',
    signer: 'string',
    signerName: 'string',
    provenance: 'stagegate.Provenance',
  },
  'stagegate.Environment': { name: 'string', tier: 'string' },
  'stagegate.Approval': { user: 'string', groups: 'list<string>', at: 'google.protobuf.Timestamp' },
  'stagegate.Soak': { succeeded: 'bool', soakSeconds: 'double', failedVerification: 'bool' },
  'stagegate.Freeze': { active: 'bool', windows: 'list<string>' },
  'stagegate.Findings': { parity: 'double', drift: 'double', secrets: 'double' },
} as const;

/** the top-level variables an expression may use: name -> CEL type and what it means */
export const factVariables = {
  release: {
    type: 'stagegate.Release',
    description:
      'the release being promoted: service, version, id (digest), signer (key id), signerName (key name), provenance {builder, source, buildType}',
  },
  environment: { type: 'stagegate.Environment', description: 'the target environment: name and tier (dev, test, staging, prod)' },
  approvals: {
    type: 'list<stagegate.Approval>',
    description: 'valid approvals of this promotion: user, groups (nested groups flattened), at (when)',
  },
  approvalCount: { type: 'double', description: 'size(approvals), as a double' },
  soak: {
    type: 'map<string, stagegate.Soak>',
    description:
      'per environment the release ran in: succeeded, soakSeconds (time since it succeeded there), failedVerification (a verify ever failed there)',
  },
  freeze: { type: 'stagegate.Freeze', description: 'active: a freeze window covers now; windows: the names of the active windows' },
  now: { type: 'google.protobuf.Timestamp', description: 'the evaluation time' },
  hour: { type: 'double', description: 'hour of `now` in UTC, 0-23' },
  weekday: { type: 'double', description: 'day of the week of `now` in UTC, 0 = Sunday .. 6 = Saturday' },
  findings: { type: 'stagegate.Findings', description: 'open finding counts: parity (unapproved, against the next environment), drift (in the target; unknown = 1), secrets (overdue)' },
  requester: { type: 'string', description: 'principal id of who requested the promotion, e.g. user:alice' },
  breakGlass: { type: 'bool', description: 'the promotion runs under an approved break-glass' },
} as const;

type Messages = typeof factMessages;

/** the TypeScript type of a value of CEL type T (as declared in the tables above) */
export type CelValue<T extends string> = T extends 'string'
  ? string
  : T extends 'double'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends 'google.protobuf.Timestamp'
        ? Date
        : T extends `list<${infer E}>`
          ? readonly CelValue<E>[]
          : T extends `map<string, ${infer V}>`
            ? Readonly<Record<string, CelValue<V>>>
            : T extends keyof Messages
              ? { readonly [K in keyof Messages[T]]: CelValue<Messages[T][K] & string> }
              : never;

/** what TypeScript computes for one promotion before its gate rules run */
export type GateFacts = { readonly [K in keyof typeof factVariables]: CelValue<(typeof factVariables)[K]['type']> };

export type FactMessageName = keyof Messages;

/**
 * One constructor per message type. cel-js recognizes a message value by its `constructor`, and
 * does not convert plain objects found inside lists and maps, so every record is made with one.
 */
export const messageConstructors: ReadonlyMap<FactMessageName, () => void> = new Map(
  (Object.keys(factMessages) as FactMessageName[]).map((name) => {
    // a plain function (not a class): cel-js only needs a distinct `prototype.constructor`
    // biome-ignore lint/complexity/useArrowFunction: an arrow function has no prototype
    const ctor = { [name]: function () {} }[name] as () => void;
    return [name, ctor];
  }),
);

type Convert = (v: unknown) => unknown;

const identity: Convert = (v) => v;

function converterFor(type: string): Convert {
  const list = /^list<(.+)>$/.exec(type);
  if (list) {
    const inner = converterFor(list[1] as string);
    if (inner === identity) return identity;
    return (v) => (v as readonly unknown[]).map(inner);
  }
  const map = /^map<string, (.+)>$/.exec(type);
  if (map) {
    const inner = converterFor(map[1] as string);
    if (inner === identity) return identity;
    return (v) => {
      // no prototype: a key such as "__proto__" stays an ordinary key
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = inner(x);
      return out;
    };
  }
  const fields = (factMessages as Record<string, Record<string, string>>)[type];
  if (fields) {
    const ctor = messageConstructors.get(type as FactMessageName) as () => void;
    const proto = ctor.prototype as object;
    const conv = Object.entries(fields).map(([k, t]) => [k, converterFor(t)] as const);
    return (v) => {
      const src = v as Record<string, unknown>;
      const out = Object.create(proto) as Record<string, unknown>;
      for (const [k, c] of conv) out[k] = c(src[k]);
      return out;
    };
  }
  return identity;
}

const variableConverters = Object.entries(factVariables).map(([name, v]) => [name, converterFor(v.type)] as const);

/** The CEL evaluation context for a set of facts: every record becomes a message value (a new object). */
export function toCelContext(facts: GateFacts): Record<string, unknown> {
  const src = facts as unknown as Record<string, unknown>;
  const ctx: Record<string, unknown> = {};
  for (const [name, convert] of variableConverters) ctx[name] = convert(src[name]);
  return ctx;
}

/** `now`, `hour` and `weekday` (UTC) for a point in time */
export function clockFacts(now: Date): Pick<GateFacts, 'now' | 'hour' | 'weekday'> {
  return { now, hour: now.getUTCHours(), weekday: now.getUTCDay() };
}
