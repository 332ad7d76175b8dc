// stagegate exec target: "deploys" a release by copying its artifacts into
// $STAGEGATE_STATE_DIR/<environment>/<service>/ and recording current.json. Dependency-free ESM.
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const need = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`deploy.js: environment variable ${name} is not set (stagegate sets it when it runs this target)`);
    process.exit(2);
  }
  return v;
};
const service = need('STAGEGATE_SERVICE');
const version = need('STAGEGATE_VERSION');
const environment = need('STAGEGATE_ENVIRONMENT');
const releaseId = need('STAGEGATE_RELEASE_ID');
const promotionId = need('STAGEGATE_PROMOTION_ID');
const artifacts = need('STAGEGATE_ARTIFACTS_DIR');
const state = need('STAGEGATE_STATE_DIR');

// Build the new version beside the old one, then swap it in.
const dest = join(state, environment, service);
const next = `${dest}.next`;
rmSync(next, { recursive: true, force: true });
mkdirSync(next, { recursive: true });
cpSync(artifacts, next, { recursive: true });
const current = { version, releaseId, promotionId, deployedAt: new Date().toISOString() };
writeFileSync(join(next, 'current.json'), `${JSON.stringify(current, null, 2)}\n`);
rmSync(dest, { recursive: true, force: true });
renameSync(next, dest);
console.log(`deployed ${service}@${version} (${releaseId}) to ${environment}: ${dest}`);
