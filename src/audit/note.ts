/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, wire-compatible with Go's
 * golang.org/x/mod/sumdb/note: verifier key `<name>+<hex8 key id>+<base64(0x01 || pubkey)>`,
 * signer key `PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>`, signature lines
 * `— <name> <base64(key id || signature)>`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';

export const MAX_NOTE_BYTES = 1024 * 1024;
const MAX_SIGNATURES = 100;
const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface NoteVerifier {
  name: string;
  keyId: number;
  publicKey: KeyObject;
}
export interface NoteSigner {
  name: string;
  keyId: number;
  privateKey: KeyObject;
}
export type VerifyNoteResult = { ok: true; body: string } | { ok: false; reason: string };

/** Names: non-empty, no whitespace, no `+`. */
export const isValidKeyName = (name: string): boolean =>
  name.length > 0 && name.length <= 256 && !/[\s+]/u.test(name) && !/\p{C}/u.test(name);

const strictBase64 = (s: string): Buffer | undefined => (s.length > 0 && B64.test(s) ? Buffer.from(s, 'base64') : undefined);

export function keyIdOf(name: string, alg: number, key: Uint8Array): number {
  const h = createHash('sha256').update(name, 'utf8').update('\n').update(Uint8Array.of(alg)).update(key).digest();
  return h.readUInt32BE(0);
}

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

function keyError(what: 'verifier' | 'signer', message: string): DomainError {
  return new DomainError('invalid_input', `${what} key: ${message}`, {
    field: `${what}Key`,
    fix:
      what === 'verifier'
        ? 'pass a note verifier key like `example.com/log+1a2b3c4d+AbC...` (as printed by `stagegate keys`)'
        : 'pass a note signer key like `PRIVATE+KEY+example.com/log+1a2b3c4d+AbC...`',
  });
}

/** Parse `name+keyid+base64` (the shared shape of both key texts) and check the key id. */
function parseKeyParts(what: 'verifier' | 'signer', text: string): { name: string; keyId: number; key: Buffer } {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) return fail('expected <name>+<key id>+<key data>');
  const [name, id, data] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  if (!isValidKeyName(name)) return fail(`name ${JSON.stringify(name)} is empty or has spaces or '+'`);
  if (!/^[0-9a-fA-F]{8}$/.test(id)) return fail(`key id ${JSON.stringify(id)} is not 8 hex digits`);
  const raw = strictBase64(data);
  if (raw === undefined) return fail('key data is not base64');
  if (raw[0] !== ALG_ED25519) return fail(`key algorithm ${raw[0] ?? 'none'} is not Ed25519 (1)`);
  const key = raw.subarray(1);
  if (key.length !== 32) return fail(`Ed25519 key must be 32 bytes, got ${key.length}`);
  const keyId = Number.parseInt(id, 16);
  const pub = what === 'verifier' ? key : publicFromSeed(key);
  if (keyIdOf(name, ALG_ED25519, pub) !== keyId) return fail(`key id ${id} does not match the key`);
  return { name, keyId, key };

  function fail(message: string): never {
    throw keyError(what, message);
  }
}

function publicFromSeed(seed: Uint8Array): Buffer {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function parseVerifierKey(text: string): NoteVerifier {
  const { name, keyId, key } = parseKeyParts('verifier', text);
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, key]), format: 'der', type: 'spki' });
    return { name, keyId, publicKey };
  } catch {
    throw keyError('verifier', 'the Ed25519 public key is not valid');
  }
}

export function parseSignerKey(text: string): NoteSigner {
  const prefix = 'PRIVATE+KEY+';
  if (!text.startsWith(prefix)) throw keyError('signer', `must start with ${prefix}`);
  const { name, keyId, key } = parseKeyParts('signer', text.slice(prefix.length));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, key]), format: 'der', type: 'pkcs8' });
  return { name, keyId, privateKey };
}

