/**
 * slicenet-netop on a lab node: a process in the node's network namespace (host network, as its
 * DaemonSet would run), reaching the API server on the cluster LAN. Used by the lab e2e test.
 */
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import type { ProcessRecord } from '../lab/process.ts';
import { processArgv } from '../lib/bundle.ts';
import { runRaw } from '../lib/exec.ts';
import { waitFor } from '../lib/wait.ts';

const repo = join(import.meta.dirname, '..');
export const LAB_NETOP_PROBE_PORT = 8086;

export const netopProcessId = (node: string): string => `netop-${node}`;

export function startLabNetop(lab: Lab, node: string, flags: Record<string, string> = {}): ProcessRecord {
  const { cluster, node: n } = lab.node(node);
  const all = {
    node: n.name,
    kubeconfig: lab.lanKubeconfig(cluster.name),
    'probe-port': String(LAB_NETOP_PROBE_PORT),
    ...flags,
  };
  const argv = processArgv('slicenet-netop');
  for (const [flag, value] of Object.entries(all)) argv.push(`--${flag}`, value);
  return lab.processes.start({ id: netopProcessId(n.name), netns: n.netns, cwd: repo, argv });
}

/** GETs a probe path of the node's netop; undefined while it does not answer 200. */
export async function labNetopGet(lab: Lab, node: string, path: string): Promise<string | undefined> {
  const r = await runRaw(['curl', '-sf', `http://127.0.0.1:${LAB_NETOP_PROBE_PORT}${path}`], {
    netns: lab.node(node).node.netns,
  });
  return r.exitCode === 0 ? r.stdout : undefined;
}

export async function waitLabNetopReady(lab: Lab, node: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => (await labNetopGet(lab, node, '/readyz')) !== undefined,
    timeoutMs,
    `netop on ${node}`,
  );
}
