/**
 * A lab with Slicenet installed as an operator would (lab/slicenet.ts: hub controller, workers,
 * webhooks, agents, netop, gateways on the first node of each cluster), and what netop's lab
 * tests do on it: slices across every cluster, joined namespaces, pods on slice0, paths that
 * wait for the gateways' handshakes, long-running programs inside pods.
 */
import { cpSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../../../controller/api/names.ts';
import { API_VERSION, type SliceConfigSpec } from '../../../controller/api/types.ts';
import { podView } from '../../../lab/demo.ts';
import { Lab } from '../../../lab/lab.ts';
import { installSlicenet } from '../../../lab/slicenet.ts';
import { testLabName } from '../../../lab/test/leftovers.ts';
import { waitFor } from '../../../lib/wait.ts';
import { Netns } from './netns.ts';

/** 2 clusters × `nodes`, Slicenet installed with gateways on each cluster's first node only. */
export async function upSliceLab(nodes = 1): Promise<Lab> {
  const lab = await Lab.up({ name: testLabName('qx'), clusters: 2, nodes });
  try {
    await installSlicenet(lab, { gatewayNodes: 1, prometheus: false });
  } catch (err) {
    await lab.down();
    throw err;
  }
  return lab;
}

/**
 * Takes the lab down. When `failed`, first copies every log of it (control planes, kubelets,
 * netop, workers, agents, and the pods': gateways and test programs) to a temporary folder, so
 * the cause can be read afterwards; returns that folder.
 */
export async function downSliceLab(lab: Lab, failed: boolean): Promise<string | undefined> {
  let kept: string | undefined;
  if (failed) {
    kept = join(tmpdir(), `slicenet-logs-${lab.plan.name}`);
    cpSync(lab.paths.dir, kept, {
      recursive: true,
      filter: (src) => statSync(src).isDirectory() || src.endsWith('.log') || src.endsWith('.json'),
    });
  }
  await lab.down();
  return kept;
}

export const clustersOf = (lab: Lab): string[] => lab.plan.clusters.map((c) => c.name);
export const gatewayNode = (lab: Lab, cluster: string): string => lab.cluster(cluster).nodes[0]!.name;

/** Applies a SliceConfig across every cluster of the lab, on the hub (the first cluster). */
export async function applySlice(
  lab: Lab,
  name: string,
  spec: Omit<SliceConfigSpec, 'clusters'>,
): Promise<void> {
  await lab.kubectl(
    clustersOf(lab)[0]!,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: API_VERSION,
      kind: 'SliceConfig',
      metadata: { name, namespace: SYSTEM_NAMESPACE },
      spec: { ...spec, clusters: clustersOf(lab) },
    }),
  );
}

/** Creates `namespace` in `cluster` with `labels`; joins it to `slice` unless that is undefined. */
export async function makeNamespace(
  lab: Lab,
  cluster: string,
  namespace: string,
  slice: string | undefined,
  labels: Record<string, string> = {},
): Promise<void> {
  await lab.kubectl(cluster, ['create', 'namespace', namespace]).catch(() => '');
  const all = { ...labels, ...(slice ? { [SLICE_LABEL]: slice } : {}) };
  if (Object.keys(all).length)
    await lab.kubectl(cluster, [
      'label',
      'namespace',
      namespace,
      ...Object.entries(all).map(([k, v]) => `${k}=${v}`),
      '--overwrite',
    ]);
  if (slice)
    await waitFor(
      async () =>
        (await lab.kubectl(cluster, ['get', 'net-attach-def', '-n', namespace, '-o', 'name'])).includes(
          `slicenet-${slice}`,
        ),
      120_000,
      `the NetworkAttachmentDefinition of ${slice} in ${cluster}/${namespace}`,
    );
}

export interface PodSpec {
  cluster: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Default: the cluster's first node. */
  node?: string;
  /** Default: sleep. */
  command?: string[];
}

export interface SlicePod extends PodSpec {
  /** The slice0 address; undefined for a pod that is not on a slice. */
  ip?: string;
  netns: Netns;
}

/** Creates the pods and waits until each runs (with slice0 where its namespace joined a slice). */
export async function startPods(lab: Lab, specs: PodSpec[], onSlice = true): Promise<SlicePod[]> {
  for (const p of specs)
    await lab.kubectl(
      p.cluster,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, namespace: p.namespace, labels: p.labels ?? {} },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': p.node ?? gatewayNode(lab, p.cluster) },
          containers: [{ name: 'main', image: 'lab/none', command: p.command ?? ['sleep', 'infinity'] }],
        },
      }),
    );
  return Promise.all(
    specs.map(async (p) => {
      let ip: string | undefined;
      await waitFor(
        async () => {
          const v = await podView(lab, p.cluster, p.namespace, p.name).catch(() => undefined);
          if (v?.phase !== 'Running') return false;
          ip = v.networkStatus.find((s) => s.interface === 'slice0')?.ips?.[0];
          return !onSlice || ip !== undefined;
        },
        120_000,
        `${p.cluster}/${p.namespace}/${p.name} Running${onSlice ? ' with slice0' : ''}`,
      );
      return { ...p, ip, netns: new Netns(await lab.podNetns(p.cluster, p.namespace, p.name)) };
    }),
  );
}

/** Pings from `from` to `ip` until a reply (gateways start and shake hands first). */
export async function waitPath(from: SlicePod, ip: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await from.netns.execRaw(['ping', '-n', '-c1', '-W1', ip]);
    if (r.exitCode === 0) return;
    if (Date.now() > deadline)
      throw new Error(`no path from ${from.cluster}/${from.name} to ${ip} within ${timeoutMs} ms`);
    await sleep(1000);
  }
}
