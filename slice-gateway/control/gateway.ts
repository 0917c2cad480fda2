/**
 * One slicenet-gateway replica for one slice in one member cluster.
 *
 *   Slice informer (this slice only) ─┐
 *   key Secret (read once) ───────────┼─► standby: own entry in Slice.status (active: false),
 *                                     │     wait for the slice bridge, contend for the Lease
 *   Lease slicenet-gateway-<slice> ───┘─► active: start the data path (TAP + UDP), then every
 *       second: peers from Slice.spec → setPeers, peerStatus → metrics, events, and the entry
 *       (at once when a peer connects or is lost, else every --status-interval-ms)
 *
 * Only the active replica opens the TAP: two TAPs on one slice would loop frames through
 * both tunnels. Both replicas publish their address (the hub hands peers both), and the
 * standby is fully prepared — informer synced, key read, bridge present — so a takeover costs
 * one Lease expiry (2 s by default) plus starting the data path; the new active replica then
 * initiates handshakes and peers follow its address by roaming, without waiting for the hub.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { resources, type Slice } from '../../controller/api/types.ts';
import { customInformer, slicenet } from '../../controller/informers.ts';
import { bridgeName, vxlanName } from '../../worker-agent/dataplane/names.ts';
import { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { LeaderElector } from '../../lib/kube/leader.ts';
import { runRaw } from '../../lib/exec.ts';
import type { Logger } from '../../lib/log.ts';
import { renewDeadlineMs, type GatewayConfig } from './config.ts';
import { emitOn, PeerEvents } from './events.ts';
import { PeerHealth } from './health.ts';
import { loadGatewayKey, type GatewayKey } from './keys.ts';
import { GatewayMetrics } from './metrics.ts';
import { connectedKey, gatewayEntry, peersKey, tunnelPeers, tunnelSettingsKey } from './peers.ts';
import { StatusWriter } from './status.ts';
import type { StartTunnel, Tunnel, TunnelPeerStatus } from './tunnel.ts';

export interface GatewayProcessOptions {
  cfg: GatewayConfig;
  kubeConfig: KubeConfig;
  startTunnel: StartTunnel;
  registry: Registry;
  log: Logger;
}

/** The Lease that picks the active replica of a slice's gateway. */
export const gatewayLeaseName = (slice: string): string => `slicenet-gateway-${slice}`;
/** The TAP the data path plugs into the slice bridge snbr<vni>. */
export const tapName = (vni: number): string => `sngw${vni}`;

const POLL_MS = 1000;

export class GatewayProcess {
  private notReady: string | undefined = 'starting';
  private readonly metrics: GatewayMetrics;
  private readonly status: StatusWriter;
  private readonly events: PeerEvents;
  private readonly health = new PeerHealth();
  private readonly log: Logger;
  private slices: Informer<Slice> | undefined;
  private key: GatewayKey | undefined;
  private leading = false;
  /** Wakes the active loop early: the Slice changed or a peer event came. */
  private kick: () => void = () => undefined;

  constructor(private readonly o: GatewayProcessOptions) {
    const { cfg } = o;
    this.log = o.log;
    this.metrics = new GatewayMetrics(o.registry, cfg.slice);
    this.status = new StatusWriter(o.kubeConfig, cfg.pod, cfg.slice, o.log);
    const recorder = new EventRecorder(o.kubeConfig, 'slicenet-gateway', o.log);
    this.events = new PeerEvents(emitOn(recorder, () => this.slice()));
  }

  /** Why /readyz fails, or undefined: a standby that could take over at once is ready. */
  readiness = (): string | undefined => this.notReady;

