/**
 * gate-rules: latency of one full evaluation of a realistic 20-check CEL gate rule list
 * (evaluateGateRules: facts -> CEL context, then every rule), against realistic prod facts.
 * Compilation (parse + type-check, once per project load) is measured separately.
 */
import { clockFacts, type GateFacts } from '../src/policy/cel/facts.ts';
import { compileGateRules, evaluateGateRules } from '../src/policy/cel/gate-rules.ts';
import type { GateRule } from '../src/policy/cel/schema.ts';
import { type BenchOptions, type BenchResult, checkTarget, median, percentile, progress, round3 } from './util.ts';

const TARGET_MS = 1;
/** milliseconds to 0.1 µs */
const ms4 = (v: number): number => Math.round(v * 1e4) / 1e4;

export const benchRules: readonly GateRule[] = [
  { id: 'two-sre', expression: 'approvals.filter(a, "sre" in a.groups).size() >= 2', message: 'prod needs two approvals from group sre' },
  { id: 'security', expression: 'approvals.exists(a, "security" in a.groups)', message: 'prod needs an approval from group security' },
  { id: 'not-self-approved', expression: 'approvals.all(a, a.user != requester)', message: 'the requester cannot approve' },
  { id: 'signer-not-approver', expression: 'approvals.all(a, a.user != "user:" + release.signerName)', message: 'the release author cannot approve' },
  { id: 'fresh-approvals', expression: 'approvals.all(a, now - a.at < duration("24h"))', message: 'approvals expire after 24h' },
  { id: 'approval-count', expression: 'approvalCount >= 2.0', message: 'at least two approvals' },
  { id: 'no-friday-afternoon', expression: '!(weekday == 5.0 && hour >= 12.0)', message: 'no deploys on Friday afternoon' },
  { id: 'business-hours', expression: 'now.getHours("Europe/Berlin") >= 8 && now.getHours("Europe/Berlin") < 18', message: 'deploy during Berlin business hours' },
  { id: 'no-weekend', expression: 'weekday != 0.0 && weekday != 6.0', message: 'no weekend deploys' },
  { id: 'staging-soak', expression: '"staging" in soak && soak["staging"].succeeded && soak["staging"].soakSeconds >= 3600.0', message: 'soak 1h in staging' },
  { id: 'dev-soak', expression: '"dev" in soak && soak["dev"].soakSeconds >= 600.0', message: 'soak 10m in dev' },
  { id: 'verified-everywhere', expression: 'soak.all(env, soak[env].succeeded && !soak[env].failedVerification)', message: 'a verification failed earlier' },
  { id: 'built-by-our-ci', expression: 'release.provenance.builder.startsWith("https://ci.example.com/")', message: 'only our CI builds reach prod' },
  { id: 'from-our-repo', expression: 'release.provenance.source.startsWith("git+https://git.example.com/shop/")', message: 'only our repositories' },
  { id: 'build-type', expression: 'release.provenance.buildType == "https://stagegate.dev/build/v1"', message: 'unknown build type' },
  { id: 'signed-by-ci', expression: 'release.signerName in ["ci", "ci-backup"]', message: 'must be signed by a CI key' },
  { id: 'semver', expression: 'release.version.matches("^[0-9]+\\\\.[0-9]+\\\\.[0-9]+$")', message: 'plain MAJOR.MINOR.PATCH only' },
  { id: 'freeze', expression: '!freeze.active || breakGlass', message: 'a freeze window is active' },
  { id: 'no-findings', expression: 'findings.parity == 0.0 && findings.drift == 0.0 && findings.secrets == 0.0', message: 'open findings' },
  { id: 'prod-only-tier', expression: 'environment.tier != "prod" || environment.name == "prod"', message: 'unexpected prod environment' },
];

