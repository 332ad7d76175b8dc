/** CLI: approvals, approve/reject, break-glass, freeze windows. */
import { createPublicKey, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pae } from '../../crypto/dsse.ts';
import { keyIdOf, loadPrivateKey } from '../../crypto/keys.ts';
import { parse, required } from '../args.ts';
import { clientFlags, createClient } from '../client.ts';
import type { Command } from '../command.ts';
import type { PromotionView } from './promote.ts';

export const approvalsCommand: Command = {
  name: 'approvals',
  summary: 'list promotions waiting for an approval you could give',
  usage: 'stagegate approvals [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const r = await createClient(values, ctx).get<{ waiting: Array<{ promotion: PromotionView; missing: Array<{ rule: string; needed: number; have: number; eligible: string }> }> }>('/v1/approvals');
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.waiting.length === 0) ctx.out('nothing waits for your approval');
    else
      for (const w of r.waiting) {
        ctx.out(`${w.promotion.id}  ${w.promotion.service}@${w.promotion.version} -> ${w.promotion.environment}  requested by ${w.promotion.requestedBy}`);
        for (const m of w.missing) ctx.out(`    ${m.rule}: ${m.have}/${m.needed} from ${m.eligible}`);
      }
    return 0;
  },
};

function decideCommand(decision: 'approve' | 'reject'): Command {
  return {
    name: decision,
    summary: decision === 'approve' ? 'approve a promotion (a server-signed in-toto statement naming you)' : 'reject a promotion; it fails with your reason',
    usage: `stagegate ${decision} PROMOTION --comment TEXT [--sign-key KEY] [--json]`,
    async run(args, ctx) {
      const { values, positionals } = parse(args, { ...clientFlags, comment: { type: 'string' }, 'sign-key': { type: 'string' } }, this.usage);
      const id = required(positionals[0], 'PROMOTION', this.usage);
      const comment = decision === 'reject' ? required(values.comment, '--comment', this.usage) : (values.comment ?? '');
      const client = createClient(values, ctx);
      let signed: { statement: unknown; keyid: string; sig: string } | undefined;
      if (values['sign-key']) {
        // sign the exact statement of this decision with the approver's own key; the server adds its signature
        const key = loadPrivateKey(await readFile(values['sign-key'], 'utf8'), values['sign-key']);
        const q = new URLSearchParams({ decision, comment });
        const s = await client.get<{ statement: unknown; payloadType: string; payload: string }>(`/v1/promotions/${encodeURIComponent(id)}/approval-statement?${q}`);
        const sig = sign('sha256', pae(s.payloadType, Buffer.from(s.payload, 'base64')), { key, dsaEncoding: 'der' }).toString('base64');
        signed = { statement: s.statement, keyid: keyIdOf(createPublicKey(key)), sig };
      }
      const r = await client.send<{ approval: { id: string; binding: string } }>('POST', `/v1/promotions/${encodeURIComponent(id)}/approvals`, { decision, comment, ...(signed ? { signed } : {}) });
      ctx.out(values.json ? JSON.stringify(r, null, 2) : `${decision === 'approve' ? 'approved' : 'rejected'} ${id} (${r.approval.id}, bound to ${r.approval.binding})`);
      return 0;
    },
  };
}
export const approveCommand = decideCommand('approve');
export const rejectCommand = decideCommand('reject');

export const breakGlassConfirmCommand: Command = {
  name: 'break-glass confirm',
  summary: 'confirm someone else\'s break-glass request (starts its time box)',
  usage: 'stagegate break-glass confirm BG_ID [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, clientFlags, this.usage);
    const id = required(positionals[0], 'BG_ID', this.usage);
    const r = await createClient(values, ctx).send<{ breakGlass: { id: string; expiresAt: string; skip: string[] } }>('POST', `/v1/break-glass/${encodeURIComponent(id)}/confirm`);
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `confirmed ${id}: skips ${r.breakGlass.skip.join(', ')} until ${r.breakGlass.expiresAt}`);
    return 0;
  },
};

export const breakGlassReviewCommand: Command = {
  name: 'break-glass review',
  summary: 'review a used break-glass (closes its review item)',
  usage: 'stagegate break-glass review BG_ID --comment TEXT [--json]',
  async run(args, ctx) {
    const { values, positionals } = parse(args, { ...clientFlags, comment: { type: 'string' } }, this.usage);
    const id = required(positionals[0], 'BG_ID', this.usage);
    const r = await createClient(values, ctx).send('POST', `/v1/break-glass/${encodeURIComponent(id)}/review`, { comment: required(values.comment, '--comment', this.usage) });
    ctx.out(values.json ? JSON.stringify(r, null, 2) : `reviewed ${id}`);
    return 0;
  },
};

