/**
 * OFREP endpoints (https://openfeature.dev/specification/appendix-c, the OFREP OpenAPI): evaluate one
 * flag or every flag for a context. The environment comes from the credential (scope
 * `flag.evaluate:ENV`) or the `X-Stagegate-Environment` header. Bulk answers carry an ETag and
 * answer 304 to a matching If-None-Match.
 */
import type { Engine } from '../../engine/engine.ts';
import { parseContext } from '../../flags/ofrep.ts';
import type { HttpContext, Route } from '../http.ts';

const envHeader = (c: HttpContext): string | undefined => {
  const h = c.req.headers['x-stagegate-environment'];
  return typeof h === 'string' && h !== '' ? h : undefined;
};

export function ofrepRoutes(engine: Engine): Route[] {
  const o = engine.flags.ofrep;
  return [
    {
      method: 'POST',
      pattern: /^\/ofrep\/v1\/evaluate\/flags\/(?<key>[^/]{1,256})$/,
      auth: true,
      handler: async (c) => {
        const key = c.params['key']!;
        const parsed = parseContext(c.body);
        // authorize before saying anything about the body or the flag
        if (!parsed.ok) {
          await o.authorize(c.ctx, envHeader(c));
          return { status: 400, json: { key, errorCode: 'INVALID_CONTEXT', errorDetails: parsed.details } };
        }
        const r = await o.evaluate(c.ctx, envHeader(c), key, parsed.context);
        if ('errorCode' in r) return { status: r.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400, json: r };
        return { status: 200, json: r };
      },
    },
    {
      method: 'POST',
      pattern: /^\/ofrep\/v1\/evaluate\/flags$/,
      auth: true,
      handler: async (c) => {
        const parsed = parseContext(c.body);
        if (!parsed.ok) {
          await o.authorize(c.ctx, envHeader(c));
          return { status: 400, json: { errorCode: 'INVALID_CONTEXT', errorDetails: parsed.details } };
        }
        const r = await o.evaluateAll(c.ctx, envHeader(c), parsed.context);
        const headers = { etag: r.etag };
        const inm = c.req.headers['if-none-match'];
        if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === r.etag)) return { status: 304, text: '', headers };
        return { status: 200, json: { flags: r.flags, metadata: { environment: r.environment, version: r.version } }, headers };
      },
    },
  ];
}
