/**
 * Installs Slicenet into a running lab, as an operator would into real clusters:
 *
 *   every cluster   CRDs, namespace slicenet-system, the webhook (pod NIC injection; on the hub
 *                   also SliceConfig validation), a worker pulling from the hub with the
 *                   credential `kubectl slice register` made for it, an agent and netop per node, and the
 *                   label `slicenet.dev/gateway=true` on the nodes that may run gateways, whose
 *                   netop shapes the node's WAN link (`--uplink eth0`: per-slice QoS), and
 *                   slicenet-dns on the first node, serving the pods' resolver address (dns/lab.ts)
 *   the hub         the hub controller, and each member registered as a Cluster
 *   the lab         Prometheus scraping all of it (lab/prometheus.ts), if Debian's is installed
 *
 * Every process is a lab process (lab/process.ts): `lab down` stops it. Idempotent for objects
 * (server-side apply, create-if-absent); processes are started once per call, so call it once
 * per lab.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLabController, startLabWorker } from '../controller/lab.ts';
import { registerCluster } from '../controller/registration.ts';
import { SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import { startLabWebhook } from '../webhooks/lab.ts';
import { startLabAgent, waitLabAgentReady } from '../worker-agent/lab.ts';
import { startLabNetop, waitLabNetopReady } from '../netop/lab.ts';
import { labelGatewayNodes } from '../slice-gateway/lab.ts';
import { startLabDns, waitLabDnsReady } from '../dns/lab.ts';
import { runRaw } from '../lib/exec.ts';
import type { Lab } from './lab.ts';
import { startLabPrometheus, type PrometheusOptions } from './prometheus.ts';

const repo = join(import.meta.dirname, '..');

/** A lab node's WAN interface (lab/topology.ts): the gateways' tunnel packets leave by it. */
export const LAB_NODE_UPLINK = 'eth0';
/**
 * The rate netop is told the uplink carries. A veth has none of its own; 10 Gbit/s is more
 * than a lab moves, so the parent class never throttles and each slice gets its own ceiling.
 */
export const LAB_UPLINK_KBIT = 10_000_000;

export interface InstallOptions {
  /** The cluster whose API server is the hub (default: the first). */
  hub?: string;
  /** How many nodes per cluster get the gateway label, from the first (default 2, or all if fewer). */
  gatewayNodes?: number;
  /** Told of each step, for progress output. */
  progress?: (line: string) => void;
  /** Prometheus settings, or false for none (default: started if Debian's prometheus is installed). */
  prometheus?: PrometheusOptions | false;
}

export interface Installation {
  hub: string;
  /** Where each cluster's hub credential was written. */
  hubKubeconfigs: Record<string, string>;
  /** The lab Prometheus's loopback URL, if one was started. */
  prometheus?: string;
}

export async function installSlicenet(lab: Lab, o: InstallOptions = {}): Promise<Installation> {
  const say = o.progress ?? (() => {});
  const clusters = lab.plan.clusters.map((c) => c.name);
  const hub = o.hub ?? clusters[0]!;
  if (!clusters.includes(hub)) throw new Error(`hub "${hub}" is not a cluster of lab ${lab.plan.name}`);

  say(`installing CRDs and ${SYSTEM_NAMESPACE} in ${clusters.join(', ')}`);
  await Promise.all(
    clusters.map(async (c) => {
      await lab.kubectl(c, ['apply', '--server-side', '-f', join(repo, 'crds')]);
      await lab.kubectl(c, ['create', 'namespace', SYSTEM_NAMESPACE]).catch(() => '');
      await lab.kubectl(c, ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
    }),
  );

  say(`starting the hub controller in ${hub} and registering ${clusters.join(', ')}`);
  startLabController(lab, { hubCluster: hub });
  const hubKubeconfigs: Record<string, string> = {};
  for (const c of clusters) {
    const { kubeconfig } = await registerCluster(lab.kubeConfig(hub), c, {
      server: lab.lanServer(hub),
      caFile: join(lab.paths.cluster(hub), 'pki', 'ca.crt'),
    });
    hubKubeconfigs[c] = join(lab.paths.cluster(c), 'hub.kubeconfig');
    writeFileSync(hubKubeconfigs[c], kubeconfig, { mode: 0o600 });
  }

  say('starting webhooks, workers, agents and netop');
  for (const c of clusters) startLabWorker(lab, { cluster: c, hubKubeconfig: hubKubeconfigs[c]! });
  const nodes = lab.plan.clusters.flatMap((c) => c.nodes.map((n) => n.name));
  const perCluster = o.gatewayNodes ?? 2;
  const gatewayNodes = new Map(
    lab.plan.clusters.map((c) => [c.name, c.nodes.slice(0, perCluster).map((n) => n.name)]),
  );
  const shaping = new Set([...gatewayNodes.values()].flat());
  for (const n of nodes) startLabAgent(lab, n);
  for (const n of nodes)
    startLabNetop(
      lab,
      n,
      shaping.has(n) ? { uplink: LAB_NODE_UPLINK, 'link-kbit': String(LAB_UPLINK_KBIT) } : {},
    );
  await Promise.all(clusters.map((c) => startLabWebhook(lab, c, { namespace: SYSTEM_NAMESPACE })));
  for (const c of clusters) await startLabDns(lab, c);

  for (const [c, gateways] of gatewayNodes) await labelGatewayNodes(lab, c, gateways);
  await Promise.all(nodes.map((n) => waitLabAgentReady(lab, n)));
  await Promise.all(nodes.map((n) => waitLabNetopReady(lab, n, 120_000)));
  await Promise.all(clusters.map((c) => waitLabDnsReady(lab, c, 120_000)));
  say(
    `Slicenet installed: hub ${hub}, ${clusters.length} member clusters, ${nodes.length} agents and netops ready`,
  );
  const prometheus = o.prometheus === false ? undefined : await startPrometheus(lab, o.prometheus, say);
  return { hub, hubKubeconfigs, ...(prometheus ? { prometheus } : {}) };
}

/** Monitoring is not Slicenet: a lab without it still works, and says why it has none. */
async function startPrometheus(
  lab: Lab,
  o: PrometheusOptions | undefined,
  say: (line: string) => void,
): Promise<string | undefined> {
  if ((await runRaw(['sh', '-c', 'command -v prometheus'])).exitCode !== 0) {
    say('prometheus is not installed (lab/setup.sh installs it): not started');
    return undefined;
  }
  try {
    const url = await startLabPrometheus(lab, o);
    say(`prometheus: ${url} scrapes every Slicenet process (metrics and alerts: docs/metrics.md)`);
    return url;
  } catch (err) {
    say(`prometheus did not start: ${(err as Error).message}`);
    return undefined;
  }
}
