/**
 * Prometheus in the lab: Debian's real `prometheus` server (lab/setup.sh installs it), run as a
 * lab process in the lab's WAN namespace — the one namespace that routes to every cluster LAN,
 * so it reaches every Slicenet process on its node or control-plane address, as a cluster's
 * Prometheus reaches pods on the pod network. Nothing listens in the root namespace except a
 * loopback port handed to a forwarder (as for the API servers, lab/forwarder.ts), for a
 * browser and for tests.
 *
 *   file_sd   every Slicenet process the install started (the lab's process records: which
 *             namespace, which probe port), with `cluster` and `node` target labels; rewritten
 *             by `writeLabTargets` when processes are added, and Prometheus re-reads the file
 *   k8s SD    the gateway pods the workers create (host network, probes on the tunnel's port
 *             number), found through each cluster's API server as a real cluster's would be
 *   rules     deploy/monitoring/slicenet-rules.yaml, the alert rules shipped to operators
 *
 * Its data lives under the lab directory with bounded retention, and `lab down` stops it and
 * removes it with everything else of the lab.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_PROBE_PORT } from '../controller/config.ts';
import { GATEWAY_APP, SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import { DEFAULT_DNS_PROBE_PORT } from '../dns/config.ts';
import { waitFor } from '../lib/wait.ts';
import { LAB_NETOP_PROBE_PORT } from '../netop/lab.ts';
import { LAB_AGENT_PROBE_PORT } from '../worker-agent/lab.ts';
import type { Lab } from './lab.ts';
import type { LabPlan } from './plan.ts';
import type { ProcessRecord } from './process.ts';

const repo = join(import.meta.dirname, '..');
export const RULES_FILE = join(repo, 'deploy', 'monitoring', 'slicenet-rules.yaml');
export const PROMETHEUS_ID = 'prometheus';
/** Where Prometheus listens inside the WAN namespace. */
const LISTEN = { host: '127.0.0.1', port: 9090 };

export interface PrometheusOptions {
  /** Scrape and rule evaluation interval, seconds (default 5; tests use less). */
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

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const dir = (lab: Lab): string => join(lab.paths.dir, 'prometheus');
const targetsFile = (lab: Lab): string => join(dir(lab), 'targets.json');
const endpointFile = (lab: Lab): string => join(dir(lab), 'endpoint');

/** One target group per Slicenet process in the lab's process records. */
export function labTargets(plan: LabPlan, records: readonly ProcessRecord[]): TargetGroup[] {
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

/** The files a lab's prometheus.yml names. */
export interface ConfigFiles {
  targets: string;
  rules: string;
  /** Per cluster, a kubeconfig that reaches its API server on the cluster LAN. */
  kubeconfigs: Record<string, string>;
}

/** prometheus.yml for the lab (JSON, which is YAML). */
export function prometheusConfig(plan: LabPlan, files: ConfigFiles, o: PrometheusOptions = {}): object {
  const interval = `${o.intervalSeconds ?? 5}s`;
  const label = (source: string, target: string): object => ({
    source_labels: [`__meta_kubernetes_pod_${source}`],
    target_label: target,
  });
  return {
    global: {
      scrape_interval: interval,
      evaluation_interval: interval,
      // netop reads tc and nft at scrape time: on a busy lab that can take a second or more.
      scrape_timeout: interval,
      external_labels: { lab: plan.name },
    },
    rule_files: [files.rules],
    scrape_configs: [
      {
        // job, cluster and node come from the targets file.
        job_name: 'slicenet',
        file_sd_configs: [{ files: [files.targets], refresh_interval: interval }],
      },
      {
        job_name: 'slicenet-gateway',
        kubernetes_sd_configs: plan.clusters.map((c) => ({
          role: 'pod',
          kubeconfig_file: files.kubeconfigs[c.name],
          namespaces: { names: [SYSTEM_NAMESPACE] },
          selectors: [{ role: 'pod', label: `app.kubernetes.io/name=${GATEWAY_APP}` }],
        })),
        relabel_configs: [
          { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'probes', action: 'keep' },
          label('node_name', 'node'),
          label('name', 'pod'),
          // A cluster is known by its LAN: the pods run on the host network.
          ...plan.clusters.map((c) => ({
            source_labels: ['__meta_kubernetes_pod_host_ip'],
            regex: c.lanCidr.replace(/\.0\/24$/, '').replace(/\./g, '\\.') + '\\.\\d+',
            target_label: 'cluster',
            replacement: c.name,
          })),
        ],
      },
    ],
  };
}

/** (Re)writes the file_sd targets from the lab's process records; Prometheus picks it up. */
export function writeLabTargets(lab: Lab): TargetGroup[] {
  const groups = labTargets(lab.plan, lab.processes.list());
  mkdirSync(dir(lab), { recursive: true });
  // Prometheus must never read a half-written file: a rename replaces it at once.
  writeFileSync(`${targetsFile(lab)}.tmp`, JSON.stringify(groups, null, 2));
  renameSync(`${targetsFile(lab)}.tmp`, targetsFile(lab));
  return groups;
}

/**
 * Starts Prometheus in the lab's WAN namespace and a loopback forwarder to it; resolves with
 * the loopback URL once Prometheus is ready.
 */
export async function startLabPrometheus(lab: Lab, o: PrometheusOptions = {}): Promise<string> {
  const d = dir(lab);
  mkdirSync(join(d, 'data'), { recursive: true });
  writeLabTargets(lab);
  const config = join(d, 'prometheus.yml');
  const kubeconfigs = Object.fromEntries(lab.plan.clusters.map((c) => [c.name, lab.lanKubeconfig(c.name)]));
  const files = { targets: targetsFile(lab), rules: RULES_FILE, kubeconfigs };
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
  const port = await forwardLoopback(lab, `${PROMETHEUS_ID}-forwarder`);
  writeFileSync(endpointFile(lab), `http://127.0.0.1:${port}`);
  const url = labPrometheusUrl(lab);
  try {
    await waitFor(
      async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true,
      30_000,
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
 * A loopback port of the root namespace whose listening socket a forwarder in the WAN
 * namespace serves (see lab/forwarder.ts), piping each connection to Prometheus.
 */
async function forwardLoopback(lab: Lab, id: string): Promise<number> {
  const listener = createServer();
  await new Promise<void>((ok, fail) =>
    listener.listen({ host: '127.0.0.1', port: 0 }, ok).once('error', fail),
  );
  const { port } = listener.address() as { port: number };
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  const forwarder = [process.execPath, '--import', 'tsx', join(repo, 'lab', 'forwarder.ts')];
  lab.processes.start({
    id,
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
  await lab.processes.stop(`${PROMETHEUS_ID}-forwarder`);
  await lab.processes.stop(PROMETHEUS_ID);
}
