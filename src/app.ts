/** Composition root: config + store + clock + keys + logger -> a running stagegate server. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { createAuditLog } from './audit/log.ts';
import { createOidcVerifier } from './auth/oidc.ts';
import { createFailureLimiter } from './auth/rate-limit.ts';
import { createSessionIssuer } from './auth/session.ts';
import { createCedarAuthorizer } from './policy/cedar/authorizer.ts';
import { loadPolicySet } from './policy/cedar/load.ts';
import { keyIdOf, loadPrivateKey, writeKeyPair } from './crypto/keys.ts';
import { generateNoteKey } from './audit/note.ts';
import type { Config } from './config.ts';
import { createEngine, type Engine } from './engine/engine.ts';
import { createIdentityHolder } from './engine/identities.ts';
import { loadProject } from './project/load.ts';
import { createExecRunner } from './rollout/targets/exec.ts';
import { createExecTarget } from './rollout/targets/exec-target.ts';
import { createLocalTarget } from './rollout/targets/local-target.ts';
import { createGitopsTarget } from './rollout/targets/gitops/gitops-target.ts';
import { createWebhookTarget } from './rollout/targets/webhook/webhook-target.ts';
import { createCallbackHub } from './rollout/targets/webhook/callbacks.ts';
import { webhookCallbackRoutes } from './server/routes/webhook-callbacks.ts';
import type { Target } from './rollout/target.ts';
import type { Project } from './project/schema.ts';
import { createRequestHandler, type Route } from './server/http.ts';
import { accessRoutes } from './server/routes/access.ts';
import { identityRoutes } from './server/routes/identities.ts';
import { auditRoutes } from './server/routes/audit.ts';
import { promotionRoutes } from './server/routes/promotions.ts';
import { releaseRoutes } from './server/routes/releases.ts';
import { tokenRoutes } from './server/routes/tokens.ts';
import { elevationRoutes } from './server/routes/elevation.ts';
import { flagRoutes } from './server/routes/flags.ts';
import { ofrepRoutes } from './server/routes/ofrep.ts';
import { parityRoutes } from './server/routes/parity.ts';
import { eventRoutes } from './server/routes/events.ts';
import { rolloutRoutes } from './server/routes/rollouts.ts';
import { createBlobStore } from './store/blob-store.ts';
import { openSqliteStore } from './store/sqlite-store.ts';
import type { Store } from './store/store.ts';

export interface App {
  engine: Engine;
  store: Store;
  server: Server;
  /** the admin token, only on the first start of a data folder */
  bootstrapToken: string | undefined;
  /** every route the server serves, in match order (the authorization matrix test enumerates it) */
  routes: readonly Route[];
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** the audit log's Ed25519 note key, made once per data folder, private key mode 0600 */
async function logSigner(dataDir: string, origin: string): Promise<string> {
  const file = path.join(dataDir, 'keys', 'audit-log.key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const k = generateNoteKey(origin);
  await writeFile(file, `${k.signerKey}\n`, { mode: 0o600, flag: 'wx' });
  await writeFile(path.join(dataDir, 'keys', 'audit-log.pub'), `${k.verifierKey}\n`);
  return k.signerKey;
}

/** the server's ECDSA P-256 key: signs approval records; made once per data folder, mode 0600 */
async function serverSigningKey(dataDir: string): Promise<{ privateKey: KeyObject; publicKeyPem: string; keyId: string }> {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'server.key');
  if (!existsSync(file)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeKeyPair(dir, 'server');
  }
  const privateKey = loadPrivateKey(await readFile(file, 'utf8'), file);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: keyIdOf(publicKey) };
}

/** the P-256 key that signs session tokens; made once per data folder, mode 0600 */
async function sessionSigningKey(dataDir: string): Promise<KeyObject> {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'session.key');
  if (!existsSync(file)) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeKeyPair(dir, 'session');
  }
  return loadPrivateKey(await readFile(file, 'utf8'), file);
}

/** the `aud` of API session tokens */
export const API_AUDIENCE = 'stagegate';

