/**
 * Our own SOPS reader and writer for age recipients. See docs/secrets.md for the format.
 *
 * - every leaf is AES-256-GCM encrypted under a random 32-byte data key (value-cipher.ts);
 * - the data key is wrapped to each age recipient as an ASCII-armored age file (`sops.age[].enc`);
 * - the MAC is SHA-512 over the plaintext bytes of every leaf in document order, as upper-case hex,
 *   encrypted under the data key with `sops.lastmodified` as additional data. It is always verified.
 * - stagegate's `created` / `rotate_by` metadata lives in the document under `stagegate_meta`
 *   (dotenv: `stagegate_meta__created`, `stagegate_meta__rotate_by`), so it is encrypted and MAC'd.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Decrypter, Encrypter, armor, identityToRecipient } from 'age-encryption';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import {
  type EmittedSopsMeta,
  type MapNode,
  type SopsFormat,
  type TreeNode,
  emitSopsText,
  fromPlain,
  parseSopsText,
  toPlain,
} from './tree.ts';
import { decryptLeaf, decryptString, encryptLeaf, encryptString, isEncrypted, leafBytes } from './value-cipher.ts';
import type { Leaf } from './value-cipher.ts';

export type { SopsFormat } from './tree.ts';
export { sopsFormats } from './tree.ts';

export const MAX_SOPS_BYTES = 1024 * 1024;
export const MAX_RECIPIENTS = 32;
export const SOPS_VERSION = '3.9.2';
export const UNENCRYPTED_SUFFIX = '_unencrypted';
export const META_KEY = 'stagegate_meta';

export interface SecretMeta {
  /** RFC 3339 */
  created: string;
  /** RFC 3339: the secret is overdue after this instant */
  rotate_by: string;
}

export interface DecryptedSops {
  /** the plaintext document, without `sops` and without `stagegate_meta` */
  data: Record<string, unknown>;
  /** `created` / `rotate_by` when present (covered by the MAC) */
  meta: SecretMeta | undefined;
  recipients: string[];
  lastModified: string;
  version: string;
}

const rfc3339 = z.string().max(64).regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/);
const secretMetaSchema = z.object({ created: rfc3339, rotate_by: rfc3339 }).strict();
const ageRecipient = z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an age X25519 recipient (age1...)');
const ageIdentity = z.string().regex(/^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/, 'an age X25519 identity');

const sopsMetaSchema = z
  .object({
    age: z
      .array(z.object({ recipient: z.string().max(200), enc: z.string().max(4096) }).loose())
      .min(1)
      .max(MAX_RECIPIENTS),
    lastmodified: z.string().max(64),
    mac: z.string().max(1024),
    version: z.string().max(32),
    unencrypted_suffix: z.string().max(200).optional(),
    encrypted_suffix: z.string().max(200).optional(),
    unencrypted_regex: z.string().max(500).optional(),
    encrypted_regex: z.string().max(500).optional(),
    mac_only_encrypted: z.union([z.boolean(), z.literal('false')]).optional(),
    shamir_threshold: z.never().optional(),
    key_groups: z.never().optional(),
    unencrypted_comment_regex: z.never().optional(),
    encrypted_comment_regex: z.never().optional(),
  })
  .loose();
type SopsMeta = z.infer<typeof sopsMetaSchema>;

const fail = (message: string, fix: string, field?: string): DomainError =>
  new DomainError('invalid_input', message, { ...(field ? { field } : {}), fix });

function boundText(text: string): void {
  if (typeof text !== 'string') throw fail('a SOPS file must be text', 'pass the file contents as a string');
  if (Buffer.byteLength(text, 'utf8') > MAX_SOPS_BYTES) {
    throw new DomainError('payload_too_large', `the SOPS file is over ${MAX_SOPS_BYTES} bytes`, {
      fix: 'split the secrets over several files',
    });
  }
}

function parseList<T>(schema: z.ZodType<T>, values: unknown, what: string): T[] {
  const r = z.array(schema).min(1).max(MAX_RECIPIENTS).safeParse(values);
  if (!r.success) {
    throw fail(`invalid ${what}: ${r.error.issues[0]?.message ?? 'bad value'}`, `pass 1 to ${MAX_RECIPIENTS} ${what}`);
  }
  return r.data;
}

// ---------- which values are encrypted (sops' shouldBeEncrypted, minus comment rules) ----------

interface Rules {
  unencryptedSuffix: string | undefined;
  encryptedSuffix: string | undefined;
  unencryptedRegex: RegExp | undefined;
  encryptedRegex: RegExp | undefined;
}

