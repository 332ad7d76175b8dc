import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import fc from 'fast-check';
import { DomainError } from '../../domain/errors.ts';
import { decryptSopsFile, encryptSopsFile, rewrap, rotate } from './sops-file.ts';
import type { SopsFormat } from './sops-file.ts';
import { formatGoFloat } from './value-cipher.ts';

const vec = (name: string): URL => new URL(`../../../../shared/vectors/sops/${name}`, import.meta.url);
const read = (name: string): string => readFileSync(vec(name), 'utf8');
const vectorId = /AGE-SECRET-KEY-1\S+/.exec(read('key.txt'))?.[0] ?? '';
const expected = JSON.parse(read('secret.json')) as Record<string, unknown>;

const idA = await generateX25519Identity();
const idB = await generateX25519Identity();
const recA = await identityToRecipient(idA);
const recB = await identityToRecipient(idB);
const meta = { created: '2026-01-01T00:00:00Z', rotate_by: '2026-04-01T00:00:00Z' };

const rejects = async (p: Promise<unknown>, code: string, field?: string): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.details.field, field, e.message);
    return true;
  });
};

describe('sops vectors (encrypted by the real sops tool)', () => {
  it('finds the vectors in ../shared beside the repository', () => {
    assert.match(fileURLToPath(vec('key.txt')), /\/shared\/vectors\/sops\/key\.txt$/);
  });
  it('decrypts secret.enc.json with the MAC verified', async () => {
    const r = await decryptSopsFile(read('secret.enc.json'), { format: 'json', identities: [vectorId] });
    assert.deepEqual(r.data, expected);
    assert.equal(r.version, '3.9.2');
    assert.equal(r.meta, undefined);
  });
  it('decrypts secret.enc.yaml (no 0word key in this vector)', async () => {
    const r = await decryptSopsFile(read('secret.enc.yaml'), { format: 'yaml', identities: [vectorId] });
    const { '0word': _, ...rest } = expected;
    assert.deepEqual(r.data, rest);
  });
  it('decrypts secret.enc.env', async () => {
    const r = await decryptSopsFile(read('secret.enc.env'), { format: 'dotenv', identities: [vectorId] });
    assert.deepEqual(r.data, { secret: 'this is a secret', another_secret: '7' });
  });
  it('refuses an edited vector value, MAC and key order', async () => {
    const text = read('secret.enc.yaml');
    const edited = text.replace('string: ENC[AES256_GCM,data:LNzAFGse', 'string: ENC[AES256_GCM,data:LNzAFGsf');
    assert.notEqual(edited, text);
    await rejects(decryptSopsFile(edited, { format: 'yaml', identities: [vectorId] }), 'digest_mismatch', 'string');
    const lines = text.split('\n');
    const reordered = [lines[1], lines[0], ...lines.slice(2)].join('\n');
    assert.notEqual(reordered, text);
    await rejects(decryptSopsFile(reordered, { format: 'yaml', identities: [vectorId] }), 'digest_mismatch', 'sops.mac');
    const macEdited = text.replace(/mac: ENC\[AES256_GCM,data:V/, 'mac: ENC[AES256_GCM,data:W');
    await rejects(decryptSopsFile(macEdited, { format: 'yaml', identities: [vectorId] }), 'digest_mismatch', 'sops.mac');
  });
  it('refuses a wrong identity', async () => {
    await rejects(decryptSopsFile(read('secret.enc.json'), { format: 'json', identities: [idA] }), 'forbidden', 'sops.age');
  });
});

const doc = {
  db: { user: 'app', password: 'p@ss:word\nline2', port: 5432, ratio: 0.25, tls: true, none: null, empty: '' },
  list: ['a', 1, false, { nested: 'x' }],
  '10': 'integer-like key',
  note_unencrypted: 'visible',
};

describe('round trip: our writer -> our reader', () => {
  for (const format of ['json', 'yaml'] as const) {
    it(`${format}: values, types, metadata and order`, async () => {
      const text = await encryptSopsFile(doc, { format, recipients: [recA, recB], metadata: meta });
      assert.ok(!text.includes('p@ss'), 'no plaintext secret in the output');
      assert.ok(text.includes('visible'), '_unencrypted values stay readable');
      for (const id of [idA, idB]) {
        const r = await decryptSopsFile(text, { format, identities: [id] });
        assert.deepEqual(r.data, doc);
        assert.deepEqual(r.meta, meta);
        assert.deepEqual(r.recipients, [recA, recB]);
      }
    });
  }
  it('dotenv', async () => {
    const env = { API_KEY: 'k-123', MULTI: 'a\nb', EMPTY: '' };
    const text = await encryptSopsFile(env, { format: 'dotenv', recipients: [recA], metadata: meta });
    assert.ok(!text.includes('k-123'));
    const r = await decryptSopsFile(text, { format: 'dotenv', identities: [idA] });
    assert.deepEqual(r.data, env);
    assert.deepEqual(r.meta, meta);
  });
  it('refuses bad input with clear errors', async () => {
    await rejects(encryptSopsFile({ sops: 1 }, { format: 'json', recipients: [recA] }), 'invalid_input', 'sops');
    await rejects(encryptSopsFile({ a: 1 }, { format: 'json', recipients: ['age1nope'] }), 'invalid_input');
    await rejects(encryptSopsFile({ A: 1 }, { format: 'dotenv', recipients: [recA] }), 'invalid_input', 'A');
    await rejects(encryptSopsFile({ a: Number.NaN }, { format: 'json', recipients: [recA] }), 'invalid_input');
    await rejects(
      encryptSopsFile({ a: 'x' }, { format: 'json', recipients: [recA], metadata: { created: 'yesterday', rotate_by: meta.rotate_by } }),
      'invalid_input',
    );
    await rejects(decryptSopsFile('x'.repeat(1024 * 1024 + 1), { format: 'json', identities: [idA] }), 'payload_too_large');
    await rejects(decryptSopsFile('{"a": "b"}', { format: 'json', identities: [idA] }), 'invalid_input', 'sops');
    await rejects(decryptSopsFile('{"a": ', { format: 'json', identities: [idA] }), 'invalid_input');
  });
});

describe('tampering is refused', () => {
  const make = async (format: SopsFormat = 'json'): Promise<string> =>
    encryptSopsFile({ a: 'first', b: 'second', c: { d: 'third' } }, { format, recipients: [recA], metadata: meta });
  const dec = (text: string, format: SopsFormat = 'json') => decryptSopsFile(text, { format, identities: [idA] });

  it('an edited ciphertext names the key path', async () => {
    const j = JSON.parse(await make());
    const enc = j.c.d as string;
    const flip = enc.replace(/data:(.)/, (_m, ch: string) => `data:${ch === 'A' ? 'B' : 'A'}`);
    j.c.d = flip;
    await rejects(dec(JSON.stringify(j)), 'digest_mismatch', 'c.d');
  });
  it('a value moved to another key fails authentication', async () => {
    const j = JSON.parse(await make());
    [j.a, j.b] = [j.b, j.a];
    await rejects(dec(JSON.stringify(j)), 'digest_mismatch', 'a');
  });
  it('reordered keys fail the MAC', async () => {
    const j = JSON.parse(await make());
    const re = { b: j.b, a: j.a, c: j.c, stagegate_meta: j.stagegate_meta, sops: j.sops };
    await rejects(dec(JSON.stringify(re)), 'digest_mismatch', 'sops.mac');
  });
  it('a removed key fails the MAC', async () => {
    const j = JSON.parse(await make());
    delete j.b;
    await rejects(dec(JSON.stringify(j)), 'digest_mismatch', 'sops.mac');
  });
  it('a removed stagegate_meta fails the MAC', async () => {
    const j = JSON.parse(await make());
    delete j.stagegate_meta;
    await rejects(dec(JSON.stringify(j)), 'digest_mismatch', 'sops.mac');
  });
  it('a plaintext value in place of an encrypted one is refused', async () => {
    const j = JSON.parse(await make());
    j.a = 'first';
    await rejects(dec(JSON.stringify(j)), 'digest_mismatch', 'a');
  });
  it('an edited MAC or lastmodified is refused', async () => {
    const j = JSON.parse(await make());
    await rejects(dec(JSON.stringify({ ...j, sops: { ...j.sops, lastmodified: '2020-01-01T00:00:00Z' } })), 'digest_mismatch', 'sops.mac');
    const m = j.sops.mac as string;
    await rejects(dec(JSON.stringify({ ...j, sops: { ...j.sops, mac: m.replace('data:', 'data:AA') } })), 'digest_mismatch', 'sops.mac');
  });
  it('dotenv: a removed line fails the MAC', async () => {
    const text = (await make('dotenv').catch(() => null)) ?? '';
    assert.equal(text, '', 'nested objects are refused for dotenv');
    const env = await encryptSopsFile({ A: 'x', B: 'y' }, { format: 'dotenv', recipients: [recA] });
    const cut = env.split('\n').filter((l) => !l.startsWith('A=')).join('\n');
    await rejects(dec(cut, 'dotenv'), 'digest_mismatch', 'sops.mac');
  });
});

describe('rotate and rewrap', () => {
  it('rotate: a new data key, every value re-encrypted, still decrypts', async () => {
    const text = await encryptSopsFile(doc, { format: 'yaml', recipients: [recA], metadata: meta });
    const next = { created: '2026-03-01T00:00:00Z', rotate_by: '2026-06-01T00:00:00Z' };
    const rotated = await rotate(text, { format: 'yaml', identities: [idA], recipients: [recA, recB], metadata: next });
    const encOf = (t: string) => /password: (ENC\[[^\]]+\])/.exec(t)?.[1];
    assert.ok(encOf(text) && encOf(rotated));
    assert.notEqual(encOf(rotated), encOf(text));
    const r = await decryptSopsFile(rotated, { format: 'yaml', identities: [idB] });
    assert.deepEqual(r.data, doc);
    assert.deepEqual(r.meta, next);
    const kept = await rotate(text, { format: 'yaml', identities: [idA] });
    assert.deepEqual((await decryptSopsFile(kept, { format: 'yaml', identities: [idA] })).meta, meta);
  });
  it('rewrap: same data key and values, new recipients only', async () => {
    const text = await encryptSopsFile(doc, { format: 'json', recipients: [recA], metadata: meta });
    const wrapped = await rewrap(text, { format: 'json', identities: [idA], recipients: [recB] });
    const a = JSON.parse(text);
    const b = JSON.parse(wrapped);
    assert.equal(b.db.password, a.db.password);
    assert.equal(b.sops.mac, a.sops.mac);
    assert.deepEqual(b.sops.age.map((x: { recipient: string }) => x.recipient), [recB]);
    assert.deepEqual((await decryptSopsFile(wrapped, { format: 'json', identities: [idB] })).data, doc);
    await rejects(decryptSopsFile(wrapped, { format: 'json', identities: [idA] }), 'forbidden');
  });
  it('rewrap of the real sops vector keeps it readable', async () => {
    const wrapped = await rewrap(read('secret.enc.env'), { format: 'dotenv', identities: [vectorId], recipients: [recA] });
    const r = await decryptSopsFile(wrapped, { format: 'dotenv', identities: [idA] });
    assert.deepEqual(r.data, { secret: 'this is a secret', another_secret: '7' });
  });
});

