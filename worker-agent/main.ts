/**
 * slicenet-agent: one per node, host network (SPEC §5). Stops on SIGTERM or SIGINT. Exit
 * codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import { createLogger } from '../lib/log.ts';
import { runAgent } from './agent/agent.ts';
import { AgentConfigError, loadAgentConfig } from './config.ts';

let config;
try {
  config = loadAgentConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (
    !(err instanceof AgentConfigError) &&
    (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  )
    throw err;
  process.stderr.write(`slicenet-agent: ${(err as Error).message}\n`);
  process.exit(2);
}

const log = createLogger('agent', { node: config.node });
const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    log.info('stopping');
    root.abort();
  });
try {
  await runAgent(config, log, root.signal);
  log.info('stopped');
} catch (err) {
  log.error('failed', { err });
  process.exitCode = 1;
}
