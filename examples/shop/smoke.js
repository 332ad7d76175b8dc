// stagegate local target verification: integration tests against the environment through its proxy
// ($STAGEGATE_URL), which adds the latency set in `verification.inject`. Checks that every request
// succeeds, that the new version answers, and that it stays within the latency budget. Dependency-free ESM.
const url = process.env.STAGEGATE_URL;
const version = process.env.STAGEGATE_VERSION;
const budgetMs = Number(process.env.SMOKE_BUDGET_MS ?? 2000);
const requests = Number(process.env.SMOKE_REQUESTS ?? 20);
if (!url || !version) {
  console.error('smoke.js: STAGEGATE_URL and STAGEGATE_VERSION must be set (stagegate sets them for verification)');
  process.exit(2);
}
let slowest = 0;
for (let i = 0; i < requests; i++) {
  const t0 = performance.now();
  const res = await fetch(`${url}/`);
  const body = await res.text();
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (res.status !== 200) {
    console.error(`smoke.js: GET / answered ${res.status} (${res.headers.get('x-stagegate-version')}): ${body.slice(0, 200)}`);
    process.exit(1);
  }
  if (!body.startsWith(`checkout ${version}`)) {
    console.error(`smoke.js: GET / was served by ${res.headers.get('x-stagegate-version')}, expected ${version}`);
    process.exit(1);
  }
}
if (slowest > budgetMs) {
  console.error(`smoke.js: slowest request took ${Math.round(slowest)} ms, over the ${budgetMs} ms budget`);
  process.exit(1);
}
console.log(`smoke.js: ${requests} requests to ${version} ok, slowest ${Math.round(slowest)} ms (budget ${budgetMs} ms)`);
