/**
 * Per-slice QoS on a node's uplink (SPEC §7):
 *
 *   gateway UDP (sport or dport = slice port) ─► nft inet slicenet-qos: DSCP of the slice's class
 *        │
 *        ▼ uplink egress: HTB 1: ── 1:1 parent (link rate)
 *                                     ├── 1:<port> per slice: rate = guaranteed, ceil = ceiling, prio
 *                                     └── 1:2 default: what the guarantees leave, ceil = link, prio 7
 *          u32 filters at pref <port>: `ip protocol 17`, `ip sport|dport <port>` → 1:<port>
 *   uplink ingress ─► ingress qdisc ─► u32 match-all, mirred redirect ─► ifb ─► the same HTB tree
 *
 * Why u32: this kernel has no flower and no fw classifier; u32 matches the UDP port at a fixed
 * offset (IPv4 without options, which is what the gateways send). Why ifb: a qdisc only shapes
 * what leaves a device; redirecting arriving packets to an ifb device makes them "leave" it, so
 * a slice's ceiling holds in both directions. Filters cost one u32 match per slice per packet.
 *
 * Why a bfifo under each slice class: HTB's default leaf queue is txqueuelen packets (1000: a
 * second at 10 Mbit/s). A slice sending over its ceiling then fills it, and every packet of the
 * slice, its TCP handshakes and acknowledgements included, waits a second behind the flood (the
 * lab test's iperf3 control connections timed out). The bfifo holds QUEUE_MS at the ceiling, so
 * the excess is dropped at once instead. (This kernel has no fq_codel, sfq or codel.)
 *
 * Reconcile is a diff against what `tc` reports: missing classes are added, changed ones get a
 * `tc class change` (their counters and queues stay), classes and filters of slices that went
 * away are deleted. The root qdisc is only created when it is missing or not ours, so a
 * restarted netop rebuilds the same state without a gap in traffic.
 */
import { createHash } from 'node:crypto';
import { runRaw, run } from '../../lib/exec.ts';
import { ipJson, type NetnsOption } from '../../lib/net/ip.ts';
import { nftApply } from '../../lib/net/nft.ts';
import { renderDscp } from './dscp.ts';
import {
  classId,
  DEFAULT_MINOR,
  PARENT_MINOR,
  validateQos,
  type QosDeviceConfig,
  type SliceQos,
} from './model.ts';
import { readClasses, readFilters, readQdiscs, type HtbClass } from './tc.ts';

export type Direction = 'egress' | 'ingress';

export interface SliceQosStats {
  slice: string;
  direction: Direction;
  bytes: number;
  packets: number;
  drops: number;
}

/** The ifb device that shapes `dev`'s arriving traffic: snqi + 8 hex digits of its name. */
export const ifbName = (dev: string): string =>
  `snqi${createHash('sha256').update(dev).digest('hex').slice(0, 8)}`;

interface WantClass {
  minor: number;
  rate: number;
  ceil: number;
  prio: number;
}

/** Bytes HTB may send at once: 20 ms at the rate, at least 32 KB, so a busy CPU’s timer slack does not eat the rate (over a second it adds at most 2 %). */
const burst = (bits: number): number => Math.max(32_000, Math.round(bits / 8 / 50));
/** Spare bandwidth is lent in proportion to the quantum: make it proportional to the rate. */
const quantum = (bits: number): number => Math.min(200_000, Math.max(1514, Math.round(bits / 8 / 100)));
const close = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(1000, b * 0.01);
/** How long a slice's queue may be, at its ceiling. */
const QUEUE_MS = 50;
/** The byte limit of a slice class's bfifo: QUEUE_MS at the ceiling, at least 32 KB. */
export const queueBytes = (ceilBits: number): number =>
  Math.max(32_000, Math.round((ceilBits / 8) * (QUEUE_MS / 1000)));

function classArgs(w: WantClass): string {
  return (
    `htb rate ${Math.round(w.rate / 1000)}kbit ceil ${Math.round(w.ceil / 1000)}kbit prio ${w.prio} ` +
    `quantum ${quantum(w.rate)} burst ${burst(w.rate)} cburst ${burst(w.ceil)}`
  );
}

export class QosEngine {
  private appliedDscp: string | undefined;
  private ports = new Map<number, string>();

  constructor(
    private readonly cfg: QosDeviceConfig,
    private readonly ns: NetnsOption = {},
  ) {}

  /** Converges the uplink (and its ifb) to exactly `slices`; returns the tc commands it ran. */
  async reconcile(slices: SliceQos[]): Promise<string[]> {
    validateQos(slices, this.cfg);
    const link = this.cfg.linkKbit * 1000;
    const guaranteed = slices.reduce((a, s) => a + s.guaranteedKbit * 1000, 0);
    const want: WantClass[] = [
      { minor: PARENT_MINOR, rate: link, ceil: link, prio: 0 },
      { minor: DEFAULT_MINOR, rate: Math.max(link - guaranteed, link / 100, 8000), ceil: link, prio: 7 },
      ...slices.map((s) => ({
        minor: s.port,
        rate: s.guaranteedKbit * 1000,
        ceil: Math.min(s.ceilingKbit * 1000, link),
        prio: s.priority,
      })),
    ];
    const ran = await this.converge(this.cfg.device, want);
    if (this.cfg.ingress) {
      await this.ensureIfb();
      ran.push(...(await this.converge(ifbName(this.cfg.device), want)));
    } else await this.removeIfb();
    const dscp = renderDscp(this.cfg.device, slices);
    if (dscp !== this.appliedDscp) {
      await nftApply(dscp, this.ns);
      this.appliedDscp = dscp;
    }
    this.ports = new Map(slices.map((s) => [s.port, s.slice]));
    return ran;
  }

