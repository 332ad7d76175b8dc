/**
 * Load and validate `stagegate.yaml`. Every problem (YAML syntax, schema, references, keys) is
 * collected and thrown as ONE DomainError('invalid_input') whose message lists each problem as
 * `file:line:col: field: what is wrong — fix: what to do`.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { readFile as fsReadFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { DomainError } from '../domain/errors.ts';
import type { Digest } from '../domain/ids.ts';
import { checkSections } from './sections.ts';
import { normalizeScanSection } from '../secrets/scan/allowlist.ts';
import { normalizeApprovalPolicy } from '../engine/approvals/approval-schema.ts';
import { withEnvironment } from '../policy/freeze-schema.ts';
import { checkProjectGraph } from './graph.ts';
import { normalizeRollout, normalizeVerification } from './rollout-policy.ts';
import { normalizeGitopsTarget } from '../rollout/targets/gitops/config.ts';
import { normalizeWebhookTarget } from '../rollout/targets/webhook/config.ts';
import type { FieldPath } from './graph.ts';
import { formatFieldPath, issueProblems } from './issues.ts';
import { limits, PEM_PREFIX, projectFileSchema } from './schema.ts';
import type { Project, ProjectFile, ProjectKey, Target } from './schema.ts';

export const PROJECT_FILE_NAME = 'stagegate.yaml';
const MAX_ALIASES = 100;
const MAX_LISTED = 200;

export interface ProjectProblem {
  file: string;
  line: number;
  column: number;
  /** field path like `environments[2].requires[0]`; `(yaml)` for syntax errors */
  field: string;
  message: string;
  fix: string;
}

export interface ParseOptions {
  /** the file name shown in messages */
  file: string;
  /** directory that relative key paths are resolved against */
  baseDir: string;
  /** reads a key file (absolute path); defaults to a size-bounded fs read */
  readFile?: (absolutePath: string) => Promise<string>;
}

export function formatProblem(p: ProjectProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field}: ${p.message} — fix: ${p.fix}`;
}

interface Located {
  path: FieldPath;
  key?: string;
  message: string;
  fix: string;
}

/** Line/column of the node at `path` (or of the mapping key `key` under it); nearest existing parent otherwise. */
function locate(doc: Document, lc: LineCounter, path: FieldPath, key?: string): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      if (isNode(pair?.key) && pair.key.range) return lc.linePos(pair.key.range[0]);
    }
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

const yamlFix: Record<string, string> = {
  DUPLICATE_KEY: 'remove one of the two entries with this key',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MULTIPLE_DOCS: 'keep a single YAML document (remove the extra `---`)',
  TAG_RESOLVE_FAILED: 'remove the `!tag`; the project file uses plain YAML values',
};

async function boundedRead(absolutePath: string): Promise<string> {
  const s = await stat(absolutePath);
  if (s.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  if (s.size > limits.keyFileBytes) throw Object.assign(new Error('too large'), { code: 'EFBIG' });
  return fsReadFile(absolutePath, 'utf8');
}

type KeyResult = { ok: true; key: ProjectKey } | { ok: false; message: string; fix: string };

async function resolveKey(name: string, value: string, opts: ParseOptions): Promise<KeyResult> {
  const inline = value.trimStart().startsWith('-----BEGIN');
  const source = inline ? 'inline' : resolve(opts.baseDir, value);
  const where = inline ? `key "${name}" (inline PEM)` : `key "${name}" file ${value}`;
  let pem = value;
  if (!inline) {
    try {
      pem = await (opts.readFile ?? boundedRead)(source);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        return {
          ok: false,
          message: `${where} not found (looked for ${source})`,
          fix: `create it with \`stagegate keys generate --out ${dirname(value)} --name ${name}\` next to the project file, or correct the path (it is relative to the project file)`,
        };
      return {
        ok: false,
        message: `${where} cannot be read (${code === 'EISDIR' ? 'it is a directory' : code === 'EFBIG' ? `larger than ${limits.keyFileBytes} bytes` : String(code ?? 'read error')})`,
        fix: 'point publicKey at a PEM public key file',
      };
    }
  }
  if (pem.length > limits.keyFileBytes) return { ok: false, message: `${where} is too large`, fix: 'point publicKey at a PEM public key file' };
  if (/PRIVATE KEY-----/.test(pem))
    return {
      ok: false,
      message: `${where} holds a PRIVATE key; only public keys belong in the project`,
      fix: `replace it with the public key (\`openssl pkey -in KEY -pubout\`) and treat the private key as leaked if it was committed`,
    };
  const notP256 = { ok: false as const, fix: 'use an ECDSA P-256 public key in SPKI PEM, e.g. from `stagegate keys generate`' };
  if (!pem.includes(PEM_PREFIX)) return { ...notP256, message: `${where} is not a PEM public key (no ${PEM_PREFIX} block)` };
  try {
    const key = createPublicKey(pem);
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
      const kind = key.asymmetricKeyType === 'ec' ? `an EC ${curve ?? 'unknown-curve'} key` : `a ${key.asymmetricKeyType ?? 'unknown'} key`;
      return { ...notP256, message: `${where} is ${kind}, not ECDSA P-256 (prime256v1)` };
    }
    return { ok: true, key: { name, source, publicKeyPem: String(key.export({ type: 'spki', format: 'pem' })) } };
  } catch {
    return { ...notP256, message: `${where} is not a valid PEM public key` };
  }
}

