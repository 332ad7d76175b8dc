/**
 * OFREP (OpenFeature Remote Evaluation Protocol) evaluation of an environment's current flag set with
 * flagd-core (JSON Logic targeting, fractional, sem_ver). The environment comes from the credential
 * (a scope `flag.evaluate:ENV`) or the `X-Stagegate-Environment` header; either way Cedar decides
 * (`flag.evaluate` on the Environment) and the decision is audited.
 *
 * Results follow the OFREP OpenAPI: success `{key, value, reason, variant, metadata}`, failure
 * `{key, errorCode, errorDetails}` with 400 (INVALID_CONTEXT, PARSE_ERROR, TARGETING_KEY_MISSING,
 * GENERAL) or 404 (FLAG_NOT_FOUND). A DISABLED flag answers FLAG_NOT_FOUND (and is left out of a bulk
 * answer), so clients fall back to their code default.
 */
import { FlagdCore } from '@openfeature/flagd-core';
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/digest.ts';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import type { AuditWriter } from '../engine/audit-writer.ts';
import type { RequestContext } from '../engine/deps.ts';
import { ENV_SCOPE_RE } from '../engine/sessions.ts';
import { currentFlags, flagResource } from './current.ts';
import type { FlagDeps } from './flag-changes.ts';

export type OfrepErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL';
export type OfrepSuccess = { key: string; value: unknown; reason: string; variant?: string; metadata: Record<string, unknown> };
export type OfrepFailure = { key: string; errorCode: OfrepErrorCode; errorDetails: string };
export type OfrepResult = OfrepSuccess | OfrepFailure;

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const MAX_CONTEXT_KEYS = 200;
const MAX_CONTEXT_CHARS = 32 * 1024;

/** the OFREP body `{context}`; a failure names what is wrong */
export function parseContext(body: Buffer): { ok: true; context: Record<string, unknown> } | { ok: false; details: string } {
  if (body.length === 0) return { ok: true, context: {} };
  if (body.length > MAX_CONTEXT_CHARS) return { ok: false, details: `the request body is over ${MAX_CONTEXT_CHARS} bytes` };
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, details: 'the request body is not JSON; send {"context": {"targetingKey": "...", ...}}' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, details: 'the request body must be a JSON object {"context": {...}}' };
  const ctx = (v as { context?: unknown }).context ?? {};
  if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) return { ok: false, details: '/context must be a JSON object' };
  if (Object.keys(ctx).length > MAX_CONTEXT_KEYS) return { ok: false, details: `/context has more than ${MAX_CONTEXT_KEYS} fields` };
  const tk = (ctx as { targetingKey?: unknown }).targetingKey;
  if (tk !== undefined && typeof tk !== 'string') return { ok: false, details: '/context/targetingKey must be a string' };
  return { ok: true, context: ctx as Record<string, unknown> };
}

/** environments a credential's scopes bind flag evaluation to (`flag.evaluate:prod`); empty = not bound */
export const scopedEnvironments = (scopes: readonly string[]): string[] => scopes.filter((s) => ENV_SCOPE_RE.test(s)).map((s) => s.slice('flag.evaluate:'.length));

export function createOfrep(deps: FlagDeps, audit: AuditWriter) {
  const cores = new Map<string, { digest: string; core: FlagdCore }>();

  async function coreFor(environment: string) {
    const cur = await currentFlags(deps.store.read.flags, environment);
    const cached = cores.get(environment);
    if (cached && cached.digest === cur.digest) return { ...cached, version: cur.version };
    const core = new FlagdCore(undefined, quiet);
    core.setConfigurations(JSON.stringify(cur.flagSet));
    cores.set(environment, { digest: cur.digest, core });
    return { digest: cur.digest, core, version: cur.version };
  }

  /** which environment, and is this credential allowed to evaluate its flags (audited either way) */
  async function authorize(ctx: RequestContext, header: string | undefined): Promise<string> {
    const bound = scopedEnvironments(ctx.principal?.scopes ?? []);
    const env = header ?? (bound.length === 1 ? bound[0] : undefined);
    if (env === undefined || !NAME_RE.test(env)) {
      throw new DomainError('invalid_input', env === undefined ? 'which environment? the credential is not bound to one' : 'X-Stagegate-Environment is not an environment name', {
        field: 'X-Stagegate-Environment',
        fix: 'send the header X-Stagegate-Environment: ENV, or use a token with the scope flag.evaluate:ENV',
      });
    }
    const resource = flagResource(deps.project, env);
    if (bound.length > 0 && !bound.includes(env)) {
      await audit.denied(ctx, { action: 'flag.evaluate', subject: `Environment:${env}`, details: { reason: `the credential is bound to flag.evaluate of ${bound.join(', ')}`, credential: ctx.principal?.credential ?? null } });
      throw new DomainError('forbidden', `${ctx.actor} may evaluate flags of ${bound.join(', ')} only, not ${env}`, { fix: `use a token with the scope flag.evaluate:${env}` });
    }
    // a bound credential's `flag.evaluate:ENV` stands for `flag.evaluate` once the environment matched
    const p = ctx.principal;
    const scoped = p && bound.length > 0 ? { ...ctx, principal: { ...p, scopes: [...p.scopes, 'flag.evaluate'] } } : ctx;
    try {
      await audit.guard(scoped, 'flag.evaluate', resource);
    } finally {
      ctx.denialRecorded = scoped.denialRecorded ?? ctx.denialRecorded;
    }
    return env;
  }

  function evaluateOne(core: FlagdCore, key: string, context: Record<string, unknown>): OfrepResult {
    const flag = core.getFlag(key);
    if (!flag) return { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag ${key} is not in this environment's flag set` };
    if (flag.state === 'DISABLED') return { key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag ${key} is DISABLED in this environment` };
    const r = flag.evaluate(context as never, quiet);
    if (r.reason === 'ERROR' || r.value === undefined) {
      const code = r.errorCode as string | undefined;
      const errorCode: OfrepErrorCode = code === 'PARSE_ERROR' || code === 'TARGETING_KEY_MISSING' || code === 'INVALID_CONTEXT' ? code : 'GENERAL';
      return { key, errorCode, errorDetails: r.errorMessage ?? `flag ${key} has no value for this context and no default variant` };
    }
    return { key, value: r.value, reason: r.reason, ...(r.variant !== undefined ? { variant: r.variant } : {}), metadata: { ...r.flagMetadata } };
  }

  async function evaluate(ctx: RequestContext, header: string | undefined, key: string, context: Record<string, unknown>): Promise<OfrepResult> {
    const env = await authorize(ctx, header);
    const { core } = await coreFor(env);
    return evaluateOne(core, key, context);
  }

  /** every enabled flag; `etag` changes with the flag set and the context */
  async function evaluateAll(ctx: RequestContext, header: string | undefined, context: Record<string, unknown>) {
    const env = await authorize(ctx, header);
    const { core, digest, version } = await coreFor(env);
    const etag = `"${sha256Hex(`${digest}\n${canonicalize(context) ?? '{}'}`).slice(0, 32)}"`;
    const flags: OfrepResult[] = [];
    for (const [key, flag] of core.getFlags()) {
      if (flag.state === 'DISABLED') continue;
      flags.push(evaluateOne(core, key, context));
    }
    return { environment: env, version, etag, flags };
  }

  return { evaluate, evaluateAll, authorize };
}