/** A fresh Ed25519 note key pair in Go's text forms. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw keyError('signer', `name ${JSON.stringify(name)} is empty or has spaces or '+'`);
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const id = hex8(keyIdOf(name, ALG_ED25519, pub));
  const enc = (k: Uint8Array): string => Buffer.concat([Uint8Array.of(ALG_ED25519), k]).toString('base64');
  return { signerKey: `PRIVATE+KEY+${name}+${id}+${enc(seed)}`, verifierKey: `${name}+${id}+${enc(pub)}` };
}

/** The verifier key text that matches a signer key text. */
export function verifierKeyFor(signerKeyText: string): string {
  const s = parseSignerKey(signerKeyText);
  const pub = createPublicKey(s.privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
  return `${s.name}+${hex8(s.keyId)}+${Buffer.concat([Uint8Array.of(ALG_ED25519), pub]).toString('base64')}`;
}

/** Text rule of Go's note package: valid UTF-8 with no ASCII control characters but newline. */
function textProblem(text: string): string | undefined {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) return 'contains a control character other than newline';
  if (/[\uD800-\uDFFF]/u.test(text)) return 'is not valid UTF-8 (lone surrogate)';
  return undefined;
}

export function signNote(body: string, signer: NoteSigner | string): string {
  const s = typeof signer === 'string' ? parseSignerKey(signer) : signer;
  const problem = textProblem(body) ?? (body.endsWith('\n') ? undefined : 'does not end with a newline');
  if (problem !== undefined || Buffer.byteLength(body) > MAX_NOTE_BYTES - 4096) {
    throw new DomainError('invalid_input', `note body ${problem ?? 'is too long'}`, {
      fix: 'a note body is lines of text without control characters, ending with a newline, under 1 MiB',
    });
  }
  const sig = sign(null, Buffer.from(body, 'utf8'), s.privateKey);
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(s.keyId);
  return `${body}\n${SIG_PREFIX}${s.name} ${Buffer.concat([idBytes, sig]).toString('base64')}\n`;
}

/**
 * Verify a note against one verifier key. Signatures by unknown keys are not counted; a note
 * with no valid signature by the given key fails. Never throws.
 */
export function verifyNote(noteText: string, verifierKey: NoteVerifier | string): VerifyNoteResult {
  let v: NoteVerifier;
  try {
    v = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  if (typeof noteText !== 'string') return { ok: false, reason: 'note is not text' };
  if (Buffer.byteLength(noteText, 'utf8') > MAX_NOTE_BYTES) return { ok: false, reason: 'note is over 1 MiB' };
  const problem = textProblem(noteText);
  if (problem !== undefined) return { ok: false, reason: `note ${problem}` };
  const split = noteText.lastIndexOf('\n\n');
  if (split < 0) return { ok: false, reason: 'note has no blank line before its signatures' };
  const body = noteText.slice(0, split + 1);
  const sigBlock = noteText.slice(split + 2);
  if (sigBlock.length === 0 || !sigBlock.endsWith('\n')) {
    return { ok: false, reason: 'note signature block is empty or does not end with a newline' };
  }
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return { ok: false, reason: `note has more than ${MAX_SIGNATURES} signatures` };
  let verified = false;
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) return { ok: false, reason: `signature line does not start with "— ": ${line.slice(0, 40)}` };
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const sig = strictBase64(space < 0 ? '' : rest.slice(space + 1));
    if (!isValidKeyName(name) || sig === undefined || sig.length < 5) {
      return { ok: false, reason: `malformed signature line for ${JSON.stringify(name)}` };
    }
    if (name !== v.name || sig.readUInt32BE(0) !== v.keyId) continue;
    if (!verify(null, Buffer.from(body, 'utf8'), v.publicKey, sig.subarray(4))) {
      return { ok: false, reason: `the signature by ${name} does not verify: the note was changed or signed by another key` };
    }
    verified = true;
  }
  if (!verified) return { ok: false, reason: `the note has no signature by ${v.name}+${hex8(v.keyId)}` };
  return { ok: true, body };
}