function fail(file: string, problems: ProjectProblem[]): never {
  const n = problems.length;
  const listed = problems.slice(0, MAX_LISTED).map(formatProblem);
  if (n > MAX_LISTED) listed.push(`… and ${n - MAX_LISTED} more`);
  throw new DomainError('invalid_input', `${file}: ${n} problem${n === 1 ? '' : 's'}:\n${listed.join('\n')}`, {
    file,
    problems: problems.slice(0, MAX_LISTED),
    fix: 'fix each problem listed (file:line:column: field), then load the project again; see docs/project-file.md',
  });
}

/** Parse and validate project-file text. Throws one DomainError('invalid_input') listing every problem. */
export async function parseProject(text: string, opts: ParseOptions): Promise<Project> {
  const { file } = opts;
  const at = (line: number, column: number, field: string, message: string, fix: string): ProjectProblem => ({
    file, line, column, field, message, fix,
  });
  if (Buffer.byteLength(text, 'utf8') > limits.fileBytes)
    fail(file, [at(1, 1, '(file)', `the project file is larger than ${limits.fileBytes} bytes`, 'keep stagegate.yaml under 1 MiB')]);

  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  // After the first syntax error the parser's view is unreliable, so later syntax errors are
  // dropped; errors that stand on their own (duplicate keys, tags, documents) are all kept.
  const yamlProblems: ProjectProblem[] = [];
  let syntaxSeen = false;
  for (const e of [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0])) {
    const standalone = e.code in yamlFix;
    if (!standalone && syntaxSeen) continue;
    syntaxSeen ||= !standalone;
    const pos = lc.linePos(e.pos[0]);
    const msg = e.message.split('\n')[0] ?? e.message;
    yamlProblems.push(at(pos.line, pos.col, '(yaml)', msg, yamlFix[e.code] ?? 'fix the YAML syntax here (indentation, quotes, colons, brackets, unclosed [ or {)'));
  }
  if (yamlProblems.length) fail(file, yamlProblems);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    fail(file, [at(1, 1, '(yaml)', `cannot read the YAML: ${(e as Error).message}`, `use at most ${MAX_ALIASES} alias (*name) references and only aliases to anchors defined earlier`)]);
  }

  const found: Located[] = [];
  const parsed = projectFileSchema.safeParse(data);
  if (!parsed.success) for (const issue of parsed.error.issues) found.push(...issueProblems(issue, data));
  found.push(...checkProjectGraph(data));
  const rawKeys = (data as { keys?: unknown } | null)?.keys;
  const keys = new Map<string, ProjectKey>();
  if (Array.isArray(rawKeys)) {
    await Promise.all(
      rawKeys.map(async (k: unknown, i) => {
        const { name, publicKey } = (k ?? {}) as { name?: unknown; publicKey?: unknown };
        if (typeof name !== 'string' || typeof publicKey !== 'string' || publicKey.length > limits.pemBytes) return;
        const r = await resolveKey(name.slice(0, 64), publicKey, opts);
        if (r.ok) keys.set(name, r.key);
        else found.push({ path: ['keys', i, 'publicKey'], message: r.message, fix: r.fix });
      }),
    );
  }
  if (found.length || !parsed.success) {
    const byField = new Map<string, ProjectProblem>(); // one problem per field: the first found
    for (const p of found) {
      const field = formatFieldPath(p.key === undefined ? p.path : [...p.path, p.key]);
      if (byField.has(field)) continue;
      const pos = locate(doc, lc, p.path, p.key);
      byField.set(field, at(pos.line, pos.col, field, p.message, p.fix));
    }
    const problems = [...byField.values()];
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    fail(file, problems);
  }

  const f = parsed.data;
  const semantic = checkSections(f, file);
  if (semantic.problems.length) {
    const problems = semantic.problems.map((p) => {
      const pos = locate(doc, lc, p.path);
      return at(pos.line, pos.col, formatFieldPath(p.path), p.message, p.fix);
    });
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    fail(file, problems);
  }
  return {
    apiVersion: f.apiVersion,
    project: f.project,
    file: resolve(file),
    baseDir: resolve(opts.baseDir),
    digest: `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}` as Digest,
    keys: f.keys.map((k) => ({ ...keys.get(k.name)!, ...(k.owner ? { owner: k.owner } : {}) })),
    services: f.services.map((s) => ({ name: s.name, ...(s.description !== undefined ? { description: s.description } : {}), rules: s.rules ?? {} })),
    targets: Object.fromEntries(
      Object.entries(f.targets).map(([name, t]) => [name, normalizeTarget(name, t, resolve(opts.baseDir))]),
    ),
    environments: f.environments.map((e) => ({
      name: e.name, tier: e.tier, target: e.target, trustedKeys: e.trustedKeys, requires: e.requires ?? [], minSoakMs: e.minSoak ?? 0,
      rules: e.rules ?? [],
      ...(e.approvals ? { approvals: normalizeApprovalPolicy(e.approvals) } : {}),
      freezes: withEnvironment(e.name, e.freezes ?? []),
      platform: e.platform ?? {},
      ...(e.parity ? { parity: e.parity } : {}),
      ...(e.drift ? { drift: e.drift } : {}),
      rollout: normalizeRollout(e.rollout),
      ...(e.verification ? { verification: normalizeVerification(e.verification) } : {}),
    })),
    ...(f.identities ? { identities: f.identities } : {}),
    ...(f.policies ? { policiesDir: resolve(opts.baseDir, f.policies) } : {}),
    ...(f.attestation ? { attestationIntervalMs: f.attestation.interval } : {}),
    manifestDir: resolve(opts.baseDir, f.manifest ?? 'manifest'),
    ...(f.scan ? { scan: normalizeScanSection(f.scan) } : {}),
    analysisTemplates: f.analysis?.templates ?? {},
    gateRules: semantic.gateRules,
  };
}