  async run(signal: AbortSignal): Promise<void> {
    const { cfg, kubeConfig } = this.o;
    const slices = customInformer<Slice>(kubeConfig, slicenet(resources.Slice.plural), this.log, {
      fieldSelector: `metadata.name=${cfg.slice}`,
    });
    this.slices = slices;
    for (const ev of ['add', 'update', 'delete'] as const) slices.on(ev, () => this.kick());
    const stop = (): void => void slices.stop();
    signal.addEventListener('abort', stop, { once: true });
    let refresh: NodeJS.Timeout | undefined;
    try {
      this.notReady = 'the Slice informer is syncing';
      await slices.start();
      this.key = await loadGatewayKey(kubeConfig, cfg.namespace, cfg.slice, signal, this.log);
      const slice = await this.waitFor(signal, 'the Slice', () => Promise.resolve(this.slice()));
      await this.publish(false);
      const bridge = bridgeName(slice.spec.vni);
      await this.waitFor(signal, `the slice bridge ${bridge}`, () => linkExists(bridge));
      this.notReady = undefined;
      this.log.info('standby ready', { bridge });
      // A standby keeps its entry fresh too: the worker drops entries of pods that are gone.
      refresh = setInterval(() => {
        if (!this.leading) void this.publish(false);
      }, cfg.statusIntervalMs);
      const elector = new LeaderElector({
        kubeConfig,
        namespace: cfg.namespace,
        name: gatewayLeaseName(cfg.slice),
        identity: cfg.pod,
        leaseDurationSeconds: cfg.leaseSeconds,
        renewDeadlineMs: renewDeadlineMs(cfg),
        retryPeriodMs: cfg.leaseRetryMs,
        log: this.log,
        onStartedLeading: (leading) => this.lead(leading),
      });
      while (!signal.aborted) {
        await elector.run(signal);
        // A term that ended in a failure is not retried in a tight loop.
        if (!signal.aborted) await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      clearInterval(refresh);
      signal.removeEventListener('abort', stop);
      await slices.stop();
    }
  }

  /** One active term: runs the data path until `leading` aborts. */
  private async lead(leading: AbortSignal): Promise<void> {
    let tunnel: Tunnel | undefined;
    let settings = '';
    let peers = '';
    let connected = '';
    let written = 0;
    this.leading = true;
    this.events.reset();
    this.health.reset();
    this.events.emitActive(`${this.o.cfg.pod} on node ${this.o.cfg.node} is the active gateway`);
    try {
      while (!leading.aborted) {
        const slice = this.slice();
        if (slice && tunnelSettingsKey(slice) !== settings) {
          await this.stopTunnel(tunnel);
          tunnel = undefined;
          tunnel = await this.startTunnel(slice);
          settings = tunnelSettingsKey(slice);
          peers = peersKey(tunnelPeers(slice));
          connected = '';
        } else if (slice && tunnel) {
          const want = tunnelPeers(slice);
          if (peersKey(want) !== peers) {
            tunnel.setPeers(want);
            peers = peersKey(want);
            this.log.info('peers updated', {
              peers: want.map((p) => `${p.cluster}@${p.endpoints.join('|')}`),
            });
          }
        }
        const polled = this.health.judge(tunnel?.peerStatus() ?? [], performance.now());
        this.metrics.sample(polled);
        this.events.observe(polled);
        const now = Date.now();
        if (connectedKey(polled) !== connected || now - written >= this.o.cfg.statusIntervalMs) {
          connected = connectedKey(polled);
          written = now;
          void this.publish(true, polled);
        }
        await this.pause(POLL_MS, leading);
      }
    } finally {
      await this.stopTunnel(tunnel);
      this.leading = false;
      // Not awaited: the Lease is released only after this returns, and a status write can take
      // seconds on a loaded API server; the standby must not wait for it.
      void this.publish(false);
    }
  }

  private async startTunnel(slice: Slice): Promise<Tunnel> {
    const { cfg } = this.o;
    const { vni, mtu, gateway } = slice.spec;
    const started = performance.now();
    const tunnel = await this.o.startTunnel({
      slice: cfg.slice,
      privateKey: this.key!.privateKey,
      listen: { address: cfg.listenAddress, port: gateway.port },
      tap: { name: tapName(vni), bridge: bridgeName(vni), mtu },
      sliceMtu: mtu,
      wanMtu: cfg.wanMtu,
      cipher: gateway.cipher,
      peers: tunnelPeers(slice),
      onEvent: (e) => {
        this.log.info('tunnel event', { ...e });
        this.events.onTunnelEvent(e);
        this.kick();
      },
    });
    this.metrics.attach(tunnel);
    await this.forgetStaleLocations(vni);
    this.log.info('data path started', {
      ms: Math.round(performance.now() - started),
      port: gateway.port,
      cipher: gateway.cipher,
      tap: tapName(vni),
    });
    return tunnel;
  }

  /**
   * After a takeover, this node's bridge and VXLAN device still send the peer clusters' MACs
   * to the node of the replica that died, where nothing carries them on: the learned entries
   * would only age out in minutes. Flushing the learned (dynamic) ones makes the next frame
   * flood, reach this TAP, and be learned here. The agent's static flood entries stay.
   * Nodes other than the two gateway nodes keep theirs until they relearn (see issue 5 note).
   */
  private async forgetStaleLocations(vni: number): Promise<void> {
    for (const argv of [
      ['bridge', 'fdb', 'flush', 'dev', bridgeName(vni), 'brport', vxlanName(vni), 'dynamic'],
      ['bridge', 'fdb', 'flush', 'dev', vxlanName(vni), 'self', 'dynamic'],
    ]) {
      const r = await runRaw(argv);
      if (r.exitCode !== 0)
        this.log.error('flushing learned forwarding entries failed', { argv, stderr: r.stderr });
    }
  }

  private async stopTunnel(tunnel: Tunnel | undefined): Promise<void> {
    if (!tunnel) return;
    this.metrics.attach(undefined);
    try {
      await tunnel.close();
    } catch (err) {
      this.log.error('closing the data path failed', { err });
    }
    this.log.info('data path stopped');
  }

  /** Writes this replica's entry; `peers` only when active. */
  private publish(active: boolean, peers: readonly TunnelPeerStatus[] = []): Promise<void> {
    const slice = this.slice();
    if (!slice || !this.key) return Promise.resolve();
    const { cfg } = this.o;
    return this.status.write(
      gatewayEntry({
        pod: cfg.pod,
        node: cfg.node,
        nodeIp: cfg.nodeIp,
        port: slice.spec.gateway.port,
        publicKey: this.key.publicKey,
        active,
        peers,
      }),
    );
  }

  private slice(): Slice | undefined {
    return this.slices?.get(this.o.cfg.slice);
  }

  /** Sleeps `ms`, or less when kicked or aborted. */
  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    const kicked = new Promise<void>((r) => (this.kick = r));
    await Promise.race([sleep(ms, undefined, { signal }).catch(() => undefined), kicked]);
    this.kick = () => undefined;
  }

  private async waitFor<T>(
    signal: AbortSignal,
    what: string,
    get: () => Promise<T | undefined | false>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const v = await get();
      if (v) return v;
      if (attempt === 0) {
        this.notReady = `waiting for ${what}`;
        this.log.info('waiting', { for: what });
      }
      await this.pause(250, signal);
      signal.throwIfAborted();
    }
  }
}

async function linkExists(name: string): Promise<boolean> {
  return (await runRaw(['ip', 'link', 'show', 'dev', name])).exitCode === 0;
}
