/**
 * JSON Lines masking as a stream: bytes are split on \n with a bounded line length, each line must
 * be one JSON object, fields are matched against the policy's JSON Pointers (`*` = every array
 * item), and each masked record is written as one line. Blank lines are skipped. Errors name the
 * line and the pointer but never quote a value.
 */
import { Transform } from 'node:stream';
import { DomainError } from '../domain/errors.ts';
import { compilePointers, type Ctx, type Json, tooDeep, visit } from './json-walk.ts';
import type { MaskStats } from './actions.ts';
import type { LoadedPolicy } from './policy-load.ts';
import { limits } from './policy-schema.ts';
import type { Prf } from './prf.ts';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function jsonlMasker(opts: { loaded: LoadedPolicy; prf: Prf; input: string; stats: MaskStats }): Transform {
  const root = compilePointers(opts.loaded, opts.prf);
  const max = opts.loaded.policy.maxRecordBytes;
  const ctx: Ctx = { input: opts.input, line: 0, loaded: opts.loaded, stats: opts.stats };
  let parts: Buffer[] = [];
  let pending = 0;
  const lineError = (message: string, fix: string, column?: number) =>
    new DomainError('invalid_input', `${ctx.input}:${ctx.line}${column ? `:${column}` : ''}: ${message}`, { file: ctx.input, line: ctx.line, ...(column ? { column } : {}), fix });

  const handleLine = (bytes: Buffer): string => {
    ctx.line++;
    let text: string;
    try {
      text = decoder.decode(bytes.length && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes);
    } catch {
      throw lineError('is not valid UTF-8', 'save the file as UTF-8');
    }
    if (ctx.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return '';
    let value: Json;
    try {
      value = JSON.parse(text) as Json;
    } catch (e) {
      // V8's message may quote the input, which is production data: keep only the position
      const pos = /position (\d+)/.exec((e as Error).message);
      throw lineError('is not valid JSON', 'write one complete JSON object per line (JSON Lines); check quotes, commas and brackets', pos ? Number(pos[1]) + 1 : undefined);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw lineError('is not a JSON object', 'write one JSON object per line');
    // every walk below (and JSON.stringify) recurses: bound the depth first
    if (tooDeep(value, limits.maxDepth)) throw lineError(`nests deeper than ${limits.maxDepth} levels`, 'flatten the records');
    const out = visit(value, root, [], ctx);
    opts.stats.records++;
    return `${JSON.stringify(out)}\n`;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        let out = '';
        let start = 0;
        for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
          if (pending + nl - start > max) {
            ctx.line++;
            throw lineError(`is longer than maxRecordBytes (${max})`, 'raise maxRecordBytes in the policy, or split the record');
          }
          parts.push(chunk.subarray(start, nl));
          out += handleLine(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
          parts = [];
          pending = 0;
          start = nl + 1;
        }
        const rest = chunk.subarray(start);
        if (pending + rest.length > max) {
          ctx.line++;
          throw lineError(`is longer than maxRecordBytes (${max})`, 'raise maxRecordBytes in the policy, or split the record');
        }
        if (rest.length) {
          parts.push(Buffer.from(rest));
          pending += rest.length;
        }
        done(null, out || undefined);
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        done(null, pending ? handleLine(Buffer.concat(parts)) || undefined : undefined);
      } catch (e) {
        done(e as Error);
      }
    },
  });
}