export function benchFacts(now: Date): GateFacts {
  const ago = (min: number) => new Date(now.getTime() - min * 60_000);
  return {
    release: {
      service: 'checkout',
      version: '2.14.3',
      id: `sha256:${'5e'.repeat(32)}`,
      signer: 'SHA256:Jx0k3bQm9c2v0uB1yVd5n0x1pW3sZ8qL4aT6eR2yH7g',
      signerName: 'ci',
      provenance: {
        builder: 'https://ci.example.com/runners/linux-x64',
        source: 'git+https://git.example.com/shop/checkout@refs/heads/main',
        buildType: 'https://stagegate.dev/build/v1',
      },
    },
    environment: { name: 'prod', tier: 'prod' },
    approvals: [
      { user: 'user:bob', groups: ['sre', 'oncall', 'engineering'], at: ago(12) },
      { user: 'user:dana', groups: ['sre', 'engineering'], at: ago(40) },
      { user: 'user:carol', groups: ['security', 'engineering'], at: ago(95) },
    ],
    approvalCount: 3,
    soak: {
      dev: { succeeded: true, soakSeconds: 172_800, failedVerification: false },
      test: { succeeded: true, soakSeconds: 90_000, failedVerification: false },
      staging: { succeeded: true, soakSeconds: 10_800, failedVerification: false },
    },
    freeze: { active: false, windows: [] },
    ...clockFacts(now),
    findings: { parity: 0, drift: 0, secrets: 0 },
    requester: 'user:alice',
    breakGlass: false,
  };
}

export async function runGateRules(opts: BenchOptions): Promise<BenchResult> {
  const evaluations = opts.quick ? 5000 : 20_000;
  const warmup = 2000;

  const t0 = process.hrtime.bigint();
  const compiled = compileGateRules(benchRules, { where: 'bench rules' }); // first use also builds the CEL environment
  const firstCompileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const compileMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = process.hrtime.bigint();
    compileGateRules(benchRules, { where: 'bench rules' });
    compileMs.push(Number(process.hrtime.bigint() - s) / 1e6);
  }

  // a Tuesday 10:30 UTC, so every rule passes and every && / all() runs to the end
  const facts = benchFacts(new Date('2025-06-10T10:30:00Z'));
  const check = evaluateGateRules(compiled, facts);
  if (check.failed !== 0) throw new Error(`bench facts fail ${check.results.filter((r) => !r.passed).map((r) => `${r.id}: ${r.message}`).join('; ')}`);

  for (let i = 0; i < warmup; i++) evaluateGateRules(compiled, facts);
  const samples: number[] = new Array(evaluations);
  let failedTotal = 0;
  for (let i = 0; i < evaluations; i++) {
    const s = process.hrtime.bigint();
    const out = evaluateGateRules(compiled, facts);
    samples[i] = Number(process.hrtime.bigint() - s) / 1e6;
    failedTotal += out.failed;
  }
  if (failedTotal !== 0) throw new Error('a bench evaluation failed a rule');
  const p99 = percentile(samples, 99);
  progress(`gate-rules: p50 ${percentile(samples, 50).toFixed(4)} ms, p99 ${p99.toFixed(4)} ms over ${evaluations} evaluations`);
  return {
    name: 'gate-rules',
    value: ms4(p99),
    unit: 'ms (p99 of one 20-check evaluation)',
    ...checkTarget(p99, '<', TARGET_MS),
    rounds: [ms4(p99)],
    notes: `evaluateGateRules over ${benchRules.length} compiled rules (approvals with filter/exists/all, soak map lookups and all(), time-zone hours, duration arithmetic, a regex, string prefixes) against prod facts with 3 approvals and 3 soaked environments; ${evaluations} sequential evaluations after ${warmup} warm-up, each timed with hrtime; one core`,
    extra: {
      p50_ms: ms4(percentile(samples, 50)),
      p999_ms: ms4(percentile(samples, 99.9)),
      max_ms: ms4(Math.max(...samples)),
      evaluations_per_s: Math.round(1000 / median(samples)),
      first_compile_ms_including_environment: round3(firstCompileMs),
      compile_20_rules_median_ms: round3(median(compileMs)),
    },
  };
}