function rulesOf(meta: SopsMeta): Rules {
  const re = (s: string | undefined, field: string): RegExp | undefined => {
    if (!s) return undefined;
    try {
      return new RegExp(s, 'u');
    } catch {
      throw fail(`sops.${field} is not a valid regular expression`, 'fix the pattern', `sops.${field}`);
    }
  };
  return {
    unencryptedSuffix: meta.unencrypted_suffix || undefined,
    encryptedSuffix: meta.encrypted_suffix || undefined,
    unencryptedRegex: re(meta.unencrypted_regex, 'unencrypted_regex'),
    encryptedRegex: re(meta.encrypted_regex, 'encrypted_regex'),
  };
}

function shouldEncrypt(path: string[], r: Rules): boolean {
  let enc = true;
  if (r.unencryptedSuffix && path.some((p) => p.endsWith(r.unencryptedSuffix as string))) enc = false;
  if (r.encryptedSuffix) enc = path.some((p) => p.endsWith(r.encryptedSuffix as string));
  if (r.unencryptedRegex && path.some((p) => (r.unencryptedRegex as RegExp).test(p))) enc = false;
  if (r.encryptedRegex) enc = path.some((p) => (r.encryptedRegex as RegExp).test(p));
  return enc;
}

/** Walk leaves in document order (list indexes are not part of the sops path). */
function mapLeaves(
  node: TreeNode,
  path: string[],
  display: string,
  fn: (leaf: Leaf, path: string[], display: string) => Leaf,
): TreeNode {
  switch (node.k) {
    case 'leaf':
      return { k: 'leaf', leaf: fn(node.leaf, path, display) };
    case 'list':
      return { k: 'list', items: node.items.map((n, i) => mapLeaves(n, path, `${display}[${i}]`, fn)) };
    case 'map':
      return {
        k: 'map',
        entries: node.entries.map(([key, n]) => [key, mapLeaves(n, [...path, key], display ? `${display}.${key}` : key, fn)]),
      };
  }
}

// ---------- data key ----------

async function unwrapDataKey(meta: SopsMeta, identities: string[]): Promise<Uint8Array> {
  const mine = new Set(await Promise.all(identities.map((i) => identityToRecipient(i))));
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  const candidates = [...meta.age].sort((a, b) => Number(mine.has(b.recipient)) - Number(mine.has(a.recipient)));
  for (const entry of candidates) {
    let file: Uint8Array;
    try {
      file = armor.decode(entry.enc);
    } catch {
      throw fail(`the age block for ${entry.recipient} is not ASCII-armored age`, 'restore the file', 'sops.age');
    }
    try {
      const key = await d.decrypt(file);
      if (key.length !== 32) throw fail('the wrapped data key is not 32 bytes', 'restore the file', 'sops.age');
      return key;
    } catch (e) {
      if (e instanceof DomainError) throw e;
      // not for these identities: try the next block
    }
  }
  throw new DomainError('forbidden', 'none of the given age identities can unwrap the data key of this SOPS file', {
    field: 'sops.age',
    recipients: meta.age.map((a) => a.recipient),
    fix: 'use the identity of one of the listed recipients, or ask an owner to rewrap the file for you',
  });
}

async function wrapDataKey(key: Uint8Array, recipients: string[]): Promise<Array<{ recipient: string; enc: string }>> {
  const out: Array<{ recipient: string; enc: string }> = [];
  for (const recipient of recipients) {
    const e = new Encrypter();
    e.addRecipient(recipient);
    out.push({ recipient, enc: armor.encode(await e.encrypt(key)) });
  }
  return out;
}

// ---------- read ----------

interface Opened {
  body: MapNode;
  /** the plaintext tree */
  plain: MapNode;
  meta: SopsMeta;
  key: Uint8Array;
}

function readMeta(raw: unknown): SopsMeta {
  if (raw === undefined) throw fail('the file has no sops metadata: it is not a SOPS file', 'encrypt it with stagegate or sops', 'sops');
  const r = sopsMetaSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = `sops.${issue?.path.join('.') ?? ''}`;
    throw fail(`invalid SOPS metadata at ${field}: ${issue?.message ?? 'bad value'}`, 'only age recipients, without key groups or comment rules, are supported', field);
  }
  if (r.data.mac_only_encrypted === true) {
    throw fail('sops.mac_only_encrypted is not supported', 're-encrypt the file without mac_only_encrypted', 'sops.mac_only_encrypted');
  }
  return r.data;
}

