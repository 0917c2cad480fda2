/**
 * slicenet-webhook: reads the config, starts the webhook, and stops it on SIGTERM or SIGINT.
 * Exit codes: 0 after a clean stop, 1 if it could not start, 2 for a bad setting.
 */
import { createLogger } from '../lib/log.ts';
import { loadConfig, usage } from './config.ts';
import { ConfigError } from './errors.ts';
import { Webhook } from './webhook.ts';

const log = createLogger('webhook');
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(usage());
  process.exit(0);
}

let config;
try {
  config = loadConfig(argv, process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`slicenet-webhook: ${err.message}\n`);
  process.exit(2);
}

const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => root.abort());
const webhook = new Webhook(config, { log });
webhook.metrics.withProcessMetrics();
root.signal.addEventListener('abort', () => {
  log.info('stopping');
  void webhook.stop().then(() => log.info('stopped'));
});
try {
  await webhook.start(root.signal);
} catch (err) {
  log.error('webhook failed to start', { err });
  await webhook.stop();
  process.exitCode = 1;
}
