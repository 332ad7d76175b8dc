// The detached supervisor of one `exec` step (plain JS so it runs under bare node, without tsx).
// Usage: node exec-supervisor.js RUN_DIR
// It claims the run dir's `launched` marker (create-exclusive, so the step runs at most once), runs
// spec.json's argv without a shell in its own process group, keeps bounded stdout/stderr logs,
// enforces the timeout on the whole group, and writes result.json atomically. See
// docs/adr/0002-steps-survive-restarts.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const runDir = process.argv[2];
if (!runDir || !path.isAbsolute(runDir)) {
  process.stderr.write('usage: exec-supervisor.js ABSOLUTE_RUN_DIR\n');
  process.exit(2);
}
const at = (name) => path.join(runDir, name);
/** each log keeps a current file and one rotated file of at most this many bytes: 1 MiB in all */
const LOG_PART_BYTES = 512 * 1024;

/** Boot id + kernel start time of a process: guards against pid reuse. null when not on Linux. */
function startIdentity(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}:${fields[19]}`;
  } catch {
    return null;
  }
}

function writeAtomic(name, text) {
  const tmp = at(`.${name}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, at(name));
}

/** Create `name` with `text` only if it does not exist yet (link is create-exclusive and atomic). */
function createExclusive(name, text) {
  const tmp = at(`.${name}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, text);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  try {
    fs.linkSync(tmp, at(name));
    return true;
  } catch (e) {
    if (e.code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.unlinkSync(tmp);
  }
}

function boundedLog(name) {
  let fd = fs.openSync(at(name), 'a', 0o600);
  let size = fs.fstatSync(fd).size;
  return {
    write(chunk) {
      const data = chunk.length > LOG_PART_BYTES ? chunk.subarray(chunk.length - LOG_PART_BYTES) : chunk;
      if (size + data.length > LOG_PART_BYTES) {
        fs.closeSync(fd);
        fs.renameSync(at(name), at(`${name}.1`));
        fd = fs.openSync(at(name), 'w', 0o600);
        size = 0;
      }
      fs.writeSync(fd, data);
      size += data.length;
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

const spec = JSON.parse(fs.readFileSync(at('spec.json'), 'utf8'));
const graceMs = spec.killGraceMs ?? 5000;
let child;
let cancelRequested = false;
let timedOut = false;
let escalation;

function killGroup(signal) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}
function stopGroup() {
  killGroup('SIGTERM');
  escalation ??= setTimeout(() => killGroup('SIGKILL'), graceMs);
}

// installed before the marker is claimed, so a cancel that races the launch is never lost
process.on('SIGTERM', () => {
  cancelRequested = true;
  stopGroup();
});
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

const startedAt = new Date().toISOString();
const marker = { kind: 'supervisor', pid: process.pid, identity: startIdentity(process.pid), launchedAt: startedAt };
if (!createExclusive('launched', `${JSON.stringify(marker)}\n`)) {
  process.stderr.write(`exec-supervisor: ${runDir} was already launched; not running it again\n`);
  process.exit(3);
}

function finish(result) {
  // the step's decrypted secrets (if any) live only while it runs
  fs.rmSync(at('secrets.json'), { force: true });
  writeAtomic('result.json', `${JSON.stringify({ ...result, startedAt, finishedAt: new Date().toISOString() })}\n`);
  process.exit(0);
}

process.on('uncaughtException', (e) => {
  killGroup('SIGKILL');
  finish({ exitCode: null, signal: null, timedOut, cancelled: cancelRequested, error: `supervisor error: ${e.message}` });
});

// signals are handled between event-loop turns, so a cancel lands after the spawn below, never
// between the marker and the spawn
let cwdProblem;
try {
  if (!fs.statSync(spec.cwd).isDirectory()) cwdProblem = 'is not a directory';
} catch (e) {
  cwdProblem = `cannot be used (${e.code ?? e.message})`;
}
if (cwdProblem) {
  finish({ exitCode: null, signal: null, timedOut: false, cancelled: false, error: `working directory ${spec.cwd} ${cwdProblem}` });
}

const out = boundedLog('stdout.log');
const err = boundedLog('stderr.log');
child = spawn(spec.argv[0], spec.argv.slice(1), {
  cwd: spec.cwd,
  env: { ...(process.env.PATH ? { PATH: process.env.PATH } : {}), ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...spec.env },
  detached: true,
  shell: false,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let spawnError;
child.on('error', (e) => {
  spawnError = e;
});
if (child.pid) writeAtomic('child.pid', `${JSON.stringify({ pid: child.pid, identity: startIdentity(child.pid) })}\n`);
child.stdout?.on('data', (c) => out.write(c));
child.stderr?.on('data', (c) => err.write(c));
const timer = setTimeout(() => {
  timedOut = true;
  stopGroup();
}, spec.timeoutMs);

let exited = false;
let finished = false;
let exitInfo = { exitCode: null, signal: null };
const done = () => {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  if (escalation) {
    // stopping: whatever of the group outlived the main process gets no more grace
    clearTimeout(escalation);
    killGroup('SIGKILL');
  }
  out.close();
  err.close();
  finish({
    ...(spawnError ? { exitCode: null, signal: null } : exitInfo),
    timedOut,
    cancelled: cancelRequested,
    ...(spawnError ? { error: `could not start ${spec.argv[0]}: ${spawnError.code ?? spawnError.message}` } : {}),
  });
};
child.on('exit', (code, signal) => {
  exited = true;
  exitInfo = { exitCode: code, signal };
  // wait for the pipes to drain, but not for a background process that keeps them open
  setTimeout(done, 1000).unref();
});
child.on('close', (code, signal) => {
  if (!exited) exitInfo = { exitCode: code, signal };
  done();
});
