/**
 * slicenet-agent on a lab node: a process in the node's network namespace (host network, as
 * its DaemonSet would run), with its state under the node's directory and its CNI socket
 * where that node's kubelet tells the plugin to look. Used by the lab install, the
 * end-to-end tests and the benchmarks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import { cniBinDir } from '../lab/paths.ts';
import type { ProcessRecord } from '../lab/process.ts';
import { processArgv } from '../lib/bundle.ts';
import { runRaw } from '../lib/exec.ts';
import { waitFor } from '../lib/wait.ts';

const repo = join(import.meta.dirname, '..');
export const LAB_AGENT_PROBE_PORT = 8084;

export const agentProcessId = (node: string): string => `agent-${node}`;

export function startLabAgent(lab: Lab, node: string): ProcessRecord {
  const { cluster, node: n } = lab.node(node);
  const dir = lab.paths.node(cluster.name, n.name);
  const flags = {
    node: n.name,
    kubeconfig: lab.lanKubeconfig(cluster.name),
    'state-dir': join(dir, 'agent'),
    socket: lab.paths.agentSocket(cluster.name, n.name),
    'cni-bin-dir': cniBinDir(),
    'local-ip': n.ip,
    'probe-port': String(LAB_AGENT_PROBE_PORT),
  };
  const argv = processArgv('slicenet-agent');
  for (const [flag, value] of Object.entries(flags)) argv.push(`--${flag}`, value);
  return lab.processes.start({ id: agentProcessId(n.name), netns: n.netns, cwd: repo, argv });
}

/** Resolves once the node's agent answers /readyz with 200. */
export async function waitLabAgentReady(lab: Lab, node: string, timeoutMs = 60_000): Promise<void> {
  const url = `http://127.0.0.1:${LAB_AGENT_PROBE_PORT}/readyz`;
  try {
    await waitFor(
      async () => (await runRaw(['curl', '-sf', url], { netns: lab.node(node).node.netns })).exitCode === 0,
      timeoutMs,
      `the agent on ${node} to be ready`,
    );
  } catch (err) {
    // A test's lab, and the log with it, is gone once the test ends: show why now.
    const log = readFileSync(lab.processes.logPath(agentProcessId(node)), 'utf8')
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`${(err as Error).message}; agent log:\n${log}`, { cause: err });
  }
}
