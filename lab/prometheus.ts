/**
 * Prometheus in the lab: Debian's real `prometheus` server (lab/setup.sh installs it), run as a
 * lab process in the lab's WAN namespace — the one namespace that routes to every cluster LAN,
 * so it reaches every Slicenet process on its node or control-plane address, as a cluster's
 * Prometheus reaches pods on the pod network. Nothing listens in the root namespace except a
 * loopback port handed to a forwarder (as for the API servers, lab/forwarder.ts), for a
 * browser and for tests.
 *
 *   discovery (a lab process, this file's main)   every few seconds
 *     lab process records ─┐  (which namespace, which probe port: controller, workers,
 *                          │   webhooks, agents, netop, dns)
 *     gateway pods ────────┼─► targets.json (file_sd, job/cluster/node labels) ─► prometheus
 *     (each cluster's API) ┘   rewritten only when it changes        rules: deploy/monitoring
 *
 * Why a discovery loop and not Prometheus's own Kubernetes discovery: Debian builds prometheus
 * without it (`kubernetes_sd_configs` is an unknown field there). The loop does what it would
 * for the gateway pods — their host address and `probes` port, their node — and also covers the
 * lab's host processes, which have no pods at all.
 *
 * Data lives under the lab directory with bounded retention; `lab down` stops all three
 * processes and removes the data with the rest of the lab.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { GATEWAY_APP, SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import { DEFAULT_PROBE_PORT } from '../controller/config.ts';
import { DEFAULT_DNS_PROBE_PORT } from '../dns/config.ts';
import { waitFor } from '../lib/wait.ts';
import { LAB_NETOP_PROBE_PORT } from '../netop/lab.ts';
import { LAB_AGENT_PROBE_PORT } from '../worker-agent/lab.ts';
import { Lab } from './lab.ts';
import type { LabPlan } from './plan.ts';
import type { ProcessRecord } from './process.ts';

const repo = join(import.meta.dirname, '..');
export const RULES_FILE = join(repo, 'deploy', 'monitoring', 'slicenet-rules.yaml');
export const PROMETHEUS_ID = 'prometheus';
const FORWARDER_ID = 'prometheus-forwarder';
const DISCOVERY_ID = 'prometheus-discovery';
/** Where Prometheus listens inside the WAN namespace. */
const LISTEN = { host: '127.0.0.1', port: 9090 };

export interface PrometheusOptions {
  /** Scrape, rule evaluation and discovery interval, seconds (default 5; tests use less). */
  intervalSeconds?: number;
  /** TSDB retention by time, e.g. '6h' (default), and by size, e.g. '256MB' (default). */
  retentionTime?: string;
  retentionSize?: string;
}

/** Slicenet lab processes by record id: the scrape job and the probe port when no flag names one. */
const JOBS: { id: RegExp; job: string; port: number }[] = [
  { id: /^controller/, job: 'slicenet-controller', port: DEFAULT_PROBE_PORT.hub },
  { id: /^worker-/, job: 'slicenet-worker', port: DEFAULT_PROBE_PORT.worker },
  { id: /^webhook-/, job: 'slicenet-webhook', port: 8081 },
  { id: /^agent-/, job: 'slicenet-agent', port: LAB_AGENT_PROBE_PORT },
  { id: /^netop-/, job: 'slicenet-netop', port: LAB_NETOP_PROBE_PORT },
  { id: /^(slicenet-)?dns/, job: 'slicenet-dns', port: DEFAULT_DNS_PROBE_PORT },
];

/** A file_sd target group. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const dir = (lab: Lab): string => join(lab.paths.dir, 'prometheus');
const targetsFile = (lab: Lab): string => join(dir(lab), 'targets.json');
const endpointFile = (lab: Lab): string => join(dir(lab), 'endpoint');

/** One target group per Slicenet process in the lab's process records. */
export function processTargets(plan: LabPlan, records: readonly ProcessRecord[]): TargetGroup[] {
  const hosts = new Map<string, { ip: string; cluster: string; node: string }>();
  for (const c of plan.clusters) {
    hosts.set(c.controlPlane.netns, { ip: c.controlPlane.ip, cluster: c.name, node: `${c.name}-cp` });
    for (const n of c.nodes) hosts.set(n.netns, { ip: n.ip, cluster: c.name, node: n.name });
  }
  return records.flatMap((r) => {
    const kind = JOBS.find((j) => j.id.test(r.id));
    const netns = r.argv.find((a) => a.startsWith('--net=/run/netns/'))?.slice('--net=/run/netns/'.length);
    const host = netns === undefined ? undefined : hosts.get(netns);
    if (!kind || !host) return [];
    const flag = r.argv.indexOf('--probe-port');
    const port = flag >= 0 ? Number(r.argv[flag + 1]) : kind.port;
    // Port 0 is a test's own process on a free port: nothing to scrape by a known address.
    if (!Number.isInteger(port) || port <= 0) return [];
    return [
      {
        targets: [`${host.ip}:${port}`],
        labels: { job: kind.job, cluster: host.cluster, node: host.node, process: r.id },
      },
    ];
  });
}

