/**
 * Interop: files written by our SOPS writer are read by the npm `sops-age` reader, and the wrapped
 * data key opens with Debian's `age` CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { decryptSops } from 'sops-age';
import { decryptSopsFile, encryptSopsFile } from '../src/secrets/sops/sops-file.ts';

const id = await generateX25519Identity();
const recipient = await identityToRecipient(id);
const recovery = await identityToRecipient(await generateX25519Identity());
const dir = mkdtempSync(join(tmpdir(), 'sops-interop-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const meta = { created: '2026-01-01T00:00:00Z', rotate_by: '2026-04-01T00:00:00Z' };
const doc = { db: { password: 'hunter2', port: 5432, ratio: 0.5, tls: true }, hosts: ['a', 'b'] };

describe('our writer -> npm sops-age', () => {
  for (const format of ['json', 'yaml'] as const) {
    it(format, async () => {
      const text = await encryptSopsFile(doc, { format, recipients: [recipient, recovery], metadata: meta });
      const out = await decryptSops(text, { secretKey: id, fileType: format });
      assert.deepEqual(out, { ...doc, stagegate_meta: meta });
    });
  }
  it('dotenv', async () => {
    const env = { API_KEY: 'k-123', OTHER: 'x y' };
    const text = await encryptSopsFile(env, { format: 'dotenv', recipients: [recipient], metadata: meta });
    const out = await decryptSops(text, { secretKey: id, fileType: 'env' });
    assert.deepEqual(out, {
      ...env,
      stagegate_meta__created: meta.created,
      stagegate_meta__rotate_by: meta.rotate_by,
    });
  });
});

describe('wrapped data key -> age CLI', () => {
  it('age -d -i key.txt opens every sops.age[].enc block to the same 32-byte data key', async () => {
    const keyFile = join(dir, 'key.txt');
    writeFileSync(keyFile, `${id}\n`, { mode: 0o600 });
    const text = await encryptSopsFile(doc, { format: 'json', recipients: [recipient, recipient] });
    const j = JSON.parse(text) as { sops: { age: Array<{ enc: string }> } };
    const keys = j.sops.age.map((a, i) => {
      const encFile = join(dir, `enc${i}.age`);
      writeFileSync(encFile, a.enc);
      return execFileSync('/usr/bin/age', ['-d', '-i', keyFile, encFile]);
    });
    assert.equal(keys[0]?.length, 32);
    assert.deepEqual(keys[0], keys[1]);
  });
  it('the real sops vector opens with age too (same check, known-good input)', () => {
    const vdir = new URL('../../shared/vectors/sops/', import.meta.url);
    const j = JSON.parse(readFileSync(new URL('secret.enc.json', vdir), 'utf8')) as { sops: { age: Array<{ enc: string }> } };
    const encFile = join(dir, 'vector.age');
    writeFileSync(encFile, j.sops.age[0]?.enc ?? '');
    const key = execFileSync('/usr/bin/age', ['-d', '-i', new URL('key.txt', vdir).pathname, encFile]);
    assert.equal(key.length, 32);
  });
});

describe('the real sops vectors through both readers', () => {
  it('our reader and sops-age agree on all three', async () => {
    const vdir = new URL('../../shared/vectors/sops/', import.meta.url);
    const key = /AGE-SECRET-KEY-1\S+/.exec(readFileSync(new URL('key.txt', vdir), 'utf8'))?.[0] ?? '';
    for (const [file, format, fileType] of [
      ['secret.enc.json', 'json', 'json'],
      ['secret.enc.yaml', 'yaml', 'yaml'],
      ['secret.enc.env', 'dotenv', 'env'],
    ] as const) {
      const text = readFileSync(new URL(file, vdir), 'utf8');
      const ours = await decryptSopsFile(text, { format, identities: [key] });
      assert.deepEqual(ours.data, await decryptSops(text, { secretKey: key, fileType }), file);
    }
  });
});
