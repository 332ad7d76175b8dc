/** The benchmarks `npm run bench` knows, in the order it runs them. */
import { runArtifactVerify } from './artifact-verify.ts';
import { runAttestationVerify } from './attestation-verify.ts';
import { runAuditAppend } from './audit-append.ts';
import { runAuditProofs } from './audit-proofs.ts';
import { runAuthz } from './authz.ts';
import { runMask } from './mask.ts';
import { runGateRules } from './gate-rules.ts';
import { runMemoryArtifact } from './memory-artifact.ts';
import { runMemoryIdle } from './memory-idle.ts';
import { runSecretScan } from './secret-scan.ts';
import { runParity } from './parity.ts';
import { runProxy } from './proxy.ts';
import { runRollout } from './rollout.ts';
import type { Benchmark } from './util.ts';

export const benchmarks: readonly Benchmark[] = [
  { name: 'artifact-verify', cheap: true, run: runArtifactVerify },
  { name: 'attestation-verify', cheap: true, run: runAttestationVerify },
  { name: 'audit-append', cheap: true, run: runAuditAppend },
  { name: 'audit-proofs', cheap: true, run: runAuditProofs },
  { name: 'memory-artifact', cheap: true, run: runMemoryArtifact },
  { name: 'memory-idle', cheap: true, run: runMemoryIdle },
  { name: 'gate-rules', cheap: true, run: runGateRules },
  { name: 'authz', cheap: true, run: runAuthz },
  { name: 'parity', cheap: true, run: runParity },
  { name: 'mask', cheap: true, run: runMask },
  { name: 'secret-scan', cheap: true, run: runSecretScan },
  // ~20-25 s in --quick mode (four processes, 300 requests/s): too slow for the smoke test's 55 s budget
  { name: 'proxy', cheap: false, run: runProxy },
  // about 1.5 minutes in --quick mode (a real local host, a whole stagegate app, 30 s of sustained load)
  { name: 'rollout', cheap: false, run: runRollout },
];
