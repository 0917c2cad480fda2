/** serveAgent on a socket in a fresh temp dir, closed and removed when the test ends. */
import type { ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveAgent, type AgentServer } from '../../agent/server.ts';
import type { AgentBackend } from '../../api.ts';

export interface TestAgent {
  socket: string;
  server: AgentServer;
}

export async function startAgent(t: ExecutionContext<unknown>, backend: AgentBackend): Promise<TestAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'slicenet-agent-'));
  const socket = join(dir, 'run', 'agent.sock');
  const abort = new AbortController();
  const server = await serveAgent(socket, backend, abort.signal);
  t.teardown(async () => {
    abort.abort();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { socket, server };
}
