// stagegate exec target: reports what runs in $STAGEGATE_ENVIRONMENT, for drift checks.
// Reads what deploy.js left in $STAGEGATE_STATE_DIR/<environment>/<service>/: the version from
// current.json, the sha256 of every deployed file (named as the release's subjects are), and the
// configuration document from effective-config.json (written by stagegate's config gate) if any.
// Prints {"services": {"<service>": {"version": "...", "digests": {"<subject>": "sha256:..."}, "config": {...}}}}.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const { STAGEGATE_ENVIRONMENT: environment, STAGEGATE_STATE_DIR: state } = process.env;
if (!environment || !state) {
  console.error('observe.js: STAGEGATE_ENVIRONMENT and STAGEGATE_STATE_DIR must be set (stagegate sets them when it runs this target)');
  process.exit(2);
}

const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

const services = {};
const root = join(state, environment);
for (const service of existsSync(root) ? readdirSync(root) : []) {
  const dir = join(root, service);
  if (service.endsWith('.next') || !statSync(dir).isDirectory() || !existsSync(join(dir, 'current.json'))) continue;
  const current = JSON.parse(readFileSync(join(dir, 'current.json'), 'utf8'));
  const digests = {};
  for (const file of files(dir)) {
    const name = relative(dir, file).split(sep).join('/');
    if (name === 'current.json' || name === 'effective-config.json') continue;
    digests[name] = `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  }
  const effective = join(dir, 'effective-config.json');
  const config = existsSync(effective) ? JSON.parse(readFileSync(effective, 'utf8')).document : undefined;
  services[service] = { version: current.version, digests, ...(config ? { config } : {}) };
}
process.stdout.write(`${JSON.stringify({ services })}\n`);
