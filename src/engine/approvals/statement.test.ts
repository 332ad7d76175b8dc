import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import fc from 'fast-check';
import { pae } from '../../crypto/dsse.ts';
import { keyIdOf } from '../../crypto/keys.ts';
import { DomainError } from '../../domain/errors.ts';
import type { Digest } from '../../domain/ids.ts';
import { approvalBinding } from './binding.ts';
import {
  APPROVAL_PREDICATE_TYPE,
  addPersonalSignature,
  approvalStatementBytes,
  buildApprovalStatement,
  signApproval,
  singleSignatureBundles,
  verifyApproval,
} from './statement.ts';
import type { ApprovalStatementInput, VerifyApprovalOptions } from './statement.ts';

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const server = keyPair();
const alice = keyPair();
const mallory = keyPair();
const RELEASE: Digest = `sha256:${'a1'.repeat(32)}`;
const POLICY: Digest = `sha256:${'b2'.repeat(32)}`;
const input: ApprovalStatementInput = {
  service: 'checkout',
  version: '1.4.2',
  releaseId: RELEASE,
  approver: 'user:alice',
  decision: 'approve',
  environment: 'prod',
  promotion: 'prm_0123456789abcdef',
  policyDigest: POLICY,
  comment: 'checked the migration',
  at: new Date('2026-03-01T12:00:00Z'),
};
const binding = approvalBinding({ releaseId: RELEASE, environment: 'prod', policyDigest: POLICY });
const statement = buildApprovalStatement(input);
const signed = signApproval(statement, server.privateKey);
const personal = addPersonalSignature(signed, alice.privateKey);
const opts = (extra: Partial<VerifyApprovalOptions> = {}): VerifyApprovalOptions => ({
  serverKeys: [server.publicKey],
  approverKeys: new Map([['user:alice', [alice.publicKey]]]),
  expect: { binding, environment: 'prod', releaseId: RELEASE, promotion: 'prm_0123456789abcdef' },
  ...extra,
});
const refused = (json: string, o: VerifyApprovalOptions, problem: string, reason: RegExp) => {
  const r = verifyApproval(json, o);
  assert.equal(r.ok, false, 'expected a refusal');
  if (!r.ok) {
    assert.equal(r.problem, problem, r.reason);
    assert.match(r.reason, reason);
  }
};

describe('approval statement', () => {
  test('is an in-toto statement about the release with the approval predicate', () => {
    assert.deepEqual(JSON.parse(approvalStatementBytes(statement).toString()), {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'checkout@1.4.2', digest: { sha256: 'a1'.repeat(32) } }],
      predicateType: APPROVAL_PREDICATE_TYPE,
      predicate: {
        approver: 'user:alice',
        decision: 'approve',
        environment: 'prod',
        promotion: 'prm_0123456789abcdef',
        policyDigest: POLICY,
        binding,
        comment: 'checked the migration',
        at: '2026-03-01T12:00:00.000Z',
      },
    });
    // canonical: keys sorted, no whitespace
    assert.match(approvalStatementBytes(statement).toString(), /^\{"_type":"https:\/\/in-toto.io\/Statement\/v1","predicate":\{"approver"/);
  });
  test('refuses bad input with the field', () => {
    for (const [patch, field] of [
      [{ approver: 'alice' }, 'predicate.approver'],
      [{ promotion: 'p1' }, 'predicate.promotion'],
      [{ comment: 'x'.repeat(2001) }, 'predicate.comment'],
      [{ at: 'now' }, 'predicate.at'],
      [{ version: '../x' }, 'subject[0].name'],
    ] as const) {
      assert.throws(() => buildApprovalStatement({ ...input, ...patch }), (e: unknown) => e instanceof DomainError && e.details.field === field, field);
    }
  });
});