/** What discovery needs of a gateway pod. */
export interface GatewayPodInfo {
  metadata?: { name?: string };
  spec?: { nodeName?: string; containers?: { ports?: { name?: string; containerPort: number }[] }[] };
  status?: { phase?: string; hostIP?: string };
}

/** A target per running gateway pod: host network, probes on the container port named `probes`. */
export function gatewayTargets(cluster: string, pods: readonly GatewayPodInfo[]): TargetGroup[] {
  return pods.flatMap((p) => {
    const port = p.spec?.containers?.flatMap((c) => c.ports ?? []).find((x) => x.name === 'probes');
    const host = p.status?.hostIP;
    if (p.status?.phase !== 'Running' || !host || !port) return [];
    const labels = { job: GATEWAY_APP, cluster, node: p.spec?.nodeName ?? '', pod: p.metadata?.name ?? '' };
    return [{ targets: [`${host}:${port.containerPort}`], labels }];
  });
}

/** prometheus.yml for the lab (JSON, which is YAML). */
export function prometheusConfig(
  plan: LabPlan,
  files: { targets: string; rules: string },
  o: PrometheusOptions = {},
): object {
  const interval = `${o.intervalSeconds ?? 5}s`;
  return {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      // netop reads tc and nft at scrape time: on a busy lab that can take a second or more.
      scrape_timeout: interval,
      external_labels: { lab: plan.name },
    },
    rule_files: [files.rules],
    // job, cluster and node come from the targets file.
    scrape_configs: [{ job_name: 'slicenet', file_sd_configs: [{ files: [files.targets] }] }],
  };
}

/** Writes the targets file when it changed; a rename, so Prometheus never reads half a file. */
function writeTargets(lab: Lab, groups: TargetGroup[]): void {
  const text = JSON.stringify(groups, null, 2);
  let old = '';
  try {
    old = readFileSync(targetsFile(lab), 'utf8');
  } catch {
    // first write
  }
  if (text === old) return;
  writeFileSync(`${targetsFile(lab)}.tmp`, text);
  renameSync(`${targetsFile(lab)}.tmp`, targetsFile(lab));
}

/** One discovery round: the lab's processes, and each cluster's gateway pods as its API lists them. */
export async function discoverOnce(lab: Lab, apis: Map<string, CoreV1Api>): Promise<TargetGroup[]> {
  const groups = processTargets(lab.plan, lab.processes.list());
  for (const [cluster, api] of apis) {
    const pods = await api
      .listNamespacedPod({
        namespace: SYSTEM_NAMESPACE,
        labelSelector: `app.kubernetes.io/name=${GATEWAY_APP}`,
      })
      .then((l) => l.items)
      // An API server down for a moment: keep what the last round found for this cluster.
      .catch(() => undefined);
    if (pods) groups.push(...gatewayTargets(cluster, pods));
    else groups.push(...lastGateways(lab, cluster));
  }
  writeTargets(lab, groups);
  return groups;
}

function lastGateways(lab: Lab, cluster: string): TargetGroup[] {
  try {
    return (JSON.parse(readFileSync(targetsFile(lab), 'utf8')) as TargetGroup[]).filter(
      (g) => g.labels.job === GATEWAY_APP && g.labels.cluster === cluster,
    );
  } catch {
    return [];
  }
}

/**
 * Starts Prometheus in the lab's WAN namespace, its discovery loop and a loopback forwarder;
 * resolves with the loopback URL once Prometheus is ready.
 */