export async function createApp(opts: { config: Config; logger: Logger; clock?: () => Date; store?: Store }): Promise<App> {
  const { config, logger } = opts;
  const clock = opts.clock ?? (() => new Date());
  const project = await loadProject(config.projectFile);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await chmod(config.dataDir, 0o700);
  const store = opts.store ?? (await openSqliteStore({ file: path.join(config.dataDir, 'stagegate.db') }));
  const origin = config.logOrigin ?? `stagegate.local/${project.project}`;
  const log = createAuditLog({ origin, noteSigner: await logSigner(config.dataDir, origin), clock });
  const runsDir = path.join(config.dataDir, 'runs');
  const runner = createExecRunner({ runsDir });
  const callbacks = createCallbackHub({ clock });
  const createTarget = (t: Project['targets'][string]): Target => {
    switch (t.type) {
      case 'exec':
        return createExecTarget({ config: t, runner, cwd: project.baseDir, stateDir: path.join(config.dataDir, 'target-state') });
      case 'local':
        return createLocalTarget({ config: t, runner, stateRoot: path.join(config.dataDir, 'local', t.name), projectDir: project.baseDir, logger });
      case 'gitops':
        return createGitopsTarget({ config: t, projectDir: project.baseDir, workRoot: path.join(config.dataDir, 'gitops', t.name), clock, logger });
      case 'webhook':
        return createWebhookTarget({ config: t, secretFromEnv: (n) => process.env[n], callbacks, ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}), clock, logger });
    }
  };
  const targets = new Map(
    Object.entries(project.targets).map(([name, t]) => [
      name,
      createTarget(t),
    ]),
  );
  const authz = createCedarAuthorizer(await loadPolicySet(project.policiesDir ? { dir: project.policiesDir } : {}));
  authz.warmUp();
  const sessions = await createSessionIssuer({ key: await sessionSigningKey(config.dataDir), issuer: `stagegate/${project.project}`, audience: API_AUDIENCE, clock });
  const oidc = createOidcVerifier(project.identities?.oidc ?? [], { clock, fetchTimeoutMs: 5_000 });
  const authLimiter = createFailureLimiter({ maxFailures: config.authMaxFailures, windowMs: 60_000, lockoutMs: config.authLockoutSeconds * 1000, clock });
  const engine = createEngine({
    identities: createIdentityHolder(project.identities),
    sessions,
    apiAudience: API_AUDIENCE,
    oidc,
    authLimiter,
    authz,
    serverKey: (await serverSigningKey(config.dataDir)).privateKey,
    store,
    log,
    project,
    clock,
    logger,
    blobs: createBlobStore({ dir: path.join(config.dataDir, 'blobs') }),
    targets,
    runsDir,
    ageIdentityDir: config.ageIdentityDir,
  });
  await engine.policyChanges.reconcileOnStart();
  await engine.identities.load();
  const bootstrapToken = await engine.tokens.bootstrap(config.bootstrapToken);
  await engine.flags.seed();
  let ready = false;
  const routes: Route[] = [
    { method: 'GET', pattern: /^\/healthz$/, auth: false, handler: async () => ({ status: 200, json: { status: 'alive' } }) },
    {
      method: 'GET',
      pattern: /^\/readyz$/,
      auth: false,
      handler: async () => (ready ? { status: 200, json: { status: 'ready' } } : { status: 503, json: { status: 'starting' } }),
    },
    ...releaseRoutes(engine, config.maxBlobBytes),
    ...promotionRoutes(engine),
    ...auditRoutes(engine),
    ...tokenRoutes(engine),
    ...accessRoutes(engine, project),
    ...identityRoutes(engine),
    ...elevationRoutes(engine, project),
    ...flagRoutes(engine),
    ...ofrepRoutes(engine),
    ...parityRoutes(engine),
    ...eventRoutes(engine),
    ...rolloutRoutes(engine),
    ...webhookCallbackRoutes(callbacks),
  ];
  const handler = createRequestHandler({ engine, logger, maxBodyBytes: config.maxBodyBytes, routes, isReady: () => ready });
  const server = createServer({ requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => void handler(req, res));
  server.keepAliveTimeout = 5_000;

  return {
    engine,
    store,
    server,
    bootstrapToken,
    routes,
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve());
      });
      engine.reconciler.start(config.reconcileIntervalMs);
      ready = true;
      engine.parity.scheduler.start(); // the first attestation run, then on its interval
      return server.address() as AddressInfo;
    },
    async close() {
      ready = false;
      await engine.reconciler.stop();
      await engine.parity.scheduler.stop();
      engine.parity.events.close(); // ends every event stream, so the server can close
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await store.close();
    },
  };
}