describe('signing and verifying approval records', () => {
  test('a server-signed record verifies', () => {
    const r = verifyApproval(signed, opts());
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.serverKeyId, keyIdOf(server.publicKey));
    assert.equal(r.release, 'checkout@1.4.2');
    assert.equal(r.personalKeyId, undefined);
    assert.deepEqual(r.statement, statement);
  });
  test('replays are refused with the reason', () => {
    refused(signed, opts({ expect: { binding, environment: 'staging', releaseId: RELEASE } }), 'replay', /^approval is for prod, not staging$/);
    const otherRelease: Digest = `sha256:${'c3'.repeat(32)}`;
    refused(signed, opts({ expect: { binding, environment: 'prod', releaseId: otherRelease } }), 'replay', /approval is for release checkout@1.4.2 .* not sha256:c3/);
    refused(signed, opts({ expect: { binding, environment: 'prod', releaseId: RELEASE, promotion: 'prm_ffffffffffffffff' } }), 'replay', /promotion prm_0123456789abcdef, not prm_ffffffffffffffff/);
    const newPolicy = approvalBinding({ releaseId: RELEASE, environment: 'prod', policyDigest: `sha256:${'d4'.repeat(32)}` });
    refused(signed, opts({ expect: { binding: newPolicy, environment: 'prod', releaseId: RELEASE } }), 'replay', /the policy changed/);
  });
  test('a record not signed by a server key, or altered, is refused', () => {
    refused(signed, opts({ serverKeys: [mallory.publicKey] }), 'signature', /not signed by a server key/);
    const forgedServer = signApproval(statement, mallory.privateKey);
    refused(forgedServer, opts(), 'signature', /not signed by a server key/);
    const b = JSON.parse(signed);
    const tampered = { ...statement, predicate: { ...statement.predicate, environment: 'staging' } };
    b.dsseEnvelope.payload = approvalStatementBytes(tampered).toString('base64');
    refused(JSON.stringify(b), opts(), 'signature', /does not match the payload/);
    refused('{"x":1}', opts(), 'malformed', /not a Sigstore v0.3 DSSE bundle/);
  });
  test('a server-signed record whose binding disagrees with its fields is refused', () => {
    const inconsistent = { ...statement, predicate: { ...statement.predicate, binding: `sha256:${'e5'.repeat(32)}` as Digest } };
    refused(signApproval(inconsistent, server.privateKey), opts(), 'malformed', /binding does not match/);
  });
  test('a personal signature is verified', () => {
    const r = verifyApproval(personal, opts({ requirePersonalSignature: true }));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.personalKeyId, keyIdOf(alice.publicKey));
    assert.equal(JSON.parse(personal).dsseEnvelope.signatures.length, 2);
    assert.equal(JSON.parse(personal).verificationMaterial.publicKey.hint, keyIdOf(server.publicKey));
    assert.throws(() => addPersonalSignature(personal, alice.privateKey), (e: unknown) => e instanceof DomainError && e.code === 'conflict');
  });
  test('a missing or forged personal signature is refused', () => {
    refused(signed, opts({ requirePersonalSignature: true }), 'personal-signature', /no personal signature by user:alice/);
    refused(signed, opts({ requirePersonalSignature: true, approverKeys: new Map() }), 'personal-signature', /has no registered signing key/);
    // mallory signs and claims alice's key id
    const b = JSON.parse(addPersonalSignature(signed, mallory.privateKey));
    b.dsseEnvelope.signatures[1].keyid = keyIdOf(alice.publicKey);
    refused(JSON.stringify(b), opts(), 'personal-signature', /does not verify: it is forged/);
    // mallory's own key is not alice's key
    refused(addPersonalSignature(signed, mallory.privateKey), opts({ requirePersonalSignature: true }), 'personal-signature', /no personal signature by user:alice/);
    // a personal signature cannot stand in for the server's
    const onlyPersonal = JSON.parse(personal);
    onlyPersonal.dsseEnvelope.signatures = [onlyPersonal.dsseEnvelope.signatures[1]];
    refused(JSON.stringify(onlyPersonal), opts(), 'signature', /not signed by a server key/);
  });
  test('a long base64 field with one bad character is refused at once (no regex backtracking)', () => {
    const b = JSON.parse(signed);
    const t0 = performance.now();
    refused(JSON.stringify({ ...b, dsseEnvelope: { ...b.dsseEnvelope, payload: `${'A'.repeat(5000)}!` } }), opts(), 'malformed', /not base64/);
    const sigs = [{ keyid: 'k', sig: `${'A'.repeat(500)}!` }];
    assert.throws(() => addPersonalSignature(JSON.stringify({ ...b, dsseEnvelope: { ...b.dsseEnvelope, signatures: sigs } }), alice.privateKey), DomainError);
    assert.ok(performance.now() - t0 < 1000);
  });
  test('property: arbitrary bundle text never throws out of verifyApproval', () => {
    const b = JSON.parse(personal);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.tuple(fc.constantFrom('mediaType', 'verificationMaterial', 'dsseEnvelope'), fc.jsonValue()).map(([k, v]) => JSON.stringify({ ...b, [k]: v })),
          fc.tuple(fc.nat(200), fc.integer({ min: 32, max: 126 })).map(([i, c]) => {
            const s = b.dsseEnvelope.payload as string;
            const payload = s.slice(0, i % s.length) + String.fromCharCode(c) + s.slice((i % s.length) + 1);
            return JSON.stringify({ ...b, dsseEnvelope: { ...b.dsseEnvelope, payload } });
          }),
        ),
        (text) => {
          const r = verifyApproval(text, opts());
          if (r.ok) assert.deepEqual(r.statement, statement);
        },
      ),
    );
  });
});

