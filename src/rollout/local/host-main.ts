/**
 * The local host process (bin/stagegate-local-host.js <hostDir>): one per environment and service,
 * detached from the server. Reads host-spec.json and control.token, kills instances a dead
 * predecessor left, starts the weighted proxy and the control socket, publishes host.json, then
 * restores desired.json. POST /shutdown and SIGTERM stop every version, close the proxy, remove
 * host.json and desired.json, and exit 0.
 */
import { readFile, rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import pino from 'pino';
import { procState, readJson, writeAtomic } from '../targets/exec-run-dir.ts';
import { startControlServer } from './control-server.ts';
import { controlRoutes, parse } from './control-routes.ts';
import { createDesiredWriter, killOrphans, restoreDesired } from './desired-state.ts';
import { createEventLog } from './event-log.ts';
import { type HostJson, hostFiles } from './host-files.ts';
import { createLocalHost } from './local-host.ts';
import { hostSpecSchema } from './version-spec.ts';

const logger = pino({ base: { pid: process.pid, component: 'stagegate-local-host' } });

async function main(hostDir: string): Promise<void> {
  const files = hostFiles(hostDir);
  const spec = parse(hostSpecSchema, await readJson(files.spec), 'host-spec.json');
  const token = (await readFile(files.token, 'utf8')).trim();
  if (token.length < 32) throw new Error(`${files.token} holds no usable token (under 32 characters)`);
  const clock = () => new Date();
  const events = createEventLog({ clock, onEvent: (e) => logger.info({ event: e }, e.message) });
  await killOrphans(hostDir, events.push);
  const desired = createDesiredWriter(files, (err) => logger.warn({ err }, 'local host: could not write desired.json'));
  const host = await createLocalHost({ spec, files, events, logger, clock, persist: (d) => desired.write(d) });

  let stopping: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ why }, 'local host: shutting down');
      await host.close();
      await control.close();
      await desired.flushed();
      await Promise.all([rm(files.hostJson, { force: true }), rm(files.desired, { force: true }), rm(files.socket, { force: true })]);
      logger.info('local host: stopped');
      process.exit(0);
    })();
    return stopping;
  };
  const routes = controlRoutes(host, { pid: process.pid, events, spec, shutdown: () => void setImmediate(() => void shutdown('POST /shutdown')) });
  const control = await startControlServer({ socketPath: files.socket, token, routes, logger });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined);
  let identity: string | null = null;
  try {
    identity = procState(process.pid).identity;
  } catch {
    // not Linux
  }
  const published: HostJson = { pid: process.pid, identity, startedAt: clock().toISOString(), proxyUrl: host.proxyUrl, controlSocket: files.socket };
  await writeAtomic(files.hostJson, JSON.stringify(published));
  logger.info({ proxyUrl: host.proxyUrl, environment: spec.environment, service: spec.service }, 'local host: listening');
  await restoreDesired(host, files, events.push).catch((err) => {
    logger.warn({ err }, 'local host: restoring desired.json failed');
    events.push('restore-failed', `restoring ${files.desired} failed: ${(err as Error).message}`);
  });
}

const hostDir = process.argv[2];
if (!hostDir || !isAbsolute(hostDir)) {
  process.stderr.write('usage: stagegate-local-host.js ABSOLUTE_HOST_DIR\n');
  process.exit(2);
}
process.on('uncaughtException', (err) => {
  logger.error({ err }, 'local host: uncaught exception; exiting (instances are killed by the next host)');
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  logger.error({ err }, 'local host: unhandled rejection (a bug); the host keeps running');
});
main(hostDir).catch((err) => {
  logger.error({ err }, `local host failed to start: ${(err as Error).message}`);
  process.exit(1);
});
