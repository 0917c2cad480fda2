/**
 * Runs the pods bound to this node. Level-triggered: informer events and process exits only
 * enqueue a pod UID; `sync` re-reads the pod (informer cache) and its state file and takes
 * the next steps — sandbox, containers, status — or tears the pod down. The shared work
 * queue serializes work per UID and runs different UIDs on parallel workers, so one pod
 * whose CNI ADD hangs never holds up another.
 *
 * Deletion: a pod with a deletionTimestamp has its processes stopped (grace capped at 10 s),
 * its sandbox torn down, its state removed, and is then deleted from the API (grace 0,
 * precondition on its UID, so a new pod of the same name is never hit). A pod that vanished
 * from the API, or has state here but was not in the first list, gets the same teardown.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { apiStatus, kubeTime, strategicMergePatch } from '../../lib/kube/client.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { WorkQueue } from '../../lib/kube/queue.ts';
import { runWorkers, type ReconcileResult } from '../../lib/kube/workers.ts';
import type { Logger } from '../../lib/log.ts';
import type { KubeletConfig } from './config.ts';
import { stopRuns } from './containers.ts';
import { EventRecorder } from './events.ts';
import { syncContainers } from './lifecycle.ts';
import { podNetnsName } from './netns.ts';
import type { Sandboxes } from './sandbox.ts';
import { StateStore, type PodState } from './state.ts';
import { canonical, computeStatus, statusChanged, statusPatch } from './status.ts';

const MAX_GRACE_S = 10;
/** Pods synced at once: enough that a few hung CNI calls leave the rest of the node going. */
const WORKERS = 16;

export class PodManager {
  private readonly byUid = new Map<string, V1Pod>();
  private readonly uidByKey = new Map<string, string>();
  private readonly lastWritten = new Map<string, string>();
  private readonly informer: Informer<V1Pod>;
  private readonly queue = new WorkQueue();
  private workers: Promise<void> = Promise.resolve();
  private readonly store: StateStore;
  private readonly events: EventRecorder;

  constructor(
    private readonly cfg: KubeletConfig,
    kubeConfig: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly sandboxes: Sandboxes,
    private readonly log: Logger,
  ) {
    this.store = new StateStore(cfg.stateDir);
    this.events = new EventRecorder(core, cfg.nodeName, log);
    this.informer = new Informer<V1Pod>({
      kubeConfig,
      path: '/api/v1/pods',
      fieldSelector: `spec.nodeName=${cfg.nodeName}`,
      list: (s) => core.listPodForAllNamespaces(s),
      name: 'pods',
      log,
    });
    this.informer.on('add', (p) => this.observe(p));
    this.informer.on('update', (p) => this.observe(p));
    this.informer.on('delete', (p) => this.forget(p));
  }

  /** Resolves after the first list, once every pod and every state file is queued. */
  async start(signal: AbortSignal): Promise<void> {
    this.workers = runWorkers(this.queue, WORKERS, (uid, ctx) => this.sync(uid, ctx.log), signal, {
      name: 'pods',
      log: this.log,
    });
    await this.informer.start();
    if (!this.informer.synced) return;
    for (const uid of this.store.list()) this.queue.add(uid);
    this.log.info('pods synced', { pods: this.byUid.size, stateFiles: this.store.list().length });
  }

  /** The node's CNI config has appeared: pods waiting for it can go on. */
  networkReady(): void {
    for (const uid of this.byUid.keys()) this.queue.add(uid);
  }

  /** Stops watching; resolves once the syncs in flight (cut short by the start signal) end. */
  async stop(): Promise<void> {
    await this.informer.stop();
    this.queue.shutdown();
    await this.workers;
  }

  private observe(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    // A relist reports a pod replaced under the same name as an update, not delete + add.
    const old = this.uidByKey.get(key);
    if (old !== undefined && old !== uid) {
      this.byUid.delete(old);
      this.queue.add(old);
    }
    this.uidByKey.set(key, uid);
    this.byUid.set(uid, pod);
    this.queue.add(uid);
  }

  private forget(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (this.uidByKey.get(key) === uid) this.uidByKey.delete(key);
    this.byUid.delete(uid);
    this.queue.add(uid);
  }

