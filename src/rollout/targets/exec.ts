/**
 * The `exec` target: runs one side-effecting step of a promotion (deploy, verify) as a real child
 * process that survives the server's death, at most once, with its outcome learnable after a restart.
 *
 * Two phases: `prepare(spec)` writes `runsDir/<promotionId>/<step>/spec.json` and returns `data` for
 * the steps table; `launch(data)` starts a detached supervisor (exec-supervisor.js) that claims the
 * run dir's `launched` marker create-exclusively before it spawns the command. `adopt(data)` after a
 * restart reads result.json, waits for a live supervisor, launches a prepared step, or reports the
 * step as interrupted. See docs/adr/0002-steps-survive-restarts.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { createExclusive, isAlive, readJson, tail, writeAtomic } from './exec-run-dir.ts';

const ID_RE = /^[A-Za-z0-9_-]{1,80}$/;
const NO_NUL = /^[^\0]*$/;
const arg = z.string().max(32_768).regex(NO_NUL, 'must not contain NUL');
const idField = z.string().regex(ID_RE, 'must be 1-80 letters, digits, _ or -');
const specSchema = z.strictObject({
  promotionId: idField,
  step: idField,
  argv: z.array(arg).min(1).max(1000).refine((a) => a[0] !== '', 'argv[0] must name the command'),
  cwd: arg.min(1).refine(isAbsolute, 'must be an absolute path'),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), arg)
    .refine((e) => Object.keys(e).length <= 500, 'at most 500 variables'),
  timeoutMs: z.number().int().min(1).max(86_400_000),
  /** time between SIGTERM and SIGKILL when the step is stopped; default 5000 */
  killGraceMs: z.number().int().min(0).max(600_000).optional(),
});
export type ExecStepSpec = z.infer<typeof specSchema>;
const dataSchema = z.strictObject({ v: z.literal(1), promotionId: idField, step: idField, runDir: z.string().max(4096) });

export interface StepOutcome {
  status: 'succeeded' | 'failed';
  exitCode: number | null;
  message: string;
  stdoutTail: string;
  stderrTail: string;
  /** ISO-8601 UTC */
  finishedAt: string;
}
export interface StepHandle {
  /** the JSON the engine keeps in the steps table to adopt this step after a restart */
  readonly data: string;
  wait(): Promise<StepOutcome>;
  /** stop the step (SIGTERM to its process group, SIGKILL after the grace time); it then fails as cancelled */
  cancel(): Promise<void>;
}
/** the decrypted secrets of a step: a 0600 file in its run dir, deleted when the step ends */
export const SECRETS_FILE = 'secrets.json';
export interface ExecRunner {
  /**
   * create the run dir and spec.json; returns `data` to persist before launching. `secrets` are
   * written to `<runDir>/secrets.json` (0600), named by STAGEGATE_SECRETS_FILE; only the path is in spec.json.
   */
  prepare(spec: ExecStepSpec, extra?: { secrets?: Record<string, unknown> }): Promise<string>;
  /** start the prepared step; a step already launched is only attached to, never started again */
  launch(data: string): Promise<StepHandle>;
  /** prepare + launch, for callers that need no crash window between them */
  start(spec: ExecStepSpec): Promise<StepHandle>;
  /** after a restart: learn the outcome of a step that `data` names, launching it if it never was */
  adopt(data: string): Promise<StepHandle>;
}

interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled?: boolean;
  error?: string;
  finishedAt?: string;
}
interface Marker {
  kind: 'supervisor' | 'cancel';
  pid: number;
  identity: string | null;
}

const SUPERVISOR = fileURLToPath(new URL('./exec-supervisor.js', import.meta.url));
const INTERRUPTED =
  'interrupted: the step started but its supervisor died; outcome unknown, check the target and retry the promotion';

function invalid(what: string, error: z.ZodError): DomainError {
  const issue = error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  return new DomainError('invalid_input', `${what} is invalid: ${field ? `${field}: ` : ''}${issue?.message ?? 'bad value'}`, {
    field,
    fix: 'check the exec target settings for this environment in stagegate.yaml',
  });
}

