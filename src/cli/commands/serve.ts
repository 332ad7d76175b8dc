import { pino } from 'pino';
import { createApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { parse } from '../args.ts';
import type { Command } from '../command.ts';

const usage = 'stagegate serve [--host H] [--port P] [--data DIR] [--project FILE] [--log-level LEVEL]';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the stagegate server (HTTP API, reconcile loop) on embedded SQLite',
  usage,
  async run(args, ctx) {
    const { values } = parse(
      args,
      { host: { type: 'string' }, port: { type: 'string' }, data: { type: 'string' }, project: { type: 'string' }, 'log-level': { type: 'string' } },
      usage,
      false,
    );
    const config = loadConfig(
      { host: values.host, port: values.port as unknown as number, dataDir: values.data, projectFile: values.project, logLevel: values['log-level'] as 'info' | undefined },
      ctx.env,
    );
    const logger = pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.token', '*.secret'] }, pino.destination(2));
    const app = await createApp({ config, logger });
    // the one time a secret is printed: the operator must copy it now
    if (app.bootstrapToken) ctx.out(`bootstrap token: ${app.bootstrapToken}`);
    const addr = await app.listen();
    ctx.out(`stagegate listening on http://${addr.address}:${addr.port} (data ${config.dataDir}, project ${config.projectFile})`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        void app.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};
