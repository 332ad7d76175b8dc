/**
 * The request path of the weighted proxy: route, apply injected faults, forward through http-proxy-3
 * with the backend's keep-alive agent, label the response with `X-Stagegate-Version`, count the
 * attempt, feed the breaker, and retry a bodiless GET/HEAD once on another version when the backend
 * failed before responding (else 502 with a body that says what failed).
 */
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { ProxyServer } from 'http-proxy-3';
import { type BackendState, attemptEnded } from './backend.ts';

export const VERSION_HEADER = 'x-stagegate-version';

export interface Router {
  route(req: http.IncomingMessage): { ok: true; backend: BackendState } | { ok: false; status: number; message: string };
  /** a routable backend other than those tried (weight > 0 first) */
  other(tried: ReadonlySet<string>): BackendState | undefined;
}

export interface Totals {
  requests: number;
  /** answered with status >= 500, or cut because the backend failed mid-response */
  failed: number;
  /** the client went away before the response ended (not a failure of the proxy) */
  aborted: number;
  retries: number;
}

interface Attempt {
  b: BackendState;
  start: bigint;
  begun: boolean;
  ended: boolean;
  injected: boolean;
  settle?: (ok: boolean) => void;
  timer?: NodeJS.Timeout;
}

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  tried: Set<string>;
  attempt?: Attempt;
  done: boolean;
}

export interface ForwardDeps {
  proxy: ProxyServer;
  router: Router;
  totals: Totals;
  countInjected: boolean;
  proxyTimeoutMs: number;
  random: () => number;
  timers: Set<NodeJS.Timeout>;
  onRetry(from: BackendState, to: BackendState, error: string): void;
}

const retryable = (req: http.IncomingMessage): boolean =>
  (req.method === 'GET' || req.method === 'HEAD') && req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] ?? '0') === '0';

/** responses the proxy cut itself (the backend failed after the response had started) */
const cut = new WeakSet<http.ServerResponse>();
const cutOff = (res: http.ServerResponse): void => {
  cut.add(res);
  res.destroy();
};

function reply(res: http.ServerResponse, status: number, body: string, version?: string): void {
  if (res.headersSent) {
    cutOff(res);
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...(version ? { [VERSION_HEADER]: version } : {}) });
  res.end(`${body}\n`);
}

export function createForwarder(deps: ForwardDeps) {
  const contexts = new WeakMap<http.IncomingMessage, Ctx>();

  const endAttempt = (a: Attempt, outcome: 'ok' | 'error', breakerOk: boolean): void => {
    if (a.ended) return;
    a.ended = true;
    if (a.timer) {
      clearTimeout(a.timer);
      deps.timers.delete(a.timer);
    }
    if (outcome === 'error') a.b.errors += 1;
    a.b.latency.record(Number(process.hrtime.bigint() - a.start) / 1e6);
    a.settle?.(breakerOk);
    attemptEnded(a.b);
  };

  deps.proxy.on('proxyRes', (proxyRes, req, res) => {
    const a = contexts.get(req)?.attempt;
    if (!a) return;
    proxyRes.headers[VERSION_HEADER] = a.b.version;
    a.settle?.((proxyRes.statusCode ?? 500) < 500);
    proxyRes.once('error', () => cutOff(res));
    proxyRes.once('aborted', () => cutOff(res));
  });

  const forward = (ctx: Ctx, a: Attempt, isRetry: boolean): void => {
    if (ctx.done) {
      endAttempt(a, 'ok', true);
      return;
    }
    const inj = a.b.injection;
    if (inj.errorRate > 0 && deps.random() < inj.errorRate) {
      a.injected = true;
      reply(ctx.res, 503, `stagegate proxy: injected fault for version ${a.b.version} (errorRate ${inj.errorRate})`, a.b.version);
      return;
    }
    const options = { target: a.b.url.href, agent: a.b.agent, proxyTimeout: deps.proxyTimeoutMs, ...(isRetry ? { buffer: Readable.from([], { objectMode: false }) } : {}) };
    deps.proxy.web(ctx.req, ctx.res, options, (err) => onError(ctx, a, err as NodeJS.ErrnoException));
  };

  const begin = (ctx: Ctx, a: Attempt, isRetry: boolean): void => {
    a.begun = true;
    const ms = a.b.injection.latencyMs;
    if (ms <= 0 || ctx.done) {
      forward(ctx, a, isRetry);
      return;
    }
    const t = setTimeout(() => {
      deps.timers.delete(t);
      a.timer = undefined;
      forward(ctx, a, isRetry);
    }, ms);
    a.timer = t;
    deps.timers.add(t);
  };

  const start = (ctx: Ctx, b: BackendState, isRetry: boolean): void => {
    const a: Attempt = { b, start: process.hrtime.bigint(), begun: false, ended: false, injected: false };
    ctx.attempt = a;
    ctx.tried.add(b.version);
    b.inFlight += 1;
    b.requests += 1;
    let settled = false;
    b.breaker
      .execute(
        () =>
          new Promise<void>((resolve, reject) => {
            a.settle = (ok) => {
              if (settled) return;
              settled = true;
              if (ok) resolve();
              else reject(new Error(`version ${b.version} failed`));
            };
            begin(ctx, a, isRetry);
          }),
      )
      .catch(() => {
        if (a.begun) return; // the breaker refused before the backend was touched: undo and go elsewhere
        a.ended = true;
        b.requests -= 1;
        attemptEnded(b);
        const other = deps.router.other(ctx.tried);
        if (other && !ctx.done) start(ctx, other, isRetry);
        else if (!ctx.done) reply(ctx.res, 503, `stagegate proxy: version ${b.version} is unavailable (circuit breaker open) and no other version can serve`);
      });
  };

  const onError = (ctx: Ctx, a: Attempt, err: NodeJS.ErrnoException): void => {
    if (a.ended) return;
    const code = err.code ?? err.message;
    endAttempt(a, 'error', false);
    if (ctx.done) return;
    if (ctx.res.headersSent) {
      cutOff(ctx.res);
      return;
    }
    let why = 'the request is not a bodiless GET or HEAD, so it is not retried';
    if (retryable(ctx.req)) {
      const other = ctx.tried.size < 2 ? deps.router.other(ctx.tried) : undefined;
      if (other) {
        deps.totals.retries += 1;
        deps.onRetry(a.b, other, code);
        start(ctx, other, true);
        return;
      }
      why = ctx.tried.size < 2 ? 'no other healthy version can serve it' : 'it was already retried once';
    }
    reply(ctx.res, 502, `stagegate proxy: version ${a.b.version} at ${a.b.url.origin} failed before responding (${code}); ${why}`, a.b.version);
  };

  return function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const ctx: Ctx = { req, res, tried: new Set(), done: false };
    contexts.set(req, ctx);
    deps.totals.requests += 1;
    res.once('close', () => {
      ctx.done = true;
      if (res.statusCode >= 500 || cut.has(res)) deps.totals.failed += 1;
      else if (!res.writableFinished) deps.totals.aborted += 1;
      const a = ctx.attempt;
      if (!a || a.ended) return;
      const error = res.statusCode >= 500 || cut.has(res);
      endAttempt(a, error ? 'error' : 'ok', !error || (a.injected && !deps.countInjected));
    });
    const r = deps.router.route(req);
    if (!r.ok) {
      reply(res, r.status, r.message);
      return;
    }
    start(ctx, r.backend, false);
  };
}
