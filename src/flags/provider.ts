/**
 * An OpenFeature server provider for stagegate (`import { createStagegateProvider } from
 * 'stagegate/flags'`). It fetches the environment's whole flag set from `GET /v1/flags/{env}` (with
 * If-None-Match on the set's digest, so an unchanged set costs a 304) every `pollIntervalMs`, and
 * evaluates every flag locally with flagd-core: the same engine the OFREP endpoints use, so targeting
 * and fractional rollouts answer alike in both. The token needs `flag.read` on the environment
 * (any default role; scope it with `flag.read`).
 *
 * Initialization fails (the SDK reports ERROR) when the first fetch fails. Later failures keep the
 * last good flag set and emit Stale; the next good fetch emits ConfigurationChanged.
 */
import { FlagdCore } from '@openfeature/flagd-core';
import {
  type EvaluationContext,
  type JsonValue,
  type Logger,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
} from '@openfeature/server-sdk';

export interface StagegateProviderOptions {
  /** e.g. http://127.0.0.1:7480 */
  baseUrl: string;
  /** an API token or session with flag.read on the environment */
  token: string;
  environment: string;
  /** how often to look for a new flag set; default 30 s, at least 100 ms; 0 = never after the first */
  pollIntervalMs?: number;
  /** per request; default 10 s */
  timeoutMs?: number;
}

const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const ENV_RE = /^[a-z][a-z0-9-]{0,62}$/;

export type StagegateProvider = Provider & {
  /** fetch now (what the timer does); resolves true when the flag set changed */
  refresh(): Promise<boolean>;
  /** version and digest of the flag set in use */
  readonly current: { version: number; digest: string } | undefined;
};

export function createStagegateProvider(options: StagegateProviderOptions): StagegateProvider {
  if (!ENV_RE.test(options.environment)) throw new Error(`stagegate provider: environment "${options.environment.slice(0, 64)}" is not an environment name (lowercase letters, digits, dashes)`);
  if (!/^https?:\/\/\S+$/.test(options.baseUrl)) throw new Error('stagegate provider: baseUrl must be an http(s) URL such as http://127.0.0.1:7480');
  const base = options.baseUrl.replace(/\/+$/, '');
  const interval = options.pollIntervalMs ?? 30_000;
  const events = new OpenFeatureEventEmitter();
  let core: FlagdCore | undefined;
  let current: { version: number; digest: string } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stale = false;

  async function refresh(): Promise<boolean> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'application/json' };
    if (current) headers['if-none-match'] = `"${current.digest}"`;
    const res = await fetch(`${base}/v1/flags/${encodeURIComponent(options.environment)}`, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    if (res.status === 304) {
      await res.body?.cancel();
      return false;
    }
    const text = await res.text();
    if (!res.ok) {
      let detail = text.slice(0, 300);
      try {
        detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
      } catch {
        // keep the text
      }
      throw new Error(`stagegate provider: GET /v1/flags/${options.environment} answered ${res.status}: ${detail}`);
    }
    const body = JSON.parse(text) as { version: number; digest: string; flagSet: unknown };
    if (current && body.digest === current.digest) return false;
    const next = new FlagdCore(undefined, quiet);
    next.setConfigurations(JSON.stringify(body.flagSet));
    core = next;
    current = { version: body.version, digest: body.digest };
    return true;
  }

  async function tick(): Promise<void> {
    try {
      const changed = await refresh();
      if (changed || stale) events.emit(ProviderEvents.ConfigurationChanged, { message: `flag set version ${current?.version}` });
      stale = false;
    } catch (e) {
      stale = true;
      events.emit(ProviderEvents.Stale, { message: (e as Error).message });
    }
  }

  function resolve<T extends boolean | string | number | JsonValue>(type: 'boolean' | 'string' | 'number' | 'object', key: string, dflt: T, ctx: EvaluationContext, logger: Logger): ResolutionDetails<T> {
    if (!core) return { value: dflt, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' as never, errorMessage: 'the stagegate provider has no flag set yet' };
    const r = core.resolve(type, key, dflt, ctx, logger) as ResolutionDetails<T>;
    return r.flagMetadata ? r : { ...r, flagMetadata: {} };
  }

  return {
    metadata: { name: 'stagegate' },
    runsOn: 'server',
    events,
    get current() {
      return current;
    },
    refresh,
    async initialize() {
      await refresh();
      if (interval > 0) {
        timer = setInterval(() => void tick(), Math.max(100, interval));
        timer.unref();
      }
    },
    async onClose() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    resolveBooleanEvaluation: async (key, dflt, ctx, logger) => resolve('boolean', key, dflt, ctx, logger),
    resolveStringEvaluation: async (key, dflt, ctx, logger) => resolve('string', key, dflt, ctx, logger),
    resolveNumberEvaluation: async (key, dflt, ctx, logger) => resolve('number', key, dflt, ctx, logger),
    resolveObjectEvaluation: async <T extends JsonValue>(key: string, dflt: T, ctx: EvaluationContext, logger: Logger) => resolve('object', key, dflt, ctx, logger),
  };
}