async function open(text: string, format: SopsFormat, identitiesIn: unknown): Promise<Opened> {
  boundText(text);
  const identities = parseList(ageIdentity, identitiesIn, 'age identities (AGE-SECRET-KEY-1...)');
  const parsed = parseSopsText(text, format);
  const meta = readMeta(parsed.sops);
  const key = await unwrapDataKey(meta, identities);
  const rules = rulesOf(meta);
  const hash = createHash('sha512');
  const plain = mapLeaves(parsed.body, [], '', (leaf, path, display) => {
    let out: Leaf = leaf;
    if (leaf.t !== 'null' && shouldEncrypt(path, rules)) {
      if (leaf.t !== 'str' || (leaf.v !== '' && !isEncrypted(leaf.v))) {
        throw new DomainError('digest_mismatch', `the value at ${display} should be encrypted but is plaintext`, {
          field: display,
          fix: 'restore the file from version control; do not edit encrypted files by hand',
        });
      }
      out = decryptLeaf(leaf.v, key, `${path.join(':')}:`, display);
    }
    if (out.t !== 'null') hash.update(leafBytes(out), 'utf8');
    return out;
  }) as MapNode;
  const computed = hash.digest('hex').toUpperCase();
  const stored = decryptString(meta.mac, key, meta.lastmodified, 'sops.mac').text;
  const a = Buffer.from(computed);
  const b = Buffer.from(stored);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new DomainError(
      'digest_mismatch',
      'the SOPS MAC does not match the values: a value was added, removed, reordered or replaced',
      { field: 'sops.mac', fix: 'restore the file from version control; do not edit encrypted files by hand' },
    );
  }
  return { body: parsed.body, plain, meta, key };
}

function splitMeta(plain: MapNode, format: SopsFormat): { data: MapNode; meta: SecretMeta | undefined } {
  if (format === 'dotenv') {
    const created = plain.entries.find(([k]) => k === `${META_KEY}__created`);
    const rotateBy = plain.entries.find(([k]) => k === `${META_KEY}__rotate_by`);
    const data: MapNode = { k: 'map', entries: plain.entries.filter(([k]) => !k.startsWith(`${META_KEY}__`)) };
    if (!created && !rotateBy) return { data, meta: undefined };
    return { data, meta: checkMeta({ created: created && toPlain(created[1]), rotate_by: rotateBy && toPlain(rotateBy[1]) }) };
  }
  const entry = plain.entries.find(([k]) => k === META_KEY);
  const data: MapNode = { k: 'map', entries: plain.entries.filter(([k]) => k !== META_KEY) };
  return { data, meta: entry ? checkMeta(toPlain(entry[1])) : undefined };
}

function checkMeta(v: unknown): SecretMeta {
  const r = secretMetaSchema.safeParse(v);
  if (!r.success) {
    throw fail(`invalid ${META_KEY}: ${r.error.issues[0]?.message ?? 'bad value'}`, 'created and rotate_by must be RFC 3339 timestamps', META_KEY);
  }
  if (Date.parse(r.data.rotate_by) < Date.parse(r.data.created)) {
    throw fail(`${META_KEY}.rotate_by is before created`, 'set rotate_by after created', `${META_KEY}.rotate_by`);
  }
  return r.data;
}

export interface DecryptOptions {
  format: SopsFormat;
  /** age identities, `AGE-SECRET-KEY-1...` */
  identities: string[];
}

/** Decrypt a SOPS file; the MAC is always verified. Errors never include plaintext values. */
export async function decryptSopsFile(text: string, opts: DecryptOptions): Promise<DecryptedSops> {
  const o = await open(text, opts.format, opts.identities);
  const { data, meta } = splitMeta(o.plain, opts.format);
  return {
    data: toPlain(data) as Record<string, unknown>,
    meta,
    recipients: o.meta.age.map((a) => a.recipient),
    lastModified: o.meta.lastmodified,
    version: o.meta.version,
  };
}

// ---------- write ----------

export interface EncryptOptions {
  format: SopsFormat;
  /** age recipients, `age1...`: one per environment plus the offline recovery recipient */
  recipients: string[];
  metadata?: SecretMeta;
  /** clock for `lastmodified` (tests) */
  now?: () => Date;
}

const rfc3339Seconds = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

function plainToBody(plain: unknown, format: SopsFormat): MapNode {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw fail('the plaintext document must be an object', 'pass an object (or a KEY -> value map for dotenv)');
  }
  const record = plain as Record<string, unknown>;
  if ('sops' in record) throw fail('the key "sops" is reserved at the top level', 'rename the key', 'sops');
  const reserved = Object.keys(record).find((k) => k === META_KEY || k.startsWith(`${META_KEY}__`));
  if (reserved) throw fail(`the key "${reserved}" is reserved for stagegate metadata`, 'rename the key', reserved);
  if (format === 'dotenv') {
    for (const [key, v] of Object.entries(record)) {
      if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,199}$/.test(key) || key.startsWith('sops_')) {
        throw fail(`"${key.slice(0, 60)}" is not a valid dotenv key`, 'use letters, digits and _ (not starting with sops_)', key);
      }
      if (typeof v !== 'string') throw fail(`dotenv values must be strings; ${key} is not`, 'convert the value to a string', key);
    }
  }
  const node = fromPlain(plain, format === 'yaml' ? 'yaml' : 'json');
  return node as MapNode;
}

