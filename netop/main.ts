/**
 * slicenet-netop: one per node, host network (SPEC §2, §7). Stops on SIGTERM or SIGINT. Exit
 * codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import { runProcess } from '../lib/main.ts';
import { loadNetopConfig, NetopConfigError } from './config.ts';
import { runNetop } from './netop.ts';

await runProcess({
  program: 'slicenet-netop',
  component: 'netop',
  load: loadNetopConfig,
  isConfigError: (err) => err instanceof NetopConfigError,
  logFields: (config) => ({ node: config.node }),
  run: runNetop,
});
