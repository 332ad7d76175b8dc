import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  generateNoteKey,
  keyIdOf,
  MAX_NOTE_BYTES,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyFor,
  verifyNote,
} from './note.ts';

const c2sp = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/signed-note/c2sp-example.json', import.meta.url), 'utf8'),
) as { verifierKey: string; note: string };

// The example key pair and note of golang.org/x/mod/sumdb/note's package documentation (BSD-3-Clause).
// Ed25519 is deterministic, so signing must reproduce the note byte for byte.
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('interop vectors', () => {
  test('the C2SP example verifies and a modified body does not', () => {
    assert.deepEqual(verifyNote(c2sp.note, c2sp.verifierKey), { ok: true, body: 'This is an example message.\n' });
    const changed = verifyNote(c2sp.note.replace('example', 'exemple'), c2sp.verifierKey);
    assert.equal(changed.ok, false);
    assert.match(changed.ok ? '' : changed.reason, /does not verify/);
  });

  test('Go sumdb/note example: keys, key id and signature byte for byte', () => {
    assert.equal(signNote(GO_TEXT, GO_SKEY), GO_NOTE);
    assert.equal(verifierKeyFor(GO_SKEY), GO_VKEY);
    assert.equal(parseVerifierKey(GO_VKEY).keyId, 0xc74f20a3);
    assert.deepEqual(verifyNote(GO_NOTE, GO_VKEY), { ok: true, body: GO_TEXT });
  });
});

describe('keys', () => {
  test('generated keys round-trip and match', () => {
    const { signerKey, verifierKey } = generateNoteKey('stagegate.example/audit');
    assert.match(signerKey, /^PRIVATE\+KEY\+stagegate\.example\/audit\+[0-9a-f]{8}\+/);
    assert.equal(verifierKeyFor(signerKey), verifierKey);
    const v = parseVerifierKey(verifierKey);
    const pub = Buffer.from(verifierKey.split('+').slice(2).join('+'), 'base64').subarray(1);
    assert.equal(v.keyId, keyIdOf(v.name, 1, pub));
    assert.equal(parseSignerKey(signerKey).keyId, v.keyId);
  });

  test('malformed verifier keys give clear errors', () => {
    const cases: [string, RegExp][] = [
      ['', /expected <name>/],
      ['name+1234', /expected <name>/],
      ['+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /name/],
      ['Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /name/],
      ['PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /8 hex digits/],
      ['PeterNeumann+c74f20a3+!!!!', /not base64/],
      ['PeterNeumann+c74f20a3+ApcpAA==', /not Ed25519/],
      ['PeterNeumann+c74f20a3+AQID', /32 bytes/],
      ['PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /does not match/],
      ['PeterNeumann2+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', /does not match/],
    ];
    for (const [text, re] of cases) {
      assert.throws(() => parseVerifierKey(text), (e: { code: string; message: string; details: { fix?: string } }) => {
        assert.equal(e.code, 'invalid_input');
        assert.match(e.message, re, text);
        assert.ok(e.details.fix);
        return true;
      });
    }
    assert.throws(() => parseSignerKey(GO_VKEY), /PRIVATE\+KEY\+/);
    assert.throws(() => generateNoteKey('a b'), /name/);
  });
});

describe('notes', () => {
  const k = generateNoteKey('log.example');
  const other = generateNoteKey('log.example');
  const body = 'line one\nline two\n';

  test('sign and verify; unknown keys are not counted', () => {
    const note = signNote(body, k.signerKey);
    assert.deepEqual(verifyNote(note, k.verifierKey), { ok: true, body });
    const r = verifyNote(note, other.verifierKey);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /no signature by log\.example/);
    const both = `${note}${signNote(body, other.signerKey).split('\n\n')[1]}`;
    assert.equal(verifyNote(both, k.verifierKey).ok, true);
    assert.equal(verifyNote(both, other.verifierKey).ok, true);
    const foreign = `${note}— someone.else AAAAAAAAAAA=\n`;
    assert.equal(verifyNote(foreign, k.verifierKey).ok, true);
  });

  test('malformed notes are rejected with a reason', () => {
    const note = signNote(body, k.signerKey);
    const bad = [
      note.slice(0, -1), // no final newline
      note.replace('\n\n', '\n'), // no blank line
      `${body}\n`, // empty signature block
      note.replace('— ', '-- '),
      note.replace('line one', 'line\tone'),
      `${note}— log.example\n`,
      `${note}— log.example !!!\n`,
      `x${'\n'.repeat(1)}${'a'.repeat(MAX_NOTE_BYTES)}${note}`,
      `${body}\n${'— a AAAAAAAA\n'.repeat(101)}`,
    ];
    for (const text of bad) {
      const r = verifyNote(text, k.verifierKey);
      assert.equal(r.ok, false, JSON.stringify(text.slice(0, 60)));
      assert.ok(!r.ok && r.reason.length > 0);
    }
    assert.equal(verifyNote(note, 'garbage').ok, false);
    assert.throws(() => signNote('no newline', k.signerKey), { code: 'invalid_input' });
    assert.throws(() => signNote('bell\u0007\n', k.signerKey), { code: 'invalid_input' });
  });

  test('property: any valid body round-trips; any change to it fails', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), fc.nat(), (lines, pos) => {
        const text = `${lines.join('\n')}\n`;
        const note = signNote(text, k.signerKey);
        assert.deepEqual(verifyNote(note, k.verifierKey), { ok: true, body: text });
        const i = pos % text.length;
        const changed = `${text.slice(0, i)}${text[i] === 'x' ? 'y' : 'x'}${text.slice(i + 1)}${note.slice(text.length)}`;
        assert.equal(verifyNote(changed, k.verifierKey).ok, false);
      }),
      { numRuns: 200 },
    );
  });

  test('property: garbage never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 100 }), (text, key) => {
        assert.equal(verifyNote(text, key).ok, false);
        assert.equal(typeof verifyNote(text, k.verifierKey).ok, 'boolean');
        assert.equal(verifyNote(`${text}\n\n— log.example ${key}\n`, k.verifierKey).ok, false);
      }),
      { numRuns: 300 },
    );
  });
});