export const breakGlassListCommand: Command = {
  name: 'break-glass list',
  summary: 'open review items: break-glass uses nobody has reviewed yet',
  usage: 'stagegate break-glass list [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const r = await createClient(values, ctx).get<{ openReviews: Array<{ id: string; promotionId: string; requestedBy: string; confirmedBy: string; justification: string; skip: string[]; confirmedAt: string }> }>('/v1/break-glass');
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.openReviews.length === 0) ctx.out('no open break-glass review items');
    else for (const b of r.openReviews) ctx.out(`${b.id}  ${b.promotionId}  by ${b.requestedBy}, confirmed by ${b.confirmedBy} at ${b.confirmedAt}; skipped ${b.skip.join(', ')}: ${b.justification}`);
    return 0;
  },
};

export const freezeListCommand: Command = {
  name: 'freeze list',
  summary: 'freeze windows: what blocks now and what will block, and when',
  usage: 'stagegate freeze list [--upcoming] [--env ENV] [--service S] [--horizon 30d] [--json]',
  async run(args, ctx) {
    const { values } = parse(args, { ...clientFlags, upcoming: { type: 'boolean', default: false }, env: { type: 'string' }, service: { type: 'string' }, horizon: { type: 'string' } }, this.usage, false);
    const q = new URLSearchParams({ horizon: values.upcoming ? (values.horizon ?? '30d') : '1s' });
    if (values.env) q.set('environment', values.env);
    if (values.service) q.set('service', values.service);
    const r = await createClient(values, ctx).get<{ freezes: Array<{ name: string; environment?: string; services: string[] | 'all'; from: string; until: string; reason: string; timezone: string }>; truncated: boolean }>(`/v1/freezes?${q}`);
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.freezes.length === 0) ctx.out(values.upcoming ? 'no freeze window in that horizon' : 'no freeze window is active');
    else {
      for (const f of r.freezes) ctx.out(`${f.environment ?? '-'}  ${f.name}  ${f.from} .. ${f.until}  services: ${Array.isArray(f.services) ? f.services.join(', ') : 'all'}  (${f.reason})`);
      if (r.truncated) ctx.out('(more windows than shown; narrow --horizon)');
    }
    return 0;
  },
};

function policyDecideCommand(decision: 'approve' | 'reject'): Command {
  return {
    name: `policy ${decision}`,
    summary: `${decision} a changed policy of an environment (under the rules accepted before the change)`,
    usage: `stagegate policy ${decision} ENV [--comment TEXT] [--json]`,
    async run(args, ctx) {
      const { values, positionals } = parse(args, { ...clientFlags, comment: { type: 'string' } }, this.usage);
      const env = required(positionals[0], 'ENV', this.usage);
      const comment = decision === 'reject' ? required(values.comment, '--comment', this.usage) : (values.comment ?? '');
      const r = await createClient(values, ctx).send<{ digest: string; accepted: boolean; missing: Array<{ rule: string; needed: number; have: number; eligible: string }> }>(
        'POST',
        `/v1/environments/${encodeURIComponent(env)}/policy-approvals`,
        { decision, comment },
      );
      if (values.json) ctx.out(JSON.stringify(r, null, 2));
      else {
        ctx.out(`${decision === 'approve' ? 'approved' : 'rejected'} policy ${r.digest} of ${env}: ${r.accepted ? 'accepted, promotions go on' : 'not accepted yet'}`);
        for (const m of r.missing) ctx.out(`    ${m.rule}: ${m.have}/${m.needed} from ${m.eligible}`);
      }
      return 0;
    },
  };
}
export const policyApproveCommand = policyDecideCommand('approve');
export const policyRejectCommand = policyDecideCommand('reject');

export const policyStatusCommand: Command = {
  name: 'policy status',
  summary: 'the accepted policy digest of each environment, and changes waiting for approval',
  usage: 'stagegate policy status [--json]',
  async run(args, ctx) {
    const { values } = parse(args, clientFlags, this.usage, false);
    const r = await createClient(values, ctx).get<{ environments: Array<{ environment: string; accepted: string | null; pending: { digest: string; since: string; decisions: number } | null }> }>('/v1/policy-state');
    if (values.json) ctx.out(JSON.stringify(r, null, 2));
    else for (const e of r.environments) ctx.out(`${e.environment}  accepted ${e.accepted ?? '-'}${e.pending ? `  PENDING ${e.pending.digest} since ${e.pending.since} (${e.pending.decisions} decision(s))` : ''}`);
    return 0;
  },
};