  private async sync(uid: string, rlog: Logger): Promise<ReconcileResult> {
    const pod = this.byUid.get(uid);
    const state = this.store.load(uid);
    const log = rlog.with({ pod: pod ? `${pod.metadata?.namespace}/${pod.metadata?.name}` : state?.name });
    if (!pod) {
      if (!state || !this.informer.synced) return {};
      await this.tearDown(state, state.graceSeconds, log);
      log.info('pod gone from the API, cleaned up');
      return {};
    }
    if (pod.metadata?.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (state) await this.tearDown(state, grace, log);
      await this.deleteFromApi(pod, log);
      return {};
    }
    const phase = pod.status?.phase;
    if (!state && (phase === 'Succeeded' || phase === 'Failed')) return {};
    const st = state ?? this.newState(pod);
    if (!state) this.store.save(st);

    if (st.podIps.length === 0) {
      const wait = await this.ensureSandbox(pod, st, log);
      if (st.podIps.length === 0) {
        await this.writeStatus(pod, st);
        return { requeueAfter: wait };
      }
    }
    const next = syncContainers(pod, st, {
      store: this.store,
      nodeIp: this.cfg.nodeIp,
      log,
      onExit: () => this.queue.add(uid),
    });
    await this.writeStatus(pod, st);
    return { requeueAfter: next };
  }

  private newState(pod: V1Pod): PodState {
    const uid = pod.metadata!.uid!;
    return {
      uid,
      namespace: pod.metadata!.namespace!,
      name: pod.metadata!.name!,
      netns: podNetnsName(this.cfg.labName, uid),
      hostNetwork: pod.spec?.hostNetwork === true,
      sandboxId: randomBytes(32).toString('hex'),
      podIps: [],
      sandboxFailures: 0,
      startTime: kubeTime(),
      graceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
      containers: {},
    };
  }

  /** Sets up the sandbox, or schedules a retry; returns ms to wait, if any. */
  private async ensureSandbox(pod: V1Pod, st: PodState, log: Logger): Promise<number | undefined> {
    if (!st.hostNetwork && !this.sandboxes.networkReady()) return undefined;
    const wait = (st.sandboxRetryAt ?? 0) - Date.now();
    if (wait > 0) return wait;
    try {
      const r = await this.sandboxes.setUp(st);
      Object.assign(st, { cniResult: r.cniResult, podIps: r.podIps, sandboxFailures: 0 });
      delete st.sandboxRetryAt;
      this.store.save(st);
      log.info('sandbox ready', { netns: st.netns, podIps: st.podIps });
      return undefined;
    } catch (err) {
      st.sandboxFailures++;
      const delay = Math.min(1000 * 2 ** (st.sandboxFailures - 1), 30_000);
      st.sandboxRetryAt = Date.now() + delay;
      this.store.save(st);
      log.error('sandbox failed', { err, attempt: st.sandboxFailures, retryInMs: delay });
      const message = `Failed to create pod sandbox: failed to set up network for sandbox "${st.sandboxId}": ${(err as Error).message}`;
      await this.events.warning(pod, 'FailedCreatePodSandBox', message);
      await this.sandboxes
        .tearDown(st)
        .catch((e: unknown) => log.error('sandbox cleanup failed', { err: e }));
      return delay;
    }
  }

  private async tearDown(st: PodState, graceSeconds: number, log: Logger): Promise<void> {
    const runs = Object.values(st.containers).flatMap((c) => (c.running ? [c.running] : []));
    await stopRuns(runs, Math.min(graceSeconds, MAX_GRACE_S) * 1000);
    await this.sandboxes.tearDown(st);
    this.store.remove(st.uid);
    this.lastWritten.delete(st.uid);
    log.info('pod stopped', { containers: runs.length });
  }

  private async deleteFromApi(pod: V1Pod, log: Logger): Promise<void> {
    const { name, namespace, uid } = pod.metadata!;
    try {
      await this.core.deleteNamespacedPod({
        name: name!,
        namespace: namespace!,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      });
      log.info('pod deleted');
    } catch (err) {
      // Gone already, or replaced by a pod of the same name: nothing of ours to delete.
      if (apiStatus(err) !== 404 && apiStatus(err) !== 409) throw err;
    }
  }

  private async writeStatus(pod: V1Pod, st: PodState): Promise<void> {
    const ours = computeStatus(pod, st, this.cfg.nodeIp);
    const key = canonical(ours);
    if (this.lastWritten.get(st.uid) === key || !statusChanged(pod, ours)) return;
    await this.core.patchNamespacedPodStatus(
      { name: st.name, namespace: st.namespace, body: statusPatch(ours) },
      strategicMergePatch,
    );
    this.lastWritten.set(st.uid, key);
  }
}