export async function startLabPrometheus(lab: Lab, o: PrometheusOptions = {}): Promise<string> {
  const d = dir(lab);
  mkdirSync(join(d, 'data'), { recursive: true });
  const apis = new Map(
    lab.plan.clusters.map((c) => [c.name, lab.kubeConfig(c.name).makeApiClient(CoreV1Api)]),
  );
  await discoverOnce(lab, apis);
  const config = join(d, 'prometheus.yml');
  const files = { targets: targetsFile(lab), rules: RULES_FILE };
  writeFileSync(config, JSON.stringify(prometheusConfig(lab.plan, files, o), null, 2));
  lab.processes.start({
    id: PROMETHEUS_ID,
    netns: lab.plan.wanNetns,
    argv: [
      'prometheus',
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(d, 'data')}`,
      `--storage.tsdb.retention.time=${o.retentionTime ?? '6h'}`,
      `--storage.tsdb.retention.size=${o.retentionSize ?? '256MB'}`,
      `--web.listen-address=${LISTEN.host}:${LISTEN.port}`,
      '--log.level=warn',
    ],
    cwd: d,
  });
  const tsx = [process.execPath, '--import', 'tsx'];
  lab.processes.start({
    id: DISCOVERY_ID,
    argv: [...tsx, fileURLToPath(import.meta.url), lab.plan.name, String(o.intervalSeconds ?? 5)],
    cwd: repo,
  });
  const port = await forwardLoopback(lab, [...tsx, join(repo, 'lab', 'forwarder.ts')]);
  writeFileSync(endpointFile(lab), `http://127.0.0.1:${port}`);
  const url = labPrometheusUrl(lab);
  try {
    await waitFor(
      async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
      60_000,
      url,
    );
  } catch (err) {
    const log = readFileSync(lab.processes.logPath(PROMETHEUS_ID), 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`prometheus did not become ready: ${(err as Error).message}; its log:\n${log}`, {
      cause: err,
    });
  }
  return url;
}

/**
 * A loopback port of the root namespace whose listening socket the forwarder in the WAN
 * namespace serves (see lab/forwarder.ts), piping each connection to Prometheus.
 */
async function forwardLoopback(lab: Lab, forwarder: string[]): Promise<number> {
  const listener = createServer();
  await new Promise<void>((ok, fail) =>
    listener.listen({ host: '127.0.0.1', port: 0 }, ok).once('error', fail),
  );
  const { port } = listener.address() as { port: number };
  // net.Server keeps its file descriptor on the internal handle; there is no public accessor.
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  lab.processes.start({
    id: FORWARDER_ID,
    netns: lab.plan.wanNetns,
    argv: [...forwarder, LISTEN.host, String(LISTEN.port)],
    passFds: [fd],
    cwd: repo,
  });
  listener.close();
  return port;
}

/** The loopback URL of the lab's Prometheus (its UI and HTTP API). */
export function labPrometheusUrl(lab: Lab): string {
  try {
    return readFileSync(endpointFile(lab), 'utf8').trim();
  } catch {
    throw new Error(`lab ${lab.plan.name} runs no Prometheus (start it with startLabPrometheus)`);
  }
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An instant query through the HTTP API: one sample per series of the result vector. */
export async function promQuery(lab: Lab, expr: string): Promise<Sample[]> {
  const res = await fetch(`${labPrometheusUrl(lab)}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success' || body.data?.resultType !== 'vector')
    throw new Error(`query ${expr}: ${body.error ?? `a ${body.data?.resultType} result, not a vector`}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

export async function stopLabPrometheus(lab: Lab): Promise<void> {
  for (const id of [FORWARDER_ID, DISCOVERY_ID, PROMETHEUS_ID]) await lab.processes.stop(id);
}

// The discovery loop, as a lab process: prometheus.ts <lab> <interval seconds>.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, seconds] = process.argv.slice(2);
  if (!name || !/^\d+$/.test(seconds ?? '')) {
    process.stderr.write('usage: prometheus.ts <lab> <interval seconds>\n');
    process.exit(2);
  }
  const lab = Lab.open(name);
  const apis = new Map(
    lab.plan.clusters.map((c) => [c.name, lab.kubeConfig(c.name).makeApiClient(CoreV1Api)]),
  );
  process.once('SIGTERM', () => process.exit(0));
  for (;;) {
    await discoverOnce(lab, apis).catch((err: Error) => process.stderr.write(`discovery: ${err.message}\n`));
    await sleep(Number(seconds) * 1000);
  }
}