  /** Removes everything the engine made: HTB root, ifb, DSCP table. */
  async teardown(): Promise<void> {
    await runRaw(['tc', 'qdisc', 'del', 'dev', this.cfg.device, 'root'], { netnsPath: this.ns.netnsPath });
    await this.removeIfb();
    await runRaw(['nft', 'delete', 'table', 'inet', 'slicenet-qos'], { netnsPath: this.ns.netnsPath });
    this.appliedDscp = undefined;
  }

  /** Bytes, packets and drops of each slice's class, both directions. */
  async stats(): Promise<SliceQosStats[]> {
    const devs: [string, Direction][] = [[this.cfg.device, 'egress']];
    if (this.cfg.ingress) devs.push([ifbName(this.cfg.device), 'ingress']);
    const out: SliceQosStats[] = [];
    for (const [dev, direction] of devs)
      for (const c of await readClasses(dev, this.ns).catch((): HtbClass[] => [])) {
        const slice = this.ports.get(c.minor);
        if (slice) out.push({ slice, direction, bytes: c.bytes, packets: c.packets, drops: c.drops });
      }
    return out;
  }

  private async converge(dev: string, want: WantClass[]): Promise<string[]> {
    const cmds: string[] = [];
    const qdiscs = await readQdiscs(dev, this.ns);
    const root = qdiscs.find((q) => q.root);
    const ours = root?.kind === 'htb' && root.handle === '1:';
    /** Slice class minor → its bfifo's limit. */
    const leaves = new Map(
      ours
        ? qdiscs.flatMap((q) =>
            q.kind === 'bfifo' && q.parent?.startsWith('1:')
              ? [[parseInt(q.parent.slice(2), 16), q.options?.limit] as const]
              : [],
          )
        : [],
    );
    if (!ours) cmds.push(`qdisc replace dev ${dev} root handle 1: htb default ${DEFAULT_MINOR.toString(16)}`);
    const have = new Map((ours ? await readClasses(dev, this.ns) : []).map((c) => [c.minor, c]));
    const filters = ours ? await readFilters(dev, this.ns) : new Map<number, number>();
    const wanted = new Set(want.map((w) => w.minor));
    // Filters and classes of slices that went away: filters first, a class in use cannot go.
    for (const pref of filters.keys())
      if (!wanted.has(pref)) cmds.push(`filter del dev ${dev} parent 1: protocol ip pref ${pref}`);
    for (const minor of have.keys())
      if (!wanted.has(minor)) cmds.push(`class del dev ${dev} classid ${classId(minor)}`);
    for (const w of want) {
      const parent = w.minor === PARENT_MINOR ? '1:' : classId(PARENT_MINOR);
      const h = have.get(w.minor);
      if (!h) cmds.push(`class add dev ${dev} parent ${parent} classid ${classId(w.minor)} ${classArgs(w)}`);
      else if (!close(h.rate, w.rate) || !close(h.ceil, w.ceil) || h.prio !== w.prio)
        cmds.push(`class change dev ${dev} parent ${parent} classid ${classId(w.minor)} ${classArgs(w)}`);
      if (w.minor === PARENT_MINOR || w.minor === DEFAULT_MINOR) continue;
      const limit = queueBytes(w.ceil);
      if (leaves.get(w.minor) !== limit)
        cmds.push(`qdisc replace dev ${dev} parent ${classId(w.minor)} bfifo limit ${limit}`);
      if (filters.has(w.minor)) continue;
      for (const dir of ['sport', 'dport'])
        cmds.push(
          `filter add dev ${dev} parent 1: protocol ip pref ${w.minor} u32 ` +
            `match ip protocol 17 0xff match ip ${dir} ${w.minor} 0xffff flowid ${classId(w.minor)}`,
        );
    }
    if (cmds.length)
      await run(['tc', '-batch', '-'], { input: cmds.join('\n') + '\n', netnsPath: this.ns.netnsPath });
    return cmds;
  }

  private async ensureIfb(): Promise<void> {
    const dev = this.cfg.device;
    const ifb = ifbName(dev);
    const opts = { netnsPath: this.ns.netnsPath };
    if (!(await ipJson(['link', 'show', 'dev', ifb], this.ns)).length)
      await run(['ip', 'link', 'add', 'name', ifb, 'type', 'ifb'], opts);
    await run(['ip', 'link', 'set', ifb, 'up'], opts);
    const qdiscs = await readQdiscs(dev, this.ns);
    if (!qdiscs.some((q) => q.kind === 'ingress'))
      await run(['tc', 'qdisc', 'add', 'dev', dev, 'handle', 'ffff:', 'ingress'], opts);
    const f = await run(['tc', '-j', 'filter', 'show', 'dev', dev, 'parent', 'ffff:'], opts);
    if (!f.includes(`"to_dev":"${ifb}"`))
      await run(
        [
          'tc',
          'filter',
          'add',
          'dev',
          dev,
          'parent',
          'ffff:',
          'protocol',
          'all',
          'pref',
          '1',
          'u32',
          'match',
          'u32',
          '0',
          '0',
          'action',
          'mirred',
          'egress',
          'redirect',
          'dev',
          ifb,
        ],
        opts,
      );
  }

  private async removeIfb(): Promise<void> {
    const ifb = ifbName(this.cfg.device);
    const opts = { netnsPath: this.ns.netnsPath };
    if (!(await ipJson(['link', 'show', 'dev', ifb], this.ns)).length) return;
    await runRaw(['tc', 'qdisc', 'del', 'dev', this.cfg.device, 'handle', 'ffff:', 'ingress'], opts);
    await runRaw(['ip', 'link', 'del', 'dev', ifb], opts);
  }
}
