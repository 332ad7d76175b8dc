import { DomainError } from '../../domain/errors.ts';
import { parseServiceVersion } from '../../domain/ids.ts';
import type { GateResult } from '../../domain/promotion.ts';
import { parse, required } from '../args.ts';
import { type Client, clientFlags, createClient } from '../client.ts';
import { type CliContext, type Command, exitCodes } from '../command.ts';

export interface PromotionView {
  id: string;
  service: string;
  version: string;
  releaseId: string;
  environment: string;
  state: string;
  requestedBy: string;
  createdAt: string;
  stateChangedAt: string;
  gates: GateResult[] | null;
  message: string | null;
  waitingBehind?: string | null;
  steps?: Array<{ step: string; status: string; exitCode: number | null; durationMs: number | null; outputTail: string | null; message: string | null }>;
}

const terminal = ['Succeeded', 'Failed', 'Aborted', 'RolledBack'];

export function printPromotion(p: PromotionView, ctx: CliContext): void {
  ctx.out(`promotion ${p.id}: ${p.service}@${p.version} -> ${p.environment}: ${p.state}`);
  if (p.waitingBehind) ctx.out(`  waiting behind ${p.waitingBehind} (one active promotion per service and environment)`);
  if (p.message) ctx.out(`  ${p.message}`);
  for (const g of p.gates ?? []) ctx.out(`  ${g.passed ? 'pass' : 'FAIL'}  ${g.gate}${g.subject ? ` (${g.subject})` : ''}: ${g.message}`);
  for (const s of p.steps ?? []) {
    const took = s.durationMs === null ? '' : `, ${(s.durationMs / 1000).toFixed(1)}s`;
    ctx.out(`  step ${s.step}: ${s.status}${s.exitCode === null ? '' : ` (exit ${s.exitCode}${took})`}`);
    if (s.status === 'failed' && s.outputTail) ctx.out(s.outputTail.split('\n').slice(-10).map((l) => `    | ${l}`).join('\n'));
  }
}

/** poll until the promotion ends; the exit code says how */
export async function waitFor(client: Client, id: string, timeoutMs: number, ctx: CliContext, json: boolean): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { promotion: p } = await client.get<{ promotion: PromotionView }>(`/v1/promotions/${id}`);
    if (!json && p.state !== last) ctx.out(`  ... ${p.state}${p.message && !terminal.includes(p.state) ? `: ${p.message}` : ''}`);
    last = p.state;
    if (terminal.includes(p.state)) {
      if (json) ctx.out(JSON.stringify({ promotion: p }, null, 2));
      else printPromotion(p, ctx);
      return p.state === 'Succeeded' ? exitCodes.ok : exitCodes.failed;
    }
    if (Date.now() > deadline) {
      throw new DomainError('unavailable', `promotion ${id} is still ${p.state} after ${timeoutMs / 1000}s`, { fix: `follow it with: stagegate promotion show ${id}` });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const usage =
  'stagegate promote SERVICE@VERSION --to ENV [--wait] [--timeout SECONDS] [--dry-run] [--break-glass JUSTIFICATION --skip approvals|freeze|soak ... [--minutes N]] [--json]';

export const promoteCommand: Command = {
  name: 'promote',
  summary: 'ask for a release to be promoted into an environment',
  usage,
  async run(args, ctx) {
    const { values, positionals } = parse(
      args,
      {
        ...clientFlags,
        to: { type: 'string' },
        wait: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'break-glass': { type: 'string' },
        skip: { type: 'string', multiple: true },
        minutes: { type: 'string' },
      },
      usage,
    );
    const { service, version } = parseServiceVersion(required(positionals[0], 'SERVICE@VERSION', usage));
    const environment = required(values.to, '--to', usage);
    const timeout = Number(values.timeout ?? 600);
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86400) throw new DomainError('invalid_input', '--timeout must be seconds from 1 to 86400', { fix: usage });
    const client = createClient(values, ctx);
    if (values['dry-run']) {
      const r = await client.send<{ wouldPass: boolean; gates: GateResult[]; approvals: Array<{ rule: string; count: number; eligible: string }>; policyDigest: string }>('POST', '/v1/promotions', { service, version, environment, dryRun: true });
      if (values.json) ctx.out(JSON.stringify(r, null, 2));
      else {
        ctx.out(`dry run: ${service}@${version} -> ${environment} ${r.wouldPass ? 'would pass its checks' : 'would be refused'} (policy ${r.policyDigest})`);
        for (const g of r.gates) ctx.out(`  ${g.passed ? 'pass' : 'FAIL'}  ${g.gate}${g.subject ? ` (${g.subject})` : ''}: ${g.message}`);
        for (const a of r.approvals) ctx.out(`  needs ${a.count} approval(s) (${a.rule}) from ${a.eligible}`);
      }
      return r.wouldPass ? 0 : exitCodes.failed;
    }
    const breakGlass = values['break-glass'] ? { justification: values['break-glass'], skip: values.skip ?? [], minutes: Number(values.minutes ?? 60) } : undefined;
    const { promotion, breakGlass: bg } = await client.send<{ promotion: PromotionView; breakGlass?: { id: string } }>('POST', '/v1/promotions', { service, version, environment, ...(breakGlass ? { breakGlass } : {}) });
    if (bg && !values.json) ctx.out(`break-glass ${bg.id} requested: a second person confirms it with \`stagegate break-glass confirm ${bg.id}\``);
    if (!values.wait) {
      if (values.json) ctx.out(JSON.stringify({ promotion, ...(bg ? { breakGlass: bg } : {}) }, null, 2));
      else ctx.out(`requested ${promotion.id}: ${service}@${version} -> ${environment} (${promotion.state}); follow it with: stagegate promotion show ${promotion.id}`);
      return 0;
    }
    if (!values.json) ctx.out(`requested ${promotion.id}: ${service}@${version} -> ${environment}`);
    return waitFor(client, promotion.id, timeout * 1000, ctx, values.json);
  },
};

