/** HTTP for providers: one request with a timeout, the body read up to a bound, clear errors. */
import { readBoundedText } from '../../http-body.ts';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpResult {
  status: number;
  text: string;
}

export type FetchLike = typeof fetch;

export async function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number; signal: AbortSignal; fetch?: FetchLike },
): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = AbortSignal.any([init.signal, timeout]);
  const where = `${init.method ?? 'GET'} ${redact(url)}`;
  try {
    const res = await (init.fetch ?? fetch)(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body, signal, redirect: 'error' });
    const text = await readBounded(res, where);
    return { status: res.status, text };
  } catch (e) {
    if (timeout.aborted) throw new Error(`${where} timed out after ${init.timeoutMs} ms: raise the provider's timeout or check the endpoint`);
    if (init.signal.aborted) throw new Error(`${where} aborted`);
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${where} failed: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

async function readBounded(res: Response, where: string): Promise<string> {
  const { text, truncated } = await readBoundedText(res, MAX_BODY_BYTES);
  if (truncated) throw new Error(`${where}: the response is larger than ${MAX_BODY_BYTES} bytes`);
  return text;
}

/** a URL for messages: no user info, no query (it may hold a token) */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export function expectOk(r: HttpResult, where: string): void {
  if (r.status < 200 || r.status > 299) throw new Error(`${where} answered HTTP ${r.status}: ${r.text.slice(0, 200).replace(/\s+/g, ' ')}`);
}