function withMeta(body: MapNode, format: SopsFormat, meta: SecretMeta | undefined): MapNode {
  if (!meta) return body;
  const m = checkMeta(meta);
  if (format === 'dotenv') {
    return {
      k: 'map',
      entries: [
        ...body.entries,
        [`${META_KEY}__created`, { k: 'leaf', leaf: { t: 'str', v: m.created } }],
        [`${META_KEY}__rotate_by`, { k: 'leaf', leaf: { t: 'str', v: m.rotate_by } }],
      ],
    };
  }
  return {
    k: 'map',
    entries: [
      ...body.entries,
      [
        META_KEY,
        {
          k: 'map',
          entries: [
            ['created', { k: 'leaf', leaf: { t: 'str', v: m.created } }],
            ['rotate_by', { k: 'leaf', leaf: { t: 'str', v: m.rotate_by } }],
          ],
        },
      ],
    ],
  };
}

async function seal(
  plain: MapNode,
  format: SopsFormat,
  key: Uint8Array,
  age: Array<{ recipient: string; enc: string }>,
  now: Date,
): Promise<string> {
  const rules = rulesOf({ age, lastmodified: '', mac: '', version: SOPS_VERSION, unencrypted_suffix: UNENCRYPTED_SUFFIX });
  const hash = createHash('sha512');
  const body = mapLeaves(plain, [], '', (leaf, path) => {
    if (leaf.t !== 'null') hash.update(leafBytes(leaf), 'utf8');
    if (leaf.t === 'null' || !shouldEncrypt(path, rules)) return leaf;
    return { t: 'str', v: encryptLeaf(leaf, key, `${path.join(':')}:`) ?? '' };
  }) as MapNode;
  const lastmodified = rfc3339Seconds(now);
  const mac = encryptString(hash.digest('hex').toUpperCase(), 'str', key, lastmodified);
  const meta: EmittedSopsMeta = { age, lastmodified, mac, unencrypted_suffix: UNENCRYPTED_SUFFIX, version: SOPS_VERSION };
  const out = emitSopsText(body, meta, format);
  boundText(out);
  return out;
}

/** Encrypt a plaintext document to SOPS text the real sops tool accepts. */
export async function encryptSopsFile(plain: Record<string, unknown>, opts: EncryptOptions): Promise<string> {
  const recipients = parseList(ageRecipient, opts.recipients, 'age recipients (age1...)');
  const body = withMeta(plainToBody(plain, opts.format), opts.format, opts.metadata);
  const key = randomBytes(32);
  return seal(body, opts.format, key, await wrapDataKey(key, recipients), (opts.now ?? (() => new Date()))());
}

export interface RotateOptions {
  format: SopsFormat;
  identities: string[];
  /** new recipients; default: keep the current ones */
  recipients?: string[];
  /** new created / rotate_by; default: keep the current ones */
  metadata?: SecretMeta;
  now?: () => Date;
}

/** A new data key: every value re-encrypted, the key wrapped again, a new MAC. */
export async function rotate(text: string, opts: RotateOptions): Promise<string> {
  const o = await open(text, opts.format, opts.identities);
  const recipients = parseList(ageRecipient, opts.recipients ?? o.meta.age.map((a) => a.recipient), 'age recipients (age1...)');
  let plain = o.plain;
  if (opts.metadata) plain = withMeta(splitMeta(o.plain, opts.format).data, opts.format, opts.metadata);
  const key = randomBytes(32);
  return seal(plain, opts.format, key, await wrapDataKey(key, recipients), (opts.now ?? (() => new Date()))());
}

export interface RewrapOptions {
  format: SopsFormat;
  identities: string[];
  recipients: string[];
}

/** The same data key wrapped to a new recipient list; values, lastmodified and MAC unchanged. */
export async function rewrap(text: string, opts: RewrapOptions): Promise<string> {
  const o = await open(text, opts.format, opts.identities);
  const recipients = parseList(ageRecipient, opts.recipients, 'age recipients (age1...)');
  const { age: _age, ...rest } = o.meta;
  const meta: EmittedSopsMeta = { ...rest, age: await wrapDataKey(o.key, recipients) };
  return emitSopsText(o.body, meta, opts.format);
}
