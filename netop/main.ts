/**
 * slicenet-netop: one per node, host network (SPEC §2, §7). Stops on SIGTERM or SIGINT. Exit
 * codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import { createLogger } from '../lib/log.ts';
import { loadNetopConfig, NetopConfigError } from './config.ts';
import { runNetop } from './netop.ts';

let config;
try {
  config = loadNetopConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (
    !(err instanceof NetopConfigError) &&
    (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  )
    throw err;
  process.stderr.write(`slicenet-netop: ${(err as Error).message}\n`);
  process.exit(2);
}

const log = createLogger('netop', { node: config.node });
const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    log.info('stopping');
    root.abort();
  });
try {
  await runNetop(config, log, root.signal);
  log.info('stopped');
} catch (err) {
  log.error('failed', { err });
  process.exitCode = 1;
}
