/**
 * Gateways in real network namespaces, for the data-path e2e tests and the fuzz bench:
 *
 *   pod ns p<i>: slice0 10.50.0.i/24 (MTU 1400)
 *        │ veth
 *   gw ns g<i>:  br0 ── sgw0 (the gateway's TAP)      gateway: standalone.ts, UDP 0.0.0.0:51820
 *        │ wan  198.51.100.i/24 (MTU 1500)
 *   WAN ns wan:  bridge wan0 joining every gateway's wan link (captures run here), and an
 *                attacker's address 198.51.100.200 on the bridge itself
 *
 * The gateways' wan links have UDP segmentation offload off, as a NIC without it: GSO sends
 * are cut into datagrams before the link, so a capture sees the datagrams a wire would carry.
 *
 * Every namespace is named `sn-gw-<run>-…`; destroy() stops the gateways by PID and deletes
 * the namespaces (which removes every link in them), and runs even if create() failed half-way.
 * IPv6 is off everywhere so neighbour discovery adds no frames to the counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runRaw, toolEnv, type RunResult } from '../../../../lib/exec.ts';
import { generateKeyPair, type Timers, type TransportCipher } from '../../../protocol/index.ts';
import type { GatewayIo, PeerStatus } from '../../gateway.ts';

export const GW_PORT = 51820;
export const SLICE_MTU = 1400;
export const ATTACKER = '198.51.100.200';
const STANDALONE = fileURLToPath(new URL('../../standalone.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export interface Node {
  index: number;
  gw: string;
  pod: string;
  podIp: string;
  podMac: string;
  wanIp: string;
  publicKey: string;
  privateKey: string;
  config: string;
  status: string;
  proc?: ChildProcess;
  stderr: string[];
}

export interface TopologyOptions {
  gateways: number;
  cipher?: TransportCipher;
  timers?: Partial<Timers>;
  /** Put every pod's slice address in the other gateways' ARP tables (default false). */
  arp?: boolean;
  /**
   * The gateways' TAP offloads (config `offloads`); default: SLICENET_TEST_OFFLOADS=1|0 if set,
   * else the gateway's own default.
   */
  offloads?: boolean;
}

function offloadsFor(opts: TopologyOptions): Record<string, boolean> {
  const env = process.env.SLICENET_TEST_OFFLOADS;
  const on = opts.offloads ?? (env === '1' ? true : env === '0' ? false : undefined);
  return on === undefined ? {} : { offloads: on };
}

export interface GatewayState {
  peers: PeerStatus[];
  drops: Record<string, number>;
  io: GatewayIo;
}

export class Topology {
  readonly run = randomBytes(3).toString('hex');
  readonly wan = `sn-gw-${this.run}-wan`;
  readonly nodes: Node[] = [];
  readonly dir = mkdtempSync(join(tmpdir(), 'sn-gw-'));
  private readonly namespaces: string[] = [];

  private constructor(readonly opts: TopologyOptions) {}

  /** Builds the namespaces and starts one gateway per node; destroys everything if a step fails. */
  static async create(opts: TopologyOptions): Promise<Topology> {
    const t = new Topology(opts);
    try {
      await t.build();
      await Promise.all(t.nodes.map((n) => t.start(n)));
      return t;
    } catch (err) {
      await t.destroy();
      throw err;
    }
  }

  /** Runs a command in a namespace; resolves whatever the exit code. */
  exec(ns: string, argv: string[], timeoutMs = 60_000): Promise<RunResult> {
    return runRaw(argv, { netns: ns, timeoutMs });
  }

  /** Pings from node a's pod to node b's pod; `args` are extra ping flags. */
  ping(
    a: number,
    b: number,
    args: string[] = ['-c', '3', '-i', '0.2'],
    timeoutMs = 60_000,
  ): Promise<RunResult> {
    return this.exec(this.node(a).pod, ['ping', '-n', '-W', '1', ...args, this.node(b).podIp], timeoutMs);
  }