describe('approval records with other tools', () => {
  const run = promisify(execFile);
  const trust = (keys: KeyObject[]): TrustMaterial => ({
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint: string) => {
      const k = keys.find((x) => keyIdOf(x) === hint);
      if (!k) throw new Error(`unknown key hint ${hint}`);
      return { publicKey: k, validFor: () => true };
    },
  });
  const sigstoreVerify = (json: string, keys: KeyObject[]) =>
    new Verifier(trust(keys), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(JSON.parse(json))));

  test('@sigstore/verify accepts the server-signed record', () => {
    sigstoreVerify(signed, [server.publicKey]);
    assert.throws(() => sigstoreVerify(signApproval(statement, mallory.privateKey), [server.publicKey]));
  });
  test('Sigstore bundles carry one DSSE signature: split a personally signed record to check each signature', () => {
    // @sigstore/bundle itself refuses an envelope with two signatures, hence singleSignatureBundles
    assert.throws(() => bundleFromJSON(JSON.parse(personal)));
    const [bySever, byAlice, ...rest] = singleSignatureBundles(personal);
    assert.equal(rest.length, 0);
    sigstoreVerify(bySever!, [server.publicKey]);
    sigstoreVerify(byAlice!, [alice.publicKey]);
    assert.throws(() => sigstoreVerify(byAlice!, [mallory.publicKey]));
  });
  test('openssl verifies the personal signature over the DSSE PAE', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'sg-approval-'));
    after(() => rm(dir, { recursive: true, force: true }));
    try {
      await run('openssl', ['version']);
    } catch {
      t.skip('openssl is not installed');
      return;
    }
    const env = JSON.parse(personal).dsseEnvelope as { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
    await writeFile(join(dir, 'alice.pub'), alice.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(dir, 'pae.bin'), pae(env.payloadType, Buffer.from(env.payload, 'base64')));
    await writeFile(join(dir, 'sig.der'), Buffer.from(env.signatures[1]?.sig ?? '', 'base64'));
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', join(dir, 'alice.pub'), '-signature', join(dir, 'sig.der'), join(dir, 'pae.bin')]);
    assert.equal(stdout.trim(), 'Verified OK');
  });
});
