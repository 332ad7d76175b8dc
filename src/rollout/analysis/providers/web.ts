/** An HTTP call whose JSON answer, narrowed by a JSON path, is the result. */
import type { z } from 'zod';
import { parseFineDuration } from '../../../domain/duration.ts';
import type { Provider } from '../measurement.ts';
import type { webProviderSchema } from '../provider-schema.ts';
import { expectOk, type FetchLike, httpRequest, redact } from './http.ts';
import { parseJsonPath, selectJsonPath } from './json-path.ts';

export type WebSpec = z.output<typeof webProviderSchema>;

export function webProvider(spec: WebSpec, deps: { fetch?: FetchLike } = {}): Provider {
  const timeoutMs = parseFineDuration(spec.timeout) ?? 10_000;
  const steps = parseJsonPath(spec.jsonPath);
  const where = `${spec.method} ${redact(spec.url)}`;
  const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  return {
    async measure(signal) {
      const r = await httpRequest(spec.url, { method: spec.method, headers, body, timeoutMs, signal, fetch: deps.fetch });
      expectOk(r, where);
      let json: unknown;
      try {
        json = JSON.parse(r.text);
      } catch {
        throw new Error(`${where}: the answer is not JSON: ${r.text.slice(0, 100).replace(/\s+/g, ' ')}`);
      }
      return selectJsonPath(json, steps, spec.jsonPath);
    },
  };
}
