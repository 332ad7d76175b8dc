/**
 * attestation-verify: release bundle verifications per second through verifyRelease without files
 * (bundle parse, DSSE ECDSA P-256 verify over the PAE, in-toto statement parse), the work of the
 * signature gate. The bundle is a real one made by createRelease.
 */
import { createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSigningKey, keyIdOf } from '../src/crypto/keys.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { verifyRelease } from '../src/engine/release-verify.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, progress, round3, secondsSince, withTempDir } from './util.ts';

const TARGET = 2000;

export async function makeBenchBundle(dir: string): Promise<{ bundleJson: string; trustedKeys: Map<string, ReturnType<typeof createPublicKey>> }> {
  const key = generateSigningKey();
  const artifact = path.join(dir, 'checkout.tgz');
  writeFileSync(artifact, 'bench artifact\n');
  const images = ['registry.example.com/checkout@sha256:' + 'a'.repeat(64)];
  const r = await createRelease({ service: 'checkout', version: '1.0.0', artifacts: [artifact], images, privateKeyPem: key.privateKeyPem });
  const pub = createPublicKey(key.publicKeyPem);
  return { bundleJson: r.bundleJson, trustedKeys: new Map([[keyIdOf(pub), pub]]) };
}

export async function runAttestationVerify(opts: BenchOptions): Promise<BenchResult> {
  const perRound = opts.quick ? 300 : 3000;
  const rounds = 5;
  return withTempDir('attest', async (dir) => {
    const { bundleJson, trustedKeys } = await makeBenchBundle(dir);
    for (let i = 0; i < 100; i++) await verifyRelease({ bundleJson, trustedKeys }); // warm up
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) {
        const v = await verifyRelease({ bundleJson, trustedKeys });
        if (!v.signature.ok) throw new Error(`bench bundle did not verify: ${v.signature.reason}`);
      }
      rates.push(perRound / secondsSince(start));
      progress(`attestation-verify round ${r + 1}: ${rates.at(-1)?.toFixed(0)}/s`);
    }
    const value = median(rates);
    return {
      name: 'attestation-verify',
      value: Math.round(value),
      unit: 'verifications/s',
      ...checkTarget(value, '>=', TARGET),
      rounds: rates.map(round3),
      notes: `verifyRelease({bundleJson, trustedKeys}) without files, ${perRound} sequential verifications per round, ${rounds} rounds, one core; bundle of ${bundleJson.length} bytes (1 artifact + 1 image subject)`,
    };
  });
}
