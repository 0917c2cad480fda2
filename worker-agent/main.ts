/**
 * slicenet-agent: one per node, host network (SPEC §5). Stops on SIGTERM or SIGINT. Exit
 * codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import { runProcess } from '../lib/main.ts';
import { runAgent } from './agent/agent.ts';
import { AgentConfigError, loadAgentConfig } from './config.ts';

await runProcess({
  program: 'slicenet-agent',
  component: 'agent',
  load: loadAgentConfig,
  isConfigError: (err) => err instanceof AgentConfigError,
  logFields: (config) => ({ node: config.node }),
  run: runAgent,
});
