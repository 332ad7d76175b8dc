/**
 * Demo part 4: progressive delivery in prod on the `local` target (examples/shop/stagegate-rollout.yaml).
 * A canary whose configuration sets the payment timeout too low fails some checkouts; the background
 * analysis catches it and the rollout puts all traffic back on the previous version, whose own code and
 * configuration never stopped running. The fixed release is canaried, promoted by a person, verified
 * through the proxy with injected latency, and the old version scaled down. Traffic is printed as it moves.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalHostClient } from '../src/rollout/local/host-client.ts';

export interface DemoKit {
  project: string;
  data: string;
  env: NodeJS.ProcessEnv;
  say(text: string): void;
  why(text: string): void;
  sg(args: string[], expect?: number | 'nonzero', as?: string): string;
  restart(projectFile: string): Promise<void>;
}

const hostDir = (data: string) => path.join(data, 'local', 'local', 'prod', 'checkout');

/** the parts of the API's answers the demo reads */
interface View {
  traffic?: { url: string; weights: Record<string, number> };
  rollout?: { phase: string; canaryVersion: string };
  steps?: Array<{ index: number; step: string; state: string }>;
  promotion?: { state: string; message: string | null };
}

async function api(kit: DemoKit, p: string): Promise<View> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${kit.env['STAGEGATE_SERVER']}${p}`, { headers: { authorization: `Bearer ${kit.env['STAGEGATE_TOKEN']}` } });
      return (await res.json()) as View;
    } catch (e) {
      // a kept-alive connection the server closed just as it was reused: ask again
      if (attempt >= 3) throw e;
    }
  }
}

/** requests through the prod proxy, counted per version and status, while a rollout runs */
function startTraffic(url: string) {
  const counts = new Map<string, number>();
  let on = true;
  const loop = (async () => {
    while (on) {
      try {
        const res = await fetch(`${url}/`);
        await res.text();
        const key = `${res.headers.get('x-stagegate-version')} ${res.status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      } catch {
        counts.set('connection error', (counts.get('connection error') ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return [...counts.entries()].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
    },
  };
}

/** print the traffic split each time it changes, until the promotion ends or `until` says so */
async function watch(kit: DemoKit, promotionId: string, until: (s: View) => boolean = () => false): Promise<View> {
  let last = '';
  let state = '';
  for (let i = 0; i < 1200; i++) {
    const s = await api(kit, '/v1/rollouts/checkout/prod');
    const split = Object.entries(s.traffic?.weights ?? {}).map(([v, w]) => `${v} ${String(w).padStart(3)}%`).join(' | ');
    const current = s.steps?.find((x) => x.state === 'current');
    const line = `traffic: ${split.padEnd(28)} ${s.rollout?.phase ?? ''}${current ? `, step ${current.index}: ${current.step}` : ''}`;
    if (line !== last) process.stdout.write(`   ${line}\n`);
    last = line;
    const p = await api(kit, `/v1/promotions/${promotionId}`);
    state = `${p.promotion?.state ?? JSON.stringify(p).slice(0, 300)}: ${p.promotion?.message ?? ''}`;
    if (['Succeeded', 'Failed', 'RolledBack', 'Aborted'].includes(p.promotion?.state ?? '') || until(s)) return s;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`the rollout of ${promotionId} did not finish in 3 minutes; last seen ${state}`);
}

