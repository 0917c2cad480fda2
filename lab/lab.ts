/**
 * The lab as one object: bring up N clusters × M nodes, reach them, break them on purpose,
 * tear them down. This is the API end-to-end tests and benchmarks build on; `withLab` makes
 * sure teardown runs even when the test body throws.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { run, runRaw, type RunResult } from '../lib/exec.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { processId, startControlPlane, waitFor, type ControlPlane } from './controlplane.ts';
import { podNetnsName } from './kubelet/netns.ts';
import { writeKubeconfig } from './pki.ts';
import {
  planLab,
  LabRequestError,
  type ClusterPlan,
  type LabPlan,
  type LabRequest,
  type NodePlan,
} from './plan.ts';
import { binPath, cniBinDir, LabPaths, labsRoot } from './paths.ts';
import { ProcessTable } from './process.ts';
import { buildTopology, labNamespaces, removeTopology } from './topology.ts';

const labDir = dirname(fileURLToPath(import.meta.url));

interface ClusterState {
  localPort: number;
  lanServer: string;
}

export class Lab {
  readonly paths: LabPaths;
  readonly processes: ProcessTable;

  private constructor(
    readonly plan: LabPlan,
    private readonly clusterState: Record<string, ClusterState>,
    private readonly log: Logger,
  ) {
    this.paths = new LabPaths(plan.name);
    this.processes = new ProcessTable(this.paths.dir);
  }

  /** Builds the whole lab; on any failure, removes what it made and rethrows. */
  static async up(req: LabRequest, log: Logger = createLogger('lab')): Promise<Lab> {
    const plan = planLab(req);
    const paths = new LabPaths(plan.name);
    if (existsSync(paths.dir) || labNamespaces(plan.name).length > 0) {
      throw new LabRequestError(
        'name',
        `a lab named "${plan.name}" already exists; run "npm run lab:down" or pick another name`,
      );
    }
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(paths.planFile, JSON.stringify(plan, null, 2));
    const run = process.env.SLICENET_TEST_RUN;
    if (run) writeFileSync(paths.testRunFile, run);
    const lab = new Lab(plan, {}, log);
    try {
      const started = Date.now();
      await buildTopology(plan);
      log.info('topology built', { lab: plan.name, ms: Date.now() - started });
      await Promise.all(plan.clusters.map((c) => lab.startCluster(c)));
      lab.writeMergedKubeconfig();
      await lab.waitNodesReady(120_000);
      log.info('lab up', { lab: plan.name, ms: Date.now() - started, kubeconfig: paths.kubeconfig });
      return lab;
    } catch (err) {
      log.error('lab up failed, tearing down', { lab: plan.name, err });
      await Lab.down(plan.name);
      throw err;
    }
  }

  /** A lab that is already up (made by another process, e.g. `lab up`). */
  static open(name: string, log: Logger = createLogger('lab')): Lab {
    const paths = new LabPaths(name);
    if (!existsSync(paths.planFile)) throw new LabRequestError('name', `no lab named "${name}" is up`);
    const plan = JSON.parse(readFileSync(paths.planFile, 'utf8')) as LabPlan;
    const state = JSON.parse(readFileSync(join(paths.dir, 'clusters.json'), 'utf8')) as Record<
      string,
      ClusterState
    >;
    return new Lab(plan, state, log);
  }

  /** Removes everything a lab of this name made, whether or not its last run ended well. */
  static async down(name: string): Promise<void> {
    const paths = new LabPaths(name);
    await new ProcessTable(paths.dir).stopAll(3000);
    await removeTopology(name);
    rmSync(paths.dir, { recursive: true, force: true });
  }

  async down(): Promise<void> {
    await Lab.down(this.plan.name);
  }

  cluster(name: string): ClusterPlan {
    const c = this.plan.clusters.find((x) => x.name === name);
    if (!c) throw new LabRequestError('cluster', `no cluster "${name}" in lab ${this.plan.name}`);
    return c;
  }

  node(name: string): { cluster: ClusterPlan; node: NodePlan } {
    for (const cluster of this.plan.clusters) {
      const node = cluster.nodes.find((n) => n.name === name);
      if (node) return { cluster, node };
    }
    throw new LabRequestError('node', `no node "${name}" in lab ${this.plan.name}`);
  }

  /** Admin kubeconfig for one cluster, usable from the root namespace. */
  kubeconfig(cluster: string): string {
    this.cluster(cluster);
    return this.paths.adminKubeconfig(cluster);
  }

  /** The API server's URL on the cluster LAN, as processes inside the lab's namespaces reach it. */
  lanServer(cluster: string): string {
    return `https://${this.cluster(cluster).controlPlane.ip}:6443`;
  }

  /**
   * An admin kubeconfig for processes inside the lab's namespaces (controllers, webhooks): the
   * default one reaches the API server through a forwarder in the root namespace instead.
   */
  lanKubeconfig(cluster: string): string {
    const path = join(this.paths.cluster(cluster), 'lan.kubeconfig');
    if (!existsSync(path)) {
      const kc = JSON.parse(readFileSync(this.kubeconfig(cluster), 'utf8')) as {
        clusters: { cluster: { server: string } }[];
      };
      for (const k of kc.clusters) k.cluster.server = this.lanServer(cluster);
      writeFileSync(path, JSON.stringify(kc), { mode: 0o600 });
    }
    return path;
  }

  kubeConfig(cluster: string): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfig(cluster));
    return kc;
  }

  /** Runs kubectl against one cluster; throws with kubectl's stderr on failure. */
  kubectl(cluster: string, args: string[], input?: string): Promise<string> {
    return run([binPath('kubectl'), '--kubeconfig', this.kubeconfig(cluster), ...args], { input });
  }

  /** The network namespace of a running pod. */
  async podNetns(cluster: string, namespace: string, pod: string): Promise<string> {
    const uid = (
      await this.kubectl(cluster, ['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.metadata.uid}'])
    ).trim();
    return podNetnsName(this.plan.name, uid);
  }

  /** Runs a command inside a pod's network namespace, as `kubectl exec` would. */
  async exec(
    cluster: string,
    namespace: string,
    pod: string,
    argv: string[],
    timeoutMs = 60_000,
  ): Promise<RunResult> {
    return runRaw(argv, { netns: await this.podNetns(cluster, namespace, pod), timeoutMs });
  }

  /** Runs a command inside a node's network namespace. */
  execOnNode(node: string, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
    return runRaw(argv, { netns: this.node(node).node.netns, timeoutMs });
  }

  /** Restarts a cluster's kube-apiserver, `downMs` after stopping it (an outage). */
  async restartApiserver(cluster: string, downMs = 0): Promise<void> {
    const c = this.cluster(cluster);
    await this.processes.restart(processId(c.name, 'apiserver'), 5000, downMs);
    const cp = this.clusterState[c.name]!;
    await waitFor(
      async () =>
        (
          await runRaw([
            binPath('kubectl'),
            '--kubeconfig',
            this.kubeconfig(cluster),
            'get',
            '--raw',
            '/readyz',
          ])
        ).exitCode === 0,
      90_000,
      `the ${cluster} apiserver to be ready again on port ${cp.localPort}`,
    );
  }

  /** SIGKILLs a node's kubelet, as a crash would; its pods keep running. */
  killKubelet(node: string): void {
    this.processes.kill(processId(node, 'kubelet'));
  }

  startKubelet(node: string): void {
    const { cluster, node: n } = this.node(node);
    const dir = this.paths.node(cluster.name, n.name);
    this.processes.start({
      id: processId(n.name, 'kubelet'),
      netns: n.netns,
      argv: [
        process.execPath,
        '--import',
        'tsx',
        join(labDir, 'kubelet', 'main.ts'),
        '--config',
        join(dir, 'kubelet.json'),
      ],
      cwd: dirname(labDir),
      // The slicenet CNI plugin, run by Multus under the kubelet, finds its node's agent here.
      env: { ...process.env, SLICENET_AGENT_SOCKET: this.paths.agentSocket(cluster.name, n.name) },
    });
  }

  async waitNodesReady(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.plan.clusters.map((c) =>
        waitFor(
          async () => {
            const out = await this.kubectl(c.name, ['get', 'nodes', '-o', 'json']).catch(
              () => '{"items":[]}',
            );
            const nodes = (JSON.parse(out) as { items: NodeJson[] }).items;
            return nodes.length === c.nodes.length && nodes.every(isNodeReady);
          },
          timeoutMs,
          `${c.nodes.length} Ready nodes in cluster ${c.name}`,
        ),
      ),
    );
  }

  private async startCluster(c: ClusterPlan): Promise<void> {
    const cp = await startControlPlane(c, this.processes, this.paths);
    this.clusterState[c.name] = { localPort: cp.localPort, lanServer: cp.lanServer };
    writeFileSync(join(this.paths.dir, 'clusters.json'), JSON.stringify(this.clusterState, null, 2));
    await Promise.all(c.nodes.map((n) => this.prepareNode(c, n, cp)));
    for (const n of c.nodes) this.startKubelet(n.name);
  }

  private async prepareNode(c: ClusterPlan, n: NodePlan, cp: ControlPlane): Promise<void> {
    const dir = this.paths.node(c.name, n.name);
    mkdirSync(dir, { recursive: true });
    const common = { cluster: c.name, server: cp.lanServer, caFile: cp.pki.ca.cert };
    const kubelet = join(dir, 'kubelet.kubeconfig');
    const user = `system:node:${n.name}`;
    writeKubeconfig(kubelet, {
      ...common,
      user,
      client: await cp.pki.client(`node-${n.name}`, { user, groups: ['system:nodes'] }),
    });
    const multus = join(dir, 'multus.kubeconfig');
    const multusUser = 'slicenet-lab:multus';
    writeKubeconfig(multus, {
      ...common,
      user: multusUser,
      client: await cp.pki.client('multus', { user: multusUser }),
    });
    const config = {
      nodeName: n.name,
      nodeIp: n.ip,
      labName: this.plan.name,
      kubeconfig: kubelet,
      multusKubeconfig: multus,
      cniBinDir: cniBinDir(),
      stateDir: dir,
    };
    writeFileSync(join(dir, 'kubelet.json'), JSON.stringify(config, null, 2));
  }

  private writeMergedKubeconfig(): void {
    const docs = this.plan.clusters.map(
      (c) => JSON.parse(readFileSync(this.paths.adminKubeconfig(c.name), 'utf8')) as KubeconfigDoc,
    );
    const merged: KubeconfigDoc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: docs.flatMap((d) => d.clusters),
      users: docs.flatMap((d, i) =>
        d.users.map((u) => ({ ...u, name: `admin@${this.plan.clusters[i]!.name}` })),
      ),
      contexts: docs.flatMap((d, i) =>
        d.contexts.map((x) => ({
          ...x,
          context: { ...x.context, user: `admin@${this.plan.clusters[i]!.name}` },
        })),
      ),
      'current-context': this.plan.clusters[0]!.name,
    };
    writeFileSync(this.paths.kubeconfig, JSON.stringify(merged, null, 2));
  }
}

interface KubeconfigDoc {
  apiVersion: string;
  kind: string;
  clusters: unknown[];
  users: { name: string }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

interface NodeJson {
  spec?: { podCIDR?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

function isNodeReady(n: NodeJson): boolean {
  return (
    Boolean(n.spec?.podCIDR) &&
    (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Labs on this machine made by processes of test run `run` (see with-lab.ts). */
export function labsOfTestRun(run: string): string[] {
  const of = (name: string): string | undefined => {
    try {
      return readFileSync(new LabPaths(name).testRunFile, 'utf8');
    } catch {
      return undefined;
    }
  };
  return labsOnMachine().filter((n) => of(n) === run);
}

/** Names of the labs that have state on this machine. */
export function labsOnMachine(): string[] {
  try {
    return readdirSync(labsRoot()).filter((n) => existsSync(new LabPaths(n).planFile));
  } catch {
    return [];
  }
}

/** Brings a lab up, runs `body`, and always tears the lab down. */
export async function withLab<T>(req: LabRequest, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.up(req);
  try {
    return await body(lab);
  } finally {
    await lab.down();
  }
}
