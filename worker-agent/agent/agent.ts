/**
 * slicenet-agent as one object. Start-up order matters:
 *
 *   probes ─► CNI socket (answers "not ready" at first) ─► informers synced ─► sweep ─► ready
 *
 * The sweep reconciles the node with the records a previous run left: attachments whose pod
 * is gone are freed, addresses claimed by an ADD that a crash cut short are released, the
 * anti-spoof table is rebuilt in one transaction, and links of slices that went away are
 * removed. Nothing that still carries traffic is touched, so a restart never interrupts pods.
 * The sweep also runs every 30 s, for DELs that never came.
 */
import { join } from 'node:path';
import { KubeConfig, type KubernetesObject, type V1Namespace } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SLICE_LABEL } from '../../controller/api/names.ts';
import { resources, type Slice, type SliceIPBlock } from '../../controller/api/types.ts';
import { customInformer, namespaceInformer, nodeInformer, slicenet } from '../../controller/informers.ts';
import { waitFor } from '../../lib/wait.ts';
import { ProbeServer } from '../../lib/http/probes.ts';
import { loadKubeConfig } from '../../lib/kube/client.ts';
import { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { ReconcileMetrics } from '../../lib/kube/metrics.ts';
import { WorkQueue } from '../../lib/kube/queue.ts';
import { runWorkers } from '../../lib/kube/workers.ts';
import type { Logger } from '../../lib/log.ts';
import { installCniPlugin } from '../cni/install.ts';
import type { AgentConfig } from '../config.ts';
import { rebuildAntispoof, spoofedPackets } from '../dataplane/antispoof.ts';
import { nodeLinks } from '../dataplane/sockets.ts';
import { NodeIpam } from '../ipam/ipam.ts';
import { AddressStore } from '../ipam/store.ts';
import { loadNative } from '../../native/binding.ts';
import { AttachmentStore } from './attachments.ts';
import { Backend } from './backend.ts';
import { ApiBlockLeases } from './leases.ts';
import { internalIp, SliceLinksReconciler } from './links.ts';
import { AgentMetrics } from './metrics.ts';
import { serveAgent } from './server.ts';

const SWEEP_MS = 30_000;
export const FIELD_MANAGER = 'slicenet-agent';

export async function runAgent(cfg: AgentConfig, log: Logger, signal: AbortSignal): Promise<void> {
  // Pod NICs are made over the addon's netlink socket: an unbuilt addon fails the start, not an ADD.
  loadNative();
  const kc = cfg.kubeconfig ? loadKubeConfig(cfg.kubeconfig) : defaultKubeConfig();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let notReady: string | undefined = 'informers syncing';
  const probes = new ProbeServer({
    host: cfg.probeHost,
    port: cfg.probePort,
    metrics: registry,
    notReady: () => notReady,
  });
  await probes.start(signal);

  const slices = customInformer<Slice>(kc, slicenet(resources.Slice.plural), log);
  const blocks = customInformer<SliceIPBlock>(kc, slicenet(resources.SliceIPBlock.plural), log);
  const nodes = nodeInformer(kc, log);
  const namespaces: Informer<V1Namespace> = namespaceInformer(kc, log, { labelSelector: SLICE_LABEL });
  const informers: Informer<KubernetesObject>[] = [slices, blocks, nodes, namespaces];

  const attachments = new AttachmentStore(join(cfg.stateDir, 'attachments'));
  const ipam = new NodeIpam(
    new AddressStore(join(cfg.stateDir, 'ipam')),
    new ApiBlockLeases(kc, blocks),
    cfg.node,
    cfg.blockPrefix,
  );
  let localIp = cfg.localIp;
  const links = new SliceLinksReconciler({
    node: cfg.node,
    get localIp() {
      return localIp;
    },
    slices,
    blocks,
    nodes,
    attachments,
    log,
  });
  const queue = new WorkQueue();
  const backend = new Backend({
    slices,
    namespaces,
    ipam,
    attachments,
    links,
    events: new EventRecorder(kc, FIELD_MANAGER, log),
    notReady: () => notReady,
    changed: (slice) => queue.add(slice),
    log,
  });
  const ranges = (): Map<string, number> =>
    new Map(
      slices
        .list()
        .map((s) => [
          s.metadata.name,
          ipam.freeAddresses({ slice: s.metadata.name, subnet: s.spec.subnet, share: s.spec.block }),
        ]),
    );
  const metrics = new AgentMetrics(registry, ranges, spoofedPackets);

  if (cfg.cniBinDir) log.info('CNI plugin installed', { path: await installCniPlugin(cfg.cniBinDir) });
  const server = await serveAgent(cfg.socket, backend, signal, { log, observe: metrics.observe });
  log.info('serving CNI requests', { socket: cfg.socket });

  slices.on('add', (s) => queue.add(s.metadata.name));
  slices.on('update', (s) => queue.add(s.metadata.name));
  slices.on(
    'delete',
    () => void links.removeStrays().catch((err: unknown) => log.error('stray links', { err })),
  );
  for (const ev of ['add', 'update', 'delete'] as const) blocks.on(ev, (b) => queue.add(b.spec.slice));
  nodes.on('update', () => slices.list().forEach((s) => queue.add(s.metadata.name)));

  const stopInformers = (): void => void Promise.all(informers.map((i) => i.stop()));
  signal.addEventListener('abort', stopInformers, { once: true });
  let sweeper: NodeJS.Timeout | undefined;
  try {
    await Promise.all(informers.map((i) => i.start()));
    if (signal.aborted) return;
    if (!localIp) {
      await waitFor(
        () => Promise.resolve(!!(localIp = internalIp(nodes.get(cfg.node)) ?? '')),
        60_000,
        `Node ${cfg.node}'s InternalIP`,
      );
    }
    const sweep = async (): Promise<void> => {
      // One netlink dump, not one lookup per attachment: this runs every 30 s on every node.
      const present = new Set(nodeLinks().keys());
      for (const a of attachments.list()) {
        if (Backend.isStale(a, present.has(a.hostIfname))) {
          log.info('freeing an attachment whose pod is gone', {
            pod: `${a.podNamespace}/${a.podName}`,
            ip: a.ip,
          });
          await backend.remove(a);
        }
      }
      const held = new Set(attachments.list().map((a) => `${a.slice}/${a.containerId}/${a.ifname}`));
      for (const s of slices.list()) {
        const name = s.metadata.name;
        for (const [ip, o] of ipam.inUse(name))
          if (!held.has(`${name}/${o.containerId}/${o.ifname}`)) {
            log.info('releasing an address no attachment holds', { slice: name, ip });
            await ipam.releaseAddress(name, ip);
          }
        await ipam.sweep(name);
      }
      await links.removeStrays();
    };
    await sweep();
    await rebuildAntispoof(attachments.list());
    for (const s of slices.list()) queue.add(s.metadata.name);
    notReady = undefined;
    log.info('agent ready', { node: cfg.node, localIp, attachments: attachments.list().length });
    sweeper = setInterval(
      () => void sweep().catch((err: unknown) => log.error('sweep failed', { err })),
      SWEEP_MS,
    );
    await runWorkers(queue, 2, links.reconcile, signal, {
      name: 'slice-links',
      log,
      onReconcile: new ReconcileMetrics(registry).hook('slice-links', queue),
    });
  } finally {
    clearInterval(sweeper);
    signal.removeEventListener('abort', stopInformers);
    queue.shutdown();
    await server.close();
    await Promise.all(informers.map((i) => i.stop()));
    await probes.stop();
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
