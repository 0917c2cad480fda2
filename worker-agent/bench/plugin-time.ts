/**
 * The plugin's own ADD and DEL time on a lab node, as a runtime sees it: the bundled plugin
 * started as a fresh process against the node's real agent (so Node's start-up, loading the
 * client, the gRPC call and the agent's work with its processes, all of it), one call at a
 * time, into a network namespace this bench makes. Sequential calls, so the figures say what
 * one attach costs rather than how calls queue; less sensitive to the machine's load than
 * pod create → Running.
 *
 * The plugin needs no particular network namespace of its own: the agent's socket is a
 * path, and the agent makes the NIC in CNI_NETNS. So it runs from here, as Multus would.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Lab } from '../../lab/lab.ts';
import { runRaw } from '../../lib/exec.ts';
import { DEFAULT_BUNDLE } from '../cni/install.ts';
import { CLUSTER, NAMESPACE, SLICE } from './slice-lab.ts';

export interface PluginTimes {
  addMs: number[];
  delMs: number[];
}

/** Runs the plugin at `bundle` once as a runtime would; its wall time in ms, or why it failed. */
export function timePlugin(bundle: string, env: Record<string, string>, stdin: string): Promise<number> {
  const started = performance.now();
  const child = spawn(bundle, [], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(performance.now() - started)
        : reject(new Error(`plugin ${env.CNI_COMMAND} exited ${code}: ${out}`)),
    );
  });
}

/** `calls` ADDs (each a new NIC `sl<i>` in one namespace), then their DELs; wall ms of each. */
export async function pluginTimes(lab: Lab, calls: number): Promise<PluginTimes> {
  const node = lab.cluster(CLUSTER).nodes[0]!;
  const netns = `${lab.plan.name}-plugin`;
  const netnsPath = join('/run/netns', netns);
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: `slicenet-${SLICE}`,
    type: 'slicenet',
    slice: SLICE,
  });
  const env = (command: string, i: number): Record<string, string> => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: `bench-plugin-${i}`,
    CNI_NETNS: netnsPath,
    CNI_IFNAME: `sl${i}`,
    CNI_ARGS: `K8S_POD_NAMESPACE=${NAMESPACE};K8S_POD_NAME=plugin-${i}`,
    CNI_PATH: '/opt/cni/bin',
    SLICENET_AGENT_SOCKET: lab.paths.agentSocket(CLUSTER, node.name),
  });
  const out: PluginTimes = { addMs: [], delMs: [] };
  const added: number[] = [];
  const r = await runRaw(['ip', 'netns', 'add', netns]);
  if (r.exitCode !== 0) throw new Error(`ip netns add ${netns}: ${r.stderr}`);
  try {
    // One unmeasured call: the page cache, and the slice's links on this node.
    await timePlugin(DEFAULT_BUNDLE, env('ADD', calls), conf);
    added.push(calls);
    for (let i = 0; i < calls; i++) {
      out.addMs.push(await timePlugin(DEFAULT_BUNDLE, env('ADD', i), conf));
      added.push(i);
    }
    for (const i of [...added]) {
      const ms = await timePlugin(DEFAULT_BUNDLE, env('DEL', i), conf);
      added.splice(added.indexOf(i), 1);
      if (i !== calls) out.delMs.push(ms);
    }
  } finally {
    for (const i of added) await timePlugin(DEFAULT_BUNDLE, env('DEL', i), conf).catch(() => undefined);
    await runRaw(['ip', 'netns', 'del', netns]);
  }
  return out;
}