const shown = (argv: readonly string[]): string => {
  const s = argv.map((a) => (/^[\w/.=:,+@%-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
};
const lastLines = (text: string, n: number): string[] => text.split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(-n);

export function createExecRunner(deps: {
  runsDir: string;
  clock?: () => Date;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** how often wait() looks for the result; default 100 ms */
  pollMs?: number;
}): ExecRunner {
  const runsDir = resolve(deps.runsDir);
  const clock = deps.clock ?? (() => new Date());
  const pollMs = deps.pollMs ?? 100;

  function parseData(data: string): z.infer<typeof dataSchema> & { dir: string } {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new DomainError('invalid_input', 'exec step data is not JSON', { fix: 'pass the data string prepare() returned' });
    }
    const parsed = dataSchema.safeParse(json);
    if (!parsed.success) throw invalid('exec step data', parsed.error);
    const dir = join(runsDir, parsed.data.promotionId, parsed.data.step);
    if (parsed.data.runDir !== dir) {
      throw new DomainError('conflict', `step data names run dir ${parsed.data.runDir}, but this server keeps runs in ${dir}`, {
        fix: 'restart the server with the runs directory it had when the step started',
      });
    }
    return { ...parsed.data, dir };
  }

  async function prepare(input: ExecStepSpec, extra: { secrets?: Record<string, unknown> } = {}): Promise<string> {
    const parsed = specSchema.safeParse(input);
    if (!parsed.success) throw invalid('exec step spec', parsed.error);
    let spec = parsed.data;
    const dir = join(runsDir, spec.promotionId, spec.step);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if ((await readJson(join(dir, 'launched'))) !== undefined) {
      throw new DomainError('conflict', `step ${spec.step} of promotion ${spec.promotionId} was already launched`, {
        fix: 'adopt the step with the data stored for it instead of preparing it again',
      });
    }
    const secretsFile = join(dir, SECRETS_FILE);
    if (extra.secrets) {
      await writeAtomic(secretsFile, JSON.stringify(extra.secrets));
      spec = { ...spec, env: { ...spec.env, STAGEGATE_SECRETS_FILE: secretsFile } };
    } else await rm(secretsFile, { force: true });
    // never launched, so (re)writing the spec is safe: an earlier prepare that crashed before the steps row
    await writeAtomic(join(dir, 'spec.json'), JSON.stringify({ ...spec, preparedAt: clock().toISOString() }));
    return JSON.stringify({ v: 1, promotionId: spec.promotionId, step: spec.step, runDir: dir });
  }

  async function attach(data: string, how: 'launch' | 'adopt'): Promise<StepHandle> {
    const { dir, promotionId, step } = parseData(data);
    const at = (name: string) => join(dir, name);
    const spec = await readJson<ExecStepSpec>(at('spec.json'));
    if (!spec) {
      throw new DomainError('not_found', `step ${step} of promotion ${promotionId} was never prepared (no ${at('spec.json')})`, {
        fix: 'the runs directory was lost or changed; check the target by hand and request the promotion again',
      });
    }
    const log = { promotionId, step, runDir: dir };
    let supervisor: ChildProcess | undefined;
    let supervisorGone = false;
    if (!(await readJson(at('result.json'))) && !(await readJson(at('launched')))) {
      const logFd = openSync(at('supervisor.log'), 'a', 0o600);
      try {
        supervisor = spawn(process.execPath, [SUPERVISOR, dir], {
          cwd: dir,
          detached: true,
          stdio: ['ignore', logFd, logFd],
          env: { ...(process.env.PATH ? { PATH: process.env.PATH } : {}), ...(process.env.HOME ? { HOME: process.env.HOME } : {}) },
        });
      } finally {
        closeSync(logFd);
      }
      supervisor.on('error', () => (supervisorGone = true)).on('exit', () => (supervisorGone = true));
      supervisor.unref();
      deps.logger?.info({ ...log, supervisorPid: supervisor.pid }, how === 'launch' ? 'exec step launched' : 'exec step adopted: launching it');
    } else {
      deps.logger?.info(log, `exec step ${how === 'launch' ? 'already launched' : 'adopted'}`);
    }

    const outcome = async (r: RunResult | null): Promise<StepOutcome> => {
      await rm(at(SECRETS_FILE), { force: true }); // the supervisor deletes it too; this covers one that died
      const [stdoutTail, stderrTail] = await Promise.all([tail(dir, 'stdout.log'), tail(dir, 'stderr.log')]);
      const base = { exitCode: r?.exitCode ?? null, stdoutTail, stderrTail, finishedAt: r?.finishedAt ?? clock().toISOString() };
      const cmd = `\`${shown(spec.argv)}\``;
      if (r && r.exitCode === 0 && !r.timedOut && !r.cancelled && !r.error) {
        const last = lastLines(stdoutTail, 1)[0];
        return { ...base, status: 'succeeded', message: `${step} succeeded: ${cmd}${last ? `: ${last}` : ''}` };
      }
      const reason = !r
        ? INTERRUPTED
        : r.cancelled
          ? 'was cancelled'
          : r.timedOut
            ? `timed out after ${spec.timeoutMs} ms and was killed`
            : r.error
              ? `failed: ${r.error}`
              : r.signal
                ? `was killed by signal ${r.signal}`
                : `exited with code ${r.exitCode}`;
      const errs = lastLines(stderrTail, 10).join('\n').slice(-2000);
      const head = r ? `${step} failed: ${cmd} ${reason}` : `${reason} (step ${step}: ${cmd})`;
      return { ...base, status: 'failed', message: `${head}${errs ? `\nlast lines of stderr:\n${errs}` : ''}` };
    };

    const killOrphans = async (signal: NodeJS.Signals): Promise<void> => {
      const child = await readJson<{ pid: number; identity: string | null }>(at('child.pid'));
      if (child && isAlive(child.pid, child.identity)) {
        deps.logger?.warn({ ...log, pid: child.pid }, 'exec step: killing the process group its dead supervisor left');
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      }
    };

    const check = async (): Promise<StepOutcome | undefined> => {
      const result = await readJson<RunResult>(at('result.json'));
      if (result) return outcome(result);
      const marker = await readJson<Marker>(at('launched'));
      if (!marker) {
        if (!supervisorGone) return undefined;
        if (await readJson(at('launched'))) return undefined; // claimed just now: look again next turn
        const why = lastLines(await tail(dir, 'supervisor.log'), 5).join('\n');
        return outcome({ exitCode: null, signal: null, timedOut: false, error: `its supervisor exited before launching it: ${why}` });
      }
      if (marker.kind === 'cancel') return outcome({ exitCode: null, signal: null, timedOut: false, cancelled: true });
      if (isAlive(marker.pid, marker.identity)) return undefined;
      const late = await readJson<RunResult>(at('result.json'));
      if (late) return outcome(late);
      deps.logger?.warn({ ...log, supervisorPid: marker.pid }, 'exec step interrupted: supervisor died without a result');
      await killOrphans('SIGKILL');
      return outcome(null);
    };

    let waiting: Promise<StepOutcome> | undefined;
    return {
      data,
      wait() {
        waiting ??= (async () => {
          for (;;) {
            const o = await check();
            if (o) return o;
            await sleep(pollMs);
          }
        })();
        return waiting;
      },
      async cancel() {
        if (await readJson(at('result.json'))) return;
        const me: Marker = { kind: 'cancel', pid: process.pid, identity: null };
        if (await createExclusive(at('launched'), JSON.stringify(me))) {
          const now = clock().toISOString();
          await writeAtomic(at('result.json'), JSON.stringify({ exitCode: null, signal: null, timedOut: false, cancelled: true, finishedAt: now }));
          deps.logger?.info(log, 'exec step cancelled before it started');
          return;
        }
        const marker = await readJson<Marker>(at('launched'));
        if (marker?.kind === 'supervisor' && isAlive(marker.pid, marker.identity)) {
          process.kill(marker.pid, 'SIGTERM');
          deps.logger?.info(log, 'exec step cancel requested');
        } else await killOrphans('SIGKILL');
      },
    };
  }

  return {
    prepare,
    launch: (data) => attach(data, 'launch'),
    adopt: (data) => attach(data, 'adopt'),
    async start(spec) {
      return attach(await prepare(spec), 'launch');
    },
  };
}
