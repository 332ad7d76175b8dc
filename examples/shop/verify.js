// stagegate exec target: verifies that the deployed release is the one stagegate asked for.
// Set DEMO_FAIL_VERIFY=1 to make verification fail on purpose (shows the automatic rollback).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const fail = (message) => {
  console.error(`verify.js: ${message}`);
  process.exit(1);
};
const { STAGEGATE_SERVICE: service, STAGEGATE_ENVIRONMENT: environment } = process.env;
const { STAGEGATE_RELEASE_ID: releaseId, STAGEGATE_STATE_DIR: state } = process.env;
if (!service || !environment || !releaseId || !state)
  fail('STAGEGATE_SERVICE, STAGEGATE_ENVIRONMENT, STAGEGATE_RELEASE_ID and STAGEGATE_STATE_DIR must be set');
if (process.env.DEMO_FAIL_VERIFY === '1') fail('DEMO_FAIL_VERIFY=1: failing verification on purpose');

const file = join(state, environment, service, 'current.json');
let current;
try {
  current = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  fail(`cannot read ${file}: ${e.message} (was deploy.js run for this environment?)`);
}
if (current.releaseId !== releaseId)
  fail(`${environment} runs ${current.releaseId}, expected ${releaseId}; redeploy the release`);
console.log(`verified ${service}@${current.version} in ${environment} (${releaseId})`);
