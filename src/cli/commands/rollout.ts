/** `stagegate rollout status|promote|abort|retry SERVICE --env ENV`: see and steer a rollout (docs/rollouts.md). */
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { CliContext, Command } from '../command.ts';

interface RolloutView {
  promotion: { id: string; state: string; message: string | null };
  rollout: { service: string; environment: string; strategy: string; canaryVersion: string; stableVersion: string | null; phase: string; stepIndex: number; weight: number; message: string; pauseReason: string | null };
  steps: Array<{ index: number; step: string; state: string }>;
  analysis: Array<{ label: string; phase: string; message: string; at: string }>;
  traffic: { url: string; weights: Record<string, number>; versions: Array<{ version: string; phase: string; message: string }> } | null;
  trafficError?: string;
}

const mark = { done: '✓', current: '▶', pending: '·' } as const;

export function printRollout(v: RolloutView, ctx: CliContext): void {
  const r = v.rollout;
  ctx.out(`${r.service} in ${r.environment}: ${r.strategy} of ${r.canaryVersion}${r.stableVersion ? ` (stable ${r.stableVersion})` : ''}, rollout ${r.phase}, promotion ${v.promotion.id} ${v.promotion.state}`);
  if (v.promotion.message) ctx.out(`  ${v.promotion.message}`);
  for (const s of v.steps) ctx.out(`  ${mark[s.state as keyof typeof mark] ?? '?'} ${s.index}. ${s.step}`);
  for (const a of v.analysis) ctx.out(`  analysis ${a.label}: ${a.phase} — ${a.message}`);
  if (v.traffic) {
    ctx.out(`  traffic at ${v.traffic.url}: ${Object.entries(v.traffic.weights).map(([ver, w]) => `${ver} ${w}%`).join(', ') || 'none'}`);
    for (const x of v.traffic.versions) ctx.out(`    ${x.version}: ${x.phase}${x.message ? ` (${x.message})` : ''}`);
  } else if (v.trafficError) ctx.out(`  traffic: unknown (${v.trafficError})`);
}

function rolloutCommand(name: 'status' | 'promote' | 'abort' | 'retry', summary: string): Command {
  const extra = name === 'promote' ? ' [--full] [--reason TEXT]' : name === 'status' ? '' : ' [--reason TEXT]';
  return {
    name: `rollout ${name}`,
    summary,
    usage: `stagegate rollout ${name} SERVICE --env ENV${extra} [--json]`,
    async run(args, ctx) {
      const { values, positionals } = parse(args, { ...clientFlags, env: { type: 'string' }, full: { type: 'boolean', default: false }, reason: { type: 'string' } }, this.usage);
      const service = required(positionals[0], 'SERVICE', this.usage);
      const env = required(values.env, '--env', this.usage);
      const client = createClient(values, ctx);
      const at = `/v1/rollouts/${encodeURIComponent(service)}/${encodeURIComponent(env)}`;
      const v =
        name === 'status'
          ? await client.get<RolloutView>(at)
          : await client.send<RolloutView>('POST', `${at}/${name}`, { ...(values.reason ? { reason: values.reason } : {}), ...(values.full ? { full: true } : {}) });
      if (values.json) ctx.out(JSON.stringify(v, null, 2));
      else printRollout(v, ctx);
      return 0;
    },
  };
}

export const rolloutStatusCommand = rolloutCommand('status', "show a service's latest rollout in an environment: steps, analysis, traffic split");
export const rolloutPromoteCommand = rolloutCommand('promote', 'go past the current pause (--full: skip the remaining steps and analyses)');
export const rolloutAbortCommand = rolloutCommand('abort', 'roll back at once: all traffic to the previous version, the new one stopped');
export const rolloutRetryCommand = rolloutCommand('retry', 'run the paused step again (an inconclusive analysis)');
