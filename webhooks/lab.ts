/**
 * slicenet-webhook inside a lab cluster: a process in the control-plane network namespace,
 * which the API server dials at the cluster-LAN address (`--client-config url`: the lab has no
 * kube-proxy, so no Service). Used by the lab install, the end-to-end tests and bench:control.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../lab/controlplane.ts';
import type { Lab } from '../lab/lab.ts';
import { processArgv } from '../lib/bundle.ts';
import { runRaw } from '../lib/exec.ts';

const repo = join(import.meta.dirname, '..');

export interface LabWebhookOptions {
  /** Where the webhook keeps its Secret and reads SliceConfigs. */
  namespace: string;
  port?: number;
  probePort?: number;
  resyncSeconds?: number;
  /** Node options before the bundle, e.g. `--cpu-prof` (bench:control). */
  nodeOptions?: string[];
}

/** The lab process id of a cluster's webhook. */
export const webhookProcessId = (cluster: string): string => `webhook-${cluster}`;

/** Starts the webhook in `cluster` and resolves once its /readyz answers 200. */
export async function startLabWebhook(lab: Lab, cluster: string, o: LabWebhookOptions): Promise<void> {
  const c = lab.cluster(cluster);
  const { ip, netns } = c.controlPlane;
  const probePort = o.probePort ?? 8081;
  const flags = {
    kubeconfig: lab.lanKubeconfig(cluster),
    namespace: o.namespace,
    'hub-namespace': o.namespace,
    'client-config': 'url',
    'url-host': ip,
    port: String(o.port ?? 9443),
    'probe-port': String(probePort),
    'resync-seconds': String(o.resyncSeconds ?? 60),
  };
  const [node, bundle] = processArgv('slicenet-webhook');
  const argv = [node!, ...(o.nodeOptions ?? []), bundle!];
  for (const [flag, value] of Object.entries(flags)) argv.push(`--${flag}`, value);
  lab.processes.start({ id: webhookProcessId(cluster), netns, cwd: repo, argv });
  await waitLabWebhookReady(lab, cluster, probePort);
}

/** Resolves once the lab webhook's /readyz answers 200; fails with its log's tail. */
export async function waitLabWebhookReady(lab: Lab, cluster: string, probePort = 8081): Promise<void> {
  const { ip, netns } = lab.cluster(cluster).controlPlane;
  const url = `http://${ip}:${probePort}/readyz`;
  try {
    await waitFor(async () => (await runRaw(['curl', '-sf', url], { netns })).exitCode === 0, 60_000, url);
  } catch (err) {
    // A test's lab, and the log with it, is gone once the test ends: show why now.
    const log = readFileSync(lab.processes.logPath(webhookProcessId(cluster)), 'utf8')
      .split('\n')
      .slice(-20)
      .join('\n');
    throw new Error(`${(err as Error).message}; webhook log:\n${log}`, { cause: err });
  }
}
