/**
 * `stagegate init`: writes a starter stagegate.yaml (dev -> staging -> prod on an exec target) and
 * the small Node deploy/verify scripts of examples/shop, so the result runs wherever node runs.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { DomainError } from '../domain/errors.ts';
import { NAME_RE } from '../domain/ids.ts';
import { PROJECT_FILE_NAME } from './load.ts';

export interface ScaffoldOptions {
  dir: string;
  /** project name; defaults to the directory name made into a valid name */
  project?: string;
  /** the first service; defaults to `app` */
  service?: string;
  /** overwrite files that exist */
  force?: boolean;
}

export interface ScaffoldResult {
  dir: string;
  project: string;
  service: string;
  /** absolute paths of the files written */
  files: string[];
  /** what to do next, one command or step per entry */
  next: string[];
}

const exampleDir = new URL('../../examples/shop/', import.meta.url);
export const scaffoldScripts = ['deploy.js', 'verify.js'] as const;

/** A valid project name derived from a directory name, e.g. `My Shop` -> `my-shop`. */
export function nameFromDir(dir: string): string {
  const n = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return NAME_RE.test(n) ? n : 'project';
}

export function renderProjectFile(project: string, service: string): string {
  return `# stagegate project file. Reference: docs/project-file.md
# Schema for editors: \`stagegate schema > stagegate.schema.json\`
#
# apiVersion    always stagegate.dev/v1
# project       the project name (lowercase letters, digits, dashes)
# keys          public keys trusted to sign releases (ECDSA P-256, SPKI PEM). publicKey is a path
#               relative to this file or the PEM text itself. Create the key pair with:
#                   stagegate keys generate --out keys --name ci
#               then commit keys/ci.pub only; keep the private key in your CI secret store.
# services      the deployable units; releases are named service@version
# targets       how to deploy. type exec runs \`deploy\` (and then \`verify\`) as argv, without a
#               shell, in this directory, with STAGEGATE_SERVICE, STAGEGATE_VERSION,
#               STAGEGATE_ENVIRONMENT, STAGEGATE_RELEASE_ID, STAGEGATE_PROMOTION_ID,
#               STAGEGATE_ARTIFACTS_DIR and STAGEGATE_STATE_DIR set. timeoutSeconds: default 300.
# environments  the pipeline, in promotion order. Each has a tier (dev | test | staging | prod),
#               a target, the trustedKeys whose signatures it accepts, the environments it
#               requires a release to have Succeeded in first (only earlier ones), and minSoak:
#               how long the release must have run there (e.g. 30s, 10m, 2h, 1d).
apiVersion: stagegate.dev/v1
project: ${project}

keys:
  - name: ci
    publicKey: keys/ci.pub   # run: stagegate keys generate --out keys --name ci

services:
  - name: ${service}

targets:
  local-exec:
    type: exec
    deploy: ["node", "deploy.js"]
    verify: ["node", "verify.js"]
    timeoutSeconds: 300

environments:
  - name: dev
    tier: dev
    target: local-exec
    trustedKeys: [ci]
  - name: staging
    tier: staging
    target: local-exec
    trustedKeys: [ci]
    requires: [dev]
  - name: prod
    tier: prod
    target: local-exec
    trustedKeys: [ci]
    requires: [staging]
    minSoak: 10m
`;
}

/** Write stagegate.yaml, deploy.js and verify.js into `dir`; refuses to overwrite without `force`. */
export async function scaffoldProject(opts: ScaffoldOptions): Promise<ScaffoldResult> {
  const dir = resolve(opts.dir);
  const project = opts.project ?? nameFromDir(dir);
  const service = opts.service ?? 'app';
  for (const [field, value] of [['project', project], ['service', service]] as const) {
    if (!NAME_RE.test(value))
      throw new DomainError('invalid_input', `--${field} "${value.slice(0, 100)}" is not a valid name`, {
        field,
        fix: 'use lowercase letters, digits and dashes, starting with a letter (at most 63 characters)',
      });
  }
  const contents = new Map<string, string>([[PROJECT_FILE_NAME, renderProjectFile(project, service)]]);
  for (const script of scaffoldScripts) contents.set(script, await readFile(new URL(script, exampleDir), 'utf8'));

  const existing: string[] = [];
  for (const name of contents.keys()) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info) existing.push(join(dir, name));
  }
  if (existing.length && !opts.force)
    throw new DomainError('conflict', `not overwriting ${existing.join(', ')}`, {
      file: existing[0],
      fix: 'move the existing files away, or run `stagegate init --force` to overwrite them',
    });
  const files: string[] = [];
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of contents) {
      // 'wx' also catches a file created since the check above
      await writeFile(join(dir, name), text, { flag: opts.force ? 'w' : 'wx' });
      files.push(join(dir, name));
    }
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new DomainError(code === 'EEXIST' ? 'conflict' : 'invalid_input', `cannot write into ${dir}: ${(e as Error).message}`, {
      file: dir,
      written: files,
      fix: code === 'EEXIST' ? 'another process created the file; run init again' : 'check that the directory is writable',
    });
  }
  return {
    dir,
    project,
    service,
    files,
    next: [
      `cd ${dir}`,
      'stagegate keys generate --out keys --name ci   # then commit keys/ci.pub, never the private key',
      `edit deploy.js and verify.js to deploy ${service} for real (they copy artifacts into STAGEGATE_STATE_DIR)`,
    ],
  };
}
