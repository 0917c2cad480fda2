/**
 * One lab cluster's control plane, in its own network namespace: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler, the upstream programs built by lab/setup.sh,
 * configured as a kubeadm cluster would be (TLS everywhere, Node + RBAC authorization,
 * NodeRestriction, service-account tokens, admission webhooks, node CIDR allocation).
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../lib/exec.ts';
import { ClusterPki, writeKubeconfig, type CertFiles } from './pki.ts';
import type { ClusterPlan } from './plan.ts';
import { binPath, type LabPaths } from './paths.ts';
import type { ProcessTable } from './process.ts';
import { waitFor } from '../lib/wait.ts';

/** Re-exported: lab code and tests wait with it. */
export { waitFor };

const labDir = dirname(fileURLToPath(import.meta.url));
const APISERVER_PORT = 6443;

export interface ControlPlane {
  /** Port on the root namespace's 127.0.0.1 that reaches this cluster's apiserver. */
  localPort: number;
  /** The apiserver's address on the cluster LAN, for nodes. */
  lanServer: string;
  pki: ClusterPki;
}

export const processId = (cluster: string, part: string): string => `${cluster}-${part}`;

export async function startControlPlane(
  c: ClusterPlan,
  table: ProcessTable,
  paths: LabPaths,
): Promise<ControlPlane> {
  const dir = paths.cluster(c.name);
  mkdirSync(dir, { recursive: true });
  const pki = new ClusterPki(join(dir, 'pki'));
  await pki.init(c.name);
  const serving = await pki.serving(
    'apiserver',
    [
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'localhost',
    ],
    ['127.0.0.1', c.controlPlane.ip, c.apiServiceIp],
  );
  const admin = await pki.client('admin', { user: 'slicenet-lab-admin', groups: ['system:masters'] });
  const netns = c.controlPlane.netns;
  const inCp = `https://127.0.0.1:${APISERVER_PORT}`;

  table.start({ id: processId(c.name, 'etcd'), netns, argv: etcdArgs(c, join(dir, 'etcd')) });
  table.start({ id: processId(c.name, 'apiserver'), netns, argv: apiserverArgs(c, pki, serving) });
  const localPort = await startForwarder(table, processId(c.name, 'forwarder'), netns);

  writeKubeconfig(paths.adminKubeconfig(c.name), {
    cluster: c.name,
    server: `https://127.0.0.1:${localPort}`,
    caFile: pki.ca.cert,
    user: 'slicenet-lab-admin',
    client: admin,
  });
  await waitReady(localPort, pki.ca.cert, admin, 90_000);

  for (const [part, user] of [
    ['kube-controller-manager', 'system:kube-controller-manager'],
    ['kube-scheduler', 'system:kube-scheduler'],
  ] as const) {
    const kubeconfig = join(dir, `${part}.kubeconfig`);
    writeKubeconfig(kubeconfig, {
      cluster: c.name,
      server: inCp,
      caFile: pki.ca.cert,
      user,
      client: await pki.client(part, { user }),
    });
    const argv =
      part === 'kube-scheduler' ? schedulerArgs(kubeconfig) : controllerManagerArgs(c, pki, kubeconfig);
    table.start({ id: processId(c.name, part), netns, argv });
  }

  const kubectl = (args: string[], input?: string): Promise<string> =>
    run([binPath('kubectl'), '--kubeconfig', paths.adminKubeconfig(c.name), ...args], { input });
  await kubectl(['apply', '--server-side', '--field-manager=slicenet-lab', '-f', join(labDir, 'manifests')]);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/network-attachment-definitions.k8s.cni.cncf.io',
  ]);
  // Pods cannot be admitted until the controller-manager has made the default ServiceAccount.
  await waitFor(
    async () => (await kubectl(['get', 'serviceaccount', 'default', '-o', 'name']).catch(() => '')) !== '',
    60_000,
    'the default ServiceAccount',
  );
  return { localPort, lanServer: `https://${c.controlPlane.ip}:${APISERVER_PORT}`, pki };
}

function etcdArgs(c: ClusterPlan, dataDir: string): string[] {
  return [
    binPath('etcd'),
    '--name',
    c.name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    'http://127.0.0.1:2379',
    '--advertise-client-urls',
    'http://127.0.0.1:2379',
    '--listen-peer-urls',
    'http://127.0.0.1:2380',
    '--initial-advertise-peer-urls',
    'http://127.0.0.1:2380',
    '--initial-cluster',
    `${c.name}=http://127.0.0.1:2380`,
    // The data lives on tmpfs for the life of the lab; fsync buys nothing there.
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
  ];
}

function apiserverArgs(c: ClusterPlan, pki: ClusterPki, serving: CertFiles): string[] {
  const sa = pki.serviceAccountKey;
  return [
    binPath('kube-apiserver'),
    '--etcd-servers=http://127.0.0.1:2379',
    '--bind-address=0.0.0.0',
    `--secure-port=${APISERVER_PORT}`,
    `--advertise-address=${c.controlPlane.ip}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${sa.cert}`,
    `--service-account-signing-key-file=${sa.key}`,
    `--service-cluster-ip-range=${c.serviceCidr}`,
    '--allow-privileged=true',
    '--profiling=false',
    '--v=1',
  ];
}

function controllerManagerArgs(c: ClusterPlan, pki: ClusterPki, kubeconfig: string): string[] {
  return [
    binPath('kube-controller-manager'),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${pki.serviceAccountKey.key}`,
    `--root-ca-file=${pki.ca.cert}`,
    '--use-service-account-credentials=true',
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    '--allocate-node-cidrs=true',
    `--cluster-cidr=${c.podCidr}`,
    '--node-cidr-mask-size=24',
    `--service-cluster-ip-range=${c.serviceCidr}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--profiling=false',
    '--v=1',
  ];
}

function schedulerArgs(kubeconfig: string): string[] {
  return [
    binPath('kube-scheduler'),
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--profiling=false',
    '--v=1',
  ];
}

/** Listens on a free loopback port here and hands the socket to a forwarder in `netns`. */
async function startForwarder(table: ProcessTable, id: string, netns: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((res, rej) =>
    server.listen({ host: '127.0.0.1', port: 0 }, res).once('error', rej),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('listening socket has no port');
  // net.Server keeps its file descriptor on the internal handle; there is no public accessor.
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  table.start({
    id,
    netns,
    argv: [
      process.execPath,
      '--import',
      'tsx',
      join(labDir, 'forwarder.ts'),
      '127.0.0.1',
      String(APISERVER_PORT),
    ],
    passFds: [fd],
    cwd: dirname(labDir),
  });
  server.close();
  return address.port;
}

export async function waitReady(
  port: number,
  caFile: string,
  client: CertFiles,
  timeoutMs: number,
): Promise<void> {
  const ca = readFileSync(caFile);
  const cert = readFileSync(client.cert);
  const key = readFileSync(client.key);
  const probe = (): Promise<boolean> =>
    new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/readyz', ca, cert, key, timeout: 2000 },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  await waitFor(probe, timeoutMs, `the apiserver on 127.0.0.1:${port} to be ready`);
}