export const promotionShowCommand: Command = {
  name: 'promotion show',
  summary: 'show a promotion: state, gate results, why',
  usage: 'stagegate promotion show ID [--wait] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, wait: { type: 'boolean', default: false } }, this.usage);
    const id = required(positionals[0], 'ID', this.usage);
    const client = createClient(values, ctx);
    if (values.wait) return waitFor(client, id, 600_000, ctx, values.json);
    const r = await client.get<{ promotion: PromotionView }>(`/v1/promotions/${encodeURIComponent(id)}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else printPromotion(r.promotion, ctx);
    return 0;
  },
};

export const promotionListCommand: Command = {
  name: 'promotion list',
  summary: 'list promotions, newest first',
  usage: 'stagegate promotion list [--service S] [--env ENV] [--limit N] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, service: { type: 'string' }, env: { type: 'string' }, limit: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams();
    if (values.service) q.set('service', values.service);
    if (values.env) q.set('environment', values.env);
    if (values.limit) q.set('limit', values.limit);
    const r = await createClient(values, ctx).get<{ promotions: PromotionView[] }>(`/v1/promotions?${q}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else for (const p of r.promotions) ctx.out(`${p.id}  ${p.service}@${p.version} -> ${p.environment}  ${p.state}  ${p.createdAt}`);
    return 0;
  },
};

export const promotionAbortCommand: Command = {
  name: 'promotion abort',
  summary: 'abort a promotion that has not started deploying',
  usage: 'stagegate promotion abort ID --reason TEXT [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, reason: { type: 'string' } }, this.usage);
    const id = required(positionals[0], 'ID', this.usage);
    const reason = required(values.reason, '--reason', this.usage);
    const r = await createClient(values, ctx).send<{ promotion: PromotionView }>('POST', `/v1/promotions/${encodeURIComponent(id)}/abort`, { reason });
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else printPromotion(r.promotion, ctx);
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'promote the release that ran before the current one, through the same gates',
  usage: 'stagegate rollback SERVICE --env ENV [--wait] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, env: { type: 'string' }, wait: { type: 'boolean', default: false } }, this.usage);
    const service = required(positionals[0], 'SERVICE', this.usage);
    const environment = required(values.env, '--env', this.usage);
    const client = createClient(values, ctx);
    const { promotion } = await client.send<{ promotion: PromotionView }>('POST', '/v1/rollbacks', { service, environment });
    if (!values.json) ctx.out(`rollback ${promotion.id}: ${service}@${promotion.version} -> ${environment}`);
    if (values.wait) return waitFor(client, promotion.id, 600_000, ctx, values.json);
    if (values.json) ctx.out(JSON.stringify({ promotion }, null, 2));
    return 0;
  },
};