  node(i: number): Node {
    const n = this.nodes[i - 1];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  /** The last status the node's gateway wrote. */
  state(i: number): GatewayState {
    return JSON.parse(readFileSync(this.node(i).status, 'utf8')) as GatewayState;
  }

  /** The gateway's view of the peer on node `j`. */
  peer(i: number, j: number): PeerStatus | undefined {
    return this.state(i).peers.find((p) => p.cluster === `c${j}`);
  }

  /** Stops a node's gateway (SIGTERM, then SIGKILL after 3 s); resolves when it has exited. */
  async stop(n: Node): Promise<void> {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const kill = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }

  /** Starts (or restarts) a node's gateway from its config file; resolves when it is ready. */
  async start(n: Node): Promise<void> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        n.gw,
        process.execPath,
        '--import',
        'tsx',
        STANDALONE,
        '--config',
        n.config,
        '--status',
        n.status,
      ],
      { cwd: REPO, env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    n.proc = child;
    child.stderr.on('data', (b: Buffer) => {
      n.stderr.push(b.toString());
      if (n.stderr.length > 200) n.stderr.shift();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gateway ${n.index} not ready in 30 s:\n${n.stderr.join('')}`)),
        30_000,
      );
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (!out.includes('"ready":true')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gateway ${n.index} exited with ${code}:\n${n.stderr.join('')}`));
      });
    });
    await waitForFile(n.status);
  }

  /** Frames through node i's TAP since it was made: tx = read by the gateway, rx = written by it. */
  async tapPackets(i: number): Promise<{ rx: number; tx: number }> {
    const out = await run(['ip', '-s', '-j', 'link', 'show', 'sgw0'], { netns: this.node(i).gw });
    const [link] = JSON.parse(out) as { stats64: { rx: { packets: number }; tx: { packets: number } } }[];
    return { rx: link!.stats64.rx.packets, tx: link!.stats64.tx.packets };
  }

  /** Runs a TypeScript file with Node + tsx in a namespace; returns its last stdout line as JSON. */
  async script<T>(ns: string, path: string, args: string[], timeoutMs = 120_000): Promise<T> {
    const r = await runRaw([process.execPath, '--import', 'tsx', path, ...args], { netns: ns, timeoutMs });
    if (r.exitCode !== 0) throw new Error(`${path} exited with ${r.exitCode}:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as T;
  }

  /** Moves node i's WAN address to `ip` (roaming). */
  async moveWan(i: number, ip: string): Promise<void> {
    const n = this.node(i);
    // Delete first: deleting a primary address also deletes the secondaries of its subnet.
    await run(['ip', 'addr', 'del', `${n.wanIp}/24`, 'dev', 'wan'], { netns: n.gw });
    await run(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'wan'], { netns: n.gw });
    n.wanIp = ip;
  }

  /** Rewrites node i's config (e.g. other peers' endpoints) for its next start(). */
  writeConfig(n: Node, extra: Record<string, unknown> = {}): void {
    const peers = this.nodes
      .filter((p) => p !== n)
      .map((p) => ({
        cluster: `c${p.index}`,
        publicKey: p.publicKey,
        endpoints: [`${p.wanIp}:${GW_PORT}`],
        ...(this.opts.arp ? { arp: [{ ip: p.podIp, mac: p.podMac }] } : {}),
      }));
    const config = {
      privateKey: n.privateKey,
      slice: 'test',
      listen: { address: '0.0.0.0', port: GW_PORT },
      tap: { name: 'sgw0', bridge: 'br0', mtu: 1500 },
      sliceMtu: SLICE_MTU,
      wanMtu: 1500,
      ...(this.opts.cipher ? { cipher: this.opts.cipher } : {}),
      ...(this.opts.timers ? { timers: this.opts.timers } : {}),
      ...offloadsFor(this.opts),
      peers,
      ...extra,
    };
    writeFileSync(n.config, JSON.stringify(config, null, 2));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stop(n).catch(() => undefined)));
    for (const ns of this.namespaces) await runRaw(['ip', 'netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async addNs(name: string): Promise<void> {
    await run(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    await run(['ip', 'link', 'set', 'lo', 'up'], { netns: name });
    await run(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
      netns: name,
    });
  }

  private async build(): Promise<void> {
    await this.addNs(this.wan);
    await run(['ip', 'link', 'add', 'wan0', 'type', 'bridge'], { netns: this.wan });
    await run(['ip', 'link', 'set', 'wan0', 'up'], { netns: this.wan });
    // The attacker's address for hostile tests: on the WAN itself, not a gateway.
    await run(['ip', 'addr', 'add', `${ATTACKER}/24`, 'dev', 'wan0'], { netns: this.wan });
    for (let i = 1; i <= this.opts.gateways; i++) {
      const gw = `sn-gw-${this.run}-g${i}`;
      const pod = `sn-gw-${this.run}-p${i}`;
      await this.addNs(gw);
      await this.addNs(pod);
      const mac = `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
      const keys = generateKeyPair();
      const node: Node = {
        index: i,
        gw,
        pod,
        podIp: `10.50.0.${i}`,
        podMac: mac,
        wanIp: `198.51.100.${i}`,
        publicKey: keys.publicKey.toString('base64'),
        privateKey: keys.privateKey.toString('base64'),
        config: join(this.dir, `g${i}.json`),
        status: join(this.dir, `g${i}.status.json`),
        stderr: [],
      };
      this.nodes.push(node);
      const ip = (ns: string, ...args: string[]): Promise<string> => run(['ip', ...args], { netns: ns });
      // pod ── gw: the pod's slice0 on the gateway namespace's br0.
      await ip(gw, 'link', 'add', 'br0', 'type', 'bridge');
      await ip(
        gw,
        'link',
        'add',
        'pod',
        'mtu',
        String(SLICE_MTU),
        'type',
        'veth',
        'peer',
        'name',
        'slice0',
        'mtu',
        String(SLICE_MTU),
        'netns',
        pod,
      );
      await ip(gw, 'link', 'set', 'pod', 'master', 'br0', 'up');
      await ip(gw, 'link', 'set', 'br0', 'up');
      await ip(pod, 'link', 'set', 'slice0', 'address', mac, 'up');
      await ip(pod, 'addr', 'add', `${node.podIp}/24`, 'dev', 'slice0');
      // gw ── WAN.
      await ip(gw, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', `g${i}`, 'netns', this.wan);
      await ip(gw, 'addr', 'add', `${node.wanIp}/24`, 'dev', 'wan');
      await ip(gw, 'link', 'set', 'wan', 'up');
      // Like a NIC without UDP segmentation offload: the kernel cuts the gateway's GSO sends
      // into their datagrams before the link, so captures on the WAN see what a wire would.
      await run(['ethtool', '-K', 'wan', 'tx-udp-segmentation', 'off'], { netns: gw });
      await ip(this.wan, 'link', 'set', `g${i}`, 'master', 'wan0', 'up');
    }
    for (const n of this.nodes) this.writeConfig(n);
  }
}

async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      readFileSync(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${path} never appeared`);
}
