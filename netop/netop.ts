/**
 * slicenet-netop as one object, per node (SPEC §7):
 *
 *   informers (Slices, MultiNetworkPolicies, Namespaces) ─► work queue of slice names
 *     ├─ policy/<slice>: compile the slice's isolation + policies ─► one nft transaction
 *     └─ qos: every slice whose gateway runs on this node ─► tc diff on the uplink (+ ifb), DSCP table
 *
 * A malformed policy is refused whole: a Warning event on it, the counter
 * slicenet_policy_rejected_total, and the slice keeps the ruleset it had. At start, tables of
 * slices that no longer exist are removed; everything else is converged in place (the HTB root
 * and the policy tables' counters and flow sets stay), so a restart does not interrupt traffic.
 */
import { KubeConfig, type KubernetesObject, type V1Namespace } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { nadName } from '../controller/api/names.ts';
import { resources, type Slice } from '../controller/api/types.ts';
import { customInformer, namespaceInformer, slicenet } from '../controller/informers.ts';
import { ProbeServer } from '../lib/http/probes.ts';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { EventRecorder } from '../lib/kube/events.ts';
import type { Informer } from '../lib/kube/informer.ts';
import { ReconcileMetrics } from '../lib/kube/metrics.ts';
import { WorkQueue } from '../lib/kube/queue.ts';
import { runWorkers, type ReconcileContext } from '../lib/kube/workers.ts';
import type { Logger } from '../lib/log.ts';
import type { NetopConfig } from './config.ts';
import { NetopMetrics } from './metrics.ts';
import { compile, sliceView } from './policy/compile.ts';
import { PolicyEngine } from './policy/engine.ts';
import {
  MNP_GROUP,
  MNP_PLURAL,
  MNP_VERSION,
  policyTargets,
  type MultiNetworkPolicy,
} from './policy/types.ts';
import { PolicyError } from './policy/validate.ts';
import { QosEngine, type SliceQosStats } from './qos/engine.ts';
import type { SliceQos } from './qos/model.ts';

export const FIELD_MANAGER = 'slicenet-netop';
const QOS_KEY = '\0qos';

/** The QoS classes this node's uplink needs: slices with qos whose gateway runs here. */
export function qosOnNode(slices: readonly Slice[], node: string): SliceQos[] {
  return slices.flatMap((s) => {
    const q = s.spec.qos;
    if (!q || !s.status?.gateways?.some((g) => g.node === node)) return [];
    return [
      {
        slice: s.metadata.name,
        port: s.spec.gateway.port,
        guaranteedKbit: q.guaranteedKbps,
        ceilingKbit: q.ceilingKbps,
        priority: q.priority ?? 3,
        dscp: q.dscp ?? 'Default',
      },
    ];
  });
}

export async function runNetop(cfg: NetopConfig, log: Logger, signal: AbortSignal): Promise<void> {
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
  const policies = customInformer<MultiNetworkPolicy>(
    kc,
    { group: MNP_GROUP, version: MNP_VERSION, plural: MNP_PLURAL },
    log,
  );
  const namespaces: Informer<V1Namespace> = namespaceInformer(kc, log);
  const informers: Informer<KubernetesObject>[] = [slices, policies, namespaces];

  const policy = new PolicyEngine();
  const qos = cfg.uplink
    ? new QosEngine({ device: cfg.uplink, linkKbit: cfg.linkKbit, ingress: cfg.ingressShaping })
    : undefined;
  const metrics = new NetopMetrics(
    registry,
    () => qos?.stats() ?? Promise.resolve<SliceQosStats[]>([]),
    () => policy.drops(),
  );
  const events = new EventRecorder(kc, FIELD_MANAGER, log);
  /** namespace/name → resourceVersion already reported, so one bad version makes one event. */
  const reported = new Map<string, string>();

  const queue = new WorkQueue();
  const all = (): void => {
    for (const s of slices.list()) queue.add(s.metadata.name);
  };
  slices.on('add', (s) => (queue.add(s.metadata.name), queue.add(QOS_KEY)));
  slices.on('update', (s) => (queue.add(s.metadata.name), queue.add(QOS_KEY)));
  slices.on('delete', (s) => (queue.add(s.metadata.name), queue.add(QOS_KEY)));
  for (const ev of ['add', 'update', 'delete'] as const) {
    policies.on(ev, all);
    namespaces.on(ev, all);
  }

  const reconcilePolicy = async (name: string, ctx: ReconcileContext): Promise<void> => {
    const slice = slices.get(name);
    if (!slice) {
      await policy.remove(name);
      ctx.log.info('policy table removed');
      return;
    }
    const targeting = policies.list().filter((p) => policyTargets(p, nadName(name)));
    let ruleset;
    try {
      ruleset = compile(sliceView(slice, targeting, (ns) => namespaces.get(ns)?.metadata?.labels));
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      metrics.rejected.inc({ slice: name });
      ctx.log.error('policy refused, previous ruleset kept', { err, field: err.field });
      const bad = targeting.find((p) => `${p.metadata.namespace}/${p.metadata.name}` === err.policy);
      const version = bad?.metadata.resourceVersion ?? '';
      if (bad && reported.get(err.policy) !== version) {
        reported.set(err.policy, version);
        events.emit(
          bad,
          'Warning',
          'PolicyRejected',
          `${err.message}; slice ${name} keeps its previous rules`,
        );
      }
      return;
    }
    if (await policy.apply(ruleset))
      ctx.log.info('policy applied', { policies: ruleset.policies.length, isolation: !!ruleset.members });
  };

  const reconcileQos = async (ctx: ReconcileContext): Promise<void> => {
    if (!qos) return;
    const ran = await qos.reconcile(qosOnNode(slices.list(), cfg.node));
    if (ran.length) ctx.log.info('qos converged', { commands: ran.length });
  };

  const stopInformers = (): void => void Promise.all(informers.map((i) => i.stop()));
  signal.addEventListener('abort', stopInformers, { once: true });
  try {
    await Promise.all(informers.map((i) => i.start()));
    if (signal.aborted) return;
    const live = new Set(slices.list().map((s) => s.metadata.name));
    for (const stray of (await policy.slices()).filter((s) => !live.has(s))) await policy.remove(stray);
    all();
    queue.add(QOS_KEY);
    notReady = undefined;
    log.info('netop ready', { node: cfg.node, uplink: cfg.uplink || undefined, slices: live.size });
    await runWorkers(
      queue,
      2,
      (key, ctx) => (key === QOS_KEY ? reconcileQos(ctx) : reconcilePolicy(key, ctx)),
      signal,
      { name: 'netop', log, onReconcile: new ReconcileMetrics(registry).hook('netop', queue) },
    );
  } finally {
    signal.removeEventListener('abort', stopInformers);
    queue.shutdown();
    await Promise.all(informers.map((i) => i.stop()));
    await probes.stop();
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