describe('formatGoFloat matches strconv.FormatFloat(v, f, -1, 64)', () => {
  const cases: Array<[number, string]> = [
    [3.14, '3.14'],
    [7, '7'],
    [-0, '-0'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5, '-2.5'],
    [123456789.125, '123456789.125'],
  ];
  for (const [n, s] of cases) it(`${n} -> ${s}`, () => assert.equal(formatGoFloat(n), s));
  it('round-trips through Number()', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => Object.is(Number(formatGoFloat(n)), n)));
  });
});

describe('property: random documents round-trip', () => {
  const key = fc.string({ maxLength: 12 }).filter((k) => k !== 'sops' && !k.startsWith('stagegate_meta'));
  const leaf = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
    fc.integer({ min: -1e9, max: 1e9 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  );
  const tree = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('obj')),
    obj: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
  }));
  for (const format of ['json', 'yaml'] as const) {
    it(format, async () => {
      await fc.assert(
        fc.asyncProperty(tree.obj, async (d) => {
          const text = await encryptSopsFile(d as Record<string, unknown>, { format, recipients: [recA] });
          const r = await decryptSopsFile(text, { format, identities: [idA] });
          assert.deepEqual(r.data, d);
        }),
        { numRuns: 60 },
      );
    });
  }
  it('dotenv', async () => {
    const envKey = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((k) => !k.startsWith('sops_') && !k.startsWith('stagegate_meta'));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(envKey, fc.string({ maxLength: 30 }), { maxKeys: 6, noNullPrototype: true }), async (d) => {
        const text = await encryptSopsFile(d, { format: 'dotenv', recipients: [recA] });
        const r = await decryptSopsFile(text, { format: 'dotenv', identities: [idA] });
        assert.deepEqual(r.data, d);
      }),
      { numRuns: 40 },
    );
  });
});
