/**
 * The control API's routes: method + path pattern -> handler over the local host. Path versions,
 * query numbers and JSON bodies are validated with zod here; a problem is invalid_input naming the
 * field (`body.weights`, `version`, `query.timeoutMs`).
 */
import type { z } from 'zod';
import { zodProblem } from '../../crypto/dsse.ts';
import { DomainError } from '../../domain/errors.ts';
import { MAX_WAIT_MS } from './host-files.ts';
import type { LocalHost } from './local-host.ts';
import { injectSchema, trafficSchema, versionSchema, versionSpecSchema } from './version-spec.ts';

export interface ControlRoute {
  method: string;
  pattern: RegExp;
  handler: (c: { params: string[]; query: URLSearchParams; body: unknown }) => Promise<unknown> | unknown;
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = zodProblem(r.error, where);
  throw new DomainError('invalid_input', `${field}: ${message}`, { field, fix: 'see docs/local-target.md for the control API and its bounds' });
}

const versionParam = (raw: string | undefined): string => {
  let v: string;
  try {
    v = decodeURIComponent(raw ?? '');
  } catch {
    v = '\0';
  }
  return parse(versionSchema, v, 'version');
};
const intQuery = (q: URLSearchParams, name: string, max: number): number | undefined => {
  const raw = q.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!/^\d{1,9}$/.test(raw) || n > max) throw new DomainError('invalid_input', `query.${name}: must be an integer from 0 to ${max}, got ${JSON.stringify(raw.slice(0, 20))}`, { field: `query.${name}`, fix: `pass ${name}=<0..${max}>` });
  return n;
};

export function controlRoutes(host: LocalHost, deps: { pid: number; events: { after(n: number): unknown[] }; shutdown: () => void; spec: unknown }): ControlRoute[] {
  const V = '([^/?]+)';
  return [
    { method: 'GET', pattern: /^\/state$/, handler: () => ({ pid: deps.pid, proxyUrl: host.proxyUrl, spec: deps.spec, ...host.state() }) },
    { method: 'PUT', pattern: new RegExp(`^/versions/${V}$`), handler: ({ params, body }) => host.putVersion(versionParam(params[0]), parse(versionSpecSchema, body ?? {}, 'body')) },
    {
      method: 'GET',
      pattern: new RegExp(`^/versions/${V}/wait-ready$`),
      handler: async ({ params, query }) => {
        const version = versionParam(params[0]);
        const timeoutMs = intQuery(query, 'timeoutMs', MAX_WAIT_MS) ?? 30_000;
        const r = host.get(version);
        await r.waitSettled(timeoutMs);
        return r.state();
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/versions/${V}$`),
      handler: ({ params, query }) => host.stopVersion(versionParam(params[0]), intQuery(query, 'drainTimeoutMs', 600_000)),
    },
    { method: 'PUT', pattern: /^\/traffic$/, handler: ({ body }) => host.setTraffic(parse(trafficSchema, body, 'body')) },
    {
      method: 'PUT',
      pattern: /^\/inject$/,
      handler: ({ body }) => {
        const { version, ...fault } = parse(injectSchema, body, 'body');
        host.inject(version, fault);
        return { version, ...fault };
      },
    },
    { method: 'GET', pattern: /^\/stats$/, handler: () => host.stats() },
    {
      method: 'POST',
      pattern: /^\/stats\/reset$/,
      handler: () => {
        host.resetStats();
        return { reset: true };
      },
    },
    { method: 'GET', pattern: /^\/events$/, handler: ({ query }) => ({ events: deps.events.after(intQuery(query, 'after', 1e9) ?? 0) }) },
    {
      method: 'POST',
      pattern: /^\/shutdown$/,
      handler: () => {
        deps.shutdown();
        return { shuttingDown: true };
      },
    },
  ];
}

export async function routeRequest(routes: ControlRoute[], method: string, rawUrl: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const url = new URL(rawUrl.slice(0, 4096), 'http://host');
  const onPath = routes.filter((r) => r.pattern.test(url.pathname));
  const route = onPath.find((r) => r.method === method);
  if (!route) {
    throw new DomainError(onPath.length ? 'invalid_input' : 'not_found', `${method} ${url.pathname.slice(0, 200)}: ${onPath.length ? 'method not allowed' : 'no such control endpoint'}`, { field: 'path', fix: 'see docs/local-target.md for the control API' });
  }
  const params = (url.pathname.match(route.pattern) ?? []).slice(1);
  return { status: 200, json: await route.handler({ params, query: url.searchParams, body }) };
}
