/**
 * GET /v1/events: server-sent events (attestation findings and their clearing). Authenticated and
 * authorized (attestation.read); at most a bounded number of streams at once; a comment line every
 * 15 s keeps proxies from closing an idle stream. `?maxSeconds=N` ends the stream after N seconds.
 */
import type { Engine } from '../../engine/engine.ts';
import type { Route } from '../http.ts';
import { intParam } from '../params.ts';

const HEARTBEAT_MS = 15_000;

export function eventRoutes(engine: Engine): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/v1\/events$/,
      auth: true,
      handler: async (c) => {
        const maxSeconds = intParam(c.query, 'maxSeconds', undefined, 0, 86_400);
        const abort = new AbortController();
        const end = () => abort.abort();
        c.req.socket.once('close', end);
        const events = await engine.parity.subscribe(c.ctx, abort.signal);
        const limit = maxSeconds !== undefined ? setTimeout(end, maxSeconds * 1000) : undefined;
        async function* lines(): AsyncIterable<string> {
          const it = events[Symbol.asyncIterator]();
          try {
            yield ': stagegate events\n';
            let pending = it.next();
            for (;;) {
              let beat: NodeJS.Timeout | undefined;
              const tick = new Promise<'beat'>((resolve) => (beat = setTimeout(() => resolve('beat'), HEARTBEAT_MS)));
              const r = await Promise.race([pending, tick]);
              clearTimeout(beat);
              if (r === 'beat') {
                yield ': keep-alive\n';
                continue;
              }
              if (r.done) return;
              pending = it.next();
              yield `id: ${r.value.id}\nevent: ${r.value.type}\ndata: ${JSON.stringify({ time: r.value.time, ...r.value.data })}\n`;
            }
          } finally {
            abort.abort();
            await it.return?.();
            if (limit) clearTimeout(limit);
            c.req.socket.off('close', end);
          }
        }
        return { status: 200, contentType: 'text/event-stream; charset=utf-8', lines: lines() };
      },
    },
  ];
}