function normalizeTarget(name: string, t: ProjectFile['targets'][string], projectDir: string): Target {
  if (t.type === 'exec') {
    return { name, type: t.type, deploy: t.deploy, ...(t.verify ? { verify: t.verify } : {}), ...(t.observe ? { observe: t.observe } : {}), timeoutMs: t.timeoutSeconds * 1000, env: t.env ?? {} };
  }
  if (t.type === 'gitops') return normalizeGitopsTarget(name, t, projectDir);
  if (t.type === 'webhook') return normalizeWebhookTarget(name, t);
  const { timeoutSeconds, ...rest } = t;
  return { ...rest, name, timeoutMs: timeoutSeconds * 1000 };
}

/** Read and validate a project file (or the stagegate.yaml inside a directory). */
export async function loadProject(fileOrDir: string): Promise<Project> {
  let file = fileOrDir;
  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    file = join(fileOrDir, PROJECT_FILE_NAME);
    info = await stat(file).catch(() => undefined);
  }
  if (!info?.isFile())
    throw new DomainError('not_found', `project file ${file} not found`, {
      file,
      fix: 'run `stagegate init` to create one, or give the path of your stagegate.yaml',
    });
  if (info.size > limits.fileBytes)
    throw new DomainError('invalid_input', `${file}: the project file is larger than ${limits.fileBytes} bytes`, {
      file,
      fix: 'keep stagegate.yaml under 1 MiB',
    });
  const bytes = await fsReadFile(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new DomainError('invalid_input', `${file}: the project file is not valid UTF-8`, { file, fix: 'save stagegate.yaml as UTF-8' });
  }
  return parseProject(text, { file, baseDir: dirname(resolve(file)) });
}