function release(kit: DemoKit, version: string, timeoutMs: number) {
  const server = path.join(kit.project, 'checkout', 'server.js');
  writeFileSync(server, `${readFileSync(server, 'utf8').replace(/\n\/\/ build .*\n?$/, '')}\n// build ${version}\n`);
  const config = path.join(kit.project, 'checkout', 'config', 'app.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^paymentTimeoutMs: \d+$/m, `paymentTimeoutMs: ${timeoutMs}`));
  kit.sg(['release', 'create', '--service', 'checkout', '--version', version, '--artifact', 'checkout/server.js', '--config', 'checkout/config', '--key', 'keys/ci.key', '--out', `checkout-${version}.bundle.json`]);
  kit.sg(['release', 'push', `checkout-${version}.bundle.json`, '--artifact', 'checkout/server.js', '--config', 'checkout/config']);
  kit.sg(['promote', `checkout@${version}`, '--to', 'dev', '--wait']);
  kit.sg(['promote', `checkout@${version}`, '--to', 'staging', '--wait']);
  const out = kit.sg(['promote', `checkout@${version}`, '--to', 'prod']);
  return /requested (prm_[a-f0-9]{16})/.exec(out)?.[1] ?? '';
}

export async function rolloutPart(kit: DemoKit): Promise<void> {
  kit.say('Progressive delivery: restart the server with stagegate-rollout.yaml (prod on the local target)');
  kit.why('prod runs each version of checkout as child processes behind a weighted proxy; a canary moves traffic step by step while an analysis watches the new version');
  await kit.restart('stagegate-rollout.yaml');
  kit.sg(['policy', 'status']);
  kit.why("prod's policy changed (a new target, a canary strategy): its promotions wait until the change is approved under the rules accepted before it, one sre and one security approver");
  kit.sg(['policy', 'approve', 'prod', '--comment', 'sre: canary steps and error-rate analysis reviewed'], 0, 'alice');
  kit.sg(['policy', 'approve', 'prod', '--comment', 'security: local target reviewed'], 0, 'bob');

  kit.say('Release 5.0.0 reaches prod: the first version there goes all at once');
  const first = release(kit, '5.0.0', 3000);
  await watch(kit, first);
  kit.sg(['rollout', 'status', 'checkout', '--env', 'prod']);
  const url = (await api(kit, '/v1/rollouts/checkout/prod')).traffic?.url ?? '';
  process.stdout.write(`   GET ${url}/ -> ${(await (await fetch(`${url}/`)).text()).split('\n').slice(0, 3).join(' / ')}\n`);

  kit.say('Release 5.1.0 sets paymentTimeoutMs to 15 (a configuration fault): canary in prod while customers shop');
  const traffic = startTraffic(url);
  const bad = release(kit, '5.1.0', 15);
  await watch(kit, bad);
  process.stdout.write(`   requests seen: ${await traffic.stop()}\n`);
  kit.sg(['promotion', 'show', bad], 0);
  kit.why('the background analysis measured the canary\'s error rate through the proxy\'s own counters; two failed measurements exceeded failureLimit 1, so traffic went back to 5.0.0 and 5.1.0 was stopped');
  process.stdout.write(`   GET ${url}/ -> ${(await (await fetch(`${url}/`)).text()).split('\n').slice(0, 3).join(' / ')}\n`);
  kit.why('5.0.0 never stopped running from its own verified artifacts, so its code AND its configuration (paymentTimeoutMs: 3000) are what serve: rolled back together');

  kit.say('Release 5.1.1 fixes the timeout: canary, a pause for a person, verification through the proxy');
  const traffic2 = startTraffic(url);
  const good = release(kit, '5.1.1', 2500);
  await watch(kit, good, (s) => s.rollout?.canaryVersion === '5.1.1' && s.rollout?.phase === 'Paused');
  kit.sg(['rollout', 'status', 'checkout', '--env', 'prod']);
  kit.sg(['rollout', 'promote', 'checkout', '--env', 'prod'], 'nonzero', 'alice');
  kit.why('alice is an approver, not a releaser: promoting a rollout in prod is refused and audited');
  kit.sg(['rollout', 'promote', 'checkout', '--env', 'prod', '--reason', 'canary healthy at 60%'], 0, 'carol');
  kit.why('carol is a releaser: the command is authorized, audited and applied by the controller on its next pass');
  await watch(kit, good);
  process.stdout.write(`   requests seen: ${await traffic2.stop()}\n`);
  kit.sg(['rollout', 'status', 'checkout', '--env', 'prod']);
  kit.why('verification ran smoke.js against the proxy with 30 ms injected on 5.1.1, alongside the analysis; then 5.0.0 was drained and stopped after the scale-down delay');
  kit.say('The rollout in the audit log: every step, analysis and command, with who and why');
  await rolloutTrail(kit, [bad, good]);
}

/** print the audit entries of the rollouts of these promotions */
async function rolloutTrail(kit: DemoKit, promotions: string[]): Promise<void> {
  const subjects = new Set(promotions.map((id) => `promotion:${id}`));
  for (let from = 0; ; from += 1000) {
    const page = (await api(kit, `/v1/audit/entries?from=${from}&limit=1000`)) as { entries?: Array<{ index: number; entry: { time: string; actor: string; action: string; subject: string; details: Record<string, unknown> } }> };
    for (const { index, entry: e } of page.entries ?? []) {
      if (!subjects.has(e.subject) || !e.action.startsWith('rollout.')) continue;
      const d = e.details;
      const started = e.action === 'rollout.started' ? `${d['strategy']} of ${d['version']}${d['stable'] ? ` over ${d['stable']}` : ''}` : undefined;
      const stopped = Array.isArray(d['stopped']) ? `stopped ${d['stopped'].join(', ')}` : undefined;
      const what = [started, d['did'], d['command'] ? `${d['command']} at step ${d['step']}` : undefined, d['phase'], d['reason'], d['message'], stopped].filter((x) => x !== undefined && x !== '').join(' ');
      process.stdout.write(`   ${String(index).padStart(4)}  ${e.time.slice(11, 23)}  ${e.action.padEnd(24)} ${e.actor.padEnd(18)} ${String(what).slice(0, 110)}\n`);
    }
    if ((page.entries?.length ?? 0) < 1000) break;
  }
}

/** the local host outlives the server by design (no request lost on a restart): the demo shuts it down */
export async function stopLocalHost(data: string): Promise<void> {
  await createLocalHostClient({ hostDir: hostDir(data) }).shutdown().catch(() => {});
}
