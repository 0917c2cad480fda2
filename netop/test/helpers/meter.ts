/**
 * Rates measured where traffic arrives: nft counters per UDP destination port, and per DSCP
 * class on that port, in a namespace's input hook. Rates are L2 (IP bytes + 14 per packet),
 * since that is what HTB counts, over a window inside each run so that start-up is excluded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../../lib/exec.ts';
import { nftListJson } from '../../../lib/net/nft.ts';
import type { ChildProcess } from 'node:child_process';
import { spawnIn, stop, type Netns, type Teardown } from './netns.ts';

export const METER_TABLE = 'np-rxmeter';

export type Counters = Map<string, { packets: number; bytes: number }>;

/** Counter names: `p<port>` for every packet to the port, `<dscp><port>` for those with that DSCP. */
export const portCounter = (port: number): string => `p${port}`;
export const dscpCounter = (dscp: string, port: number): string => `${dscp.toLowerCase()}${port}`;

/** Counts what arrives at `ports` in `netns` (input hook): all packets, and by DSCP (nft names: ef, af41, …). */
export async function installMeter(
  t: Teardown,
  netns: string,
  ports: number[],
  dscps: string[] = [],
): Promise<void> {
  const names = ports.flatMap((p) => [portCounter(p), ...dscps.map((d) => dscpCounter(d, p))]);
  const rules = ports.flatMap((p) => [
    `    udp dport ${p} counter name ${portCounter(p)}`,
    ...dscps.map((d) => `    udp dport ${p} ip dscp ${d.toLowerCase()} counter name ${dscpCounter(d, p)}`),
  ]);
  await run(['nft', '-f', '-'], {
    netns,
    input: `table inet ${METER_TABLE} {
${names.map((n) => `  counter ${n} {\n  }`).join('\n')}
  chain input {
    type filter hook input priority 0; policy accept;
${rules.join('\n')}
  }
}
`,
  });
  t.teardown(() => run(['nft', 'delete', 'table', 'inet', METER_TABLE], { netns }).catch(() => undefined));
}

export async function readMeter(netns: string): Promise<Counters> {
  const out: Counters = new Map();
  const list = await nftListJson(['counters', 'table', 'inet', METER_TABLE], {
    netnsPath: `/run/netns/${netns}`,
  });
  for (const o of list.nftables as { counter?: { name: string; packets: number; bytes: number } }[])
    if (o.counter) out.set(o.counter.name, o.counter);
  return out;
}

/**
 * The counters and when they were read: the middle of the `nft` run, since on a loaded machine
 * starting the process alone can take tens of milliseconds, a few % of a short window.
 */
async function timedRead(netns: string): Promise<[Counters, number]> {
  const t0 = performance.now();
  const c = await readMeter(netns);
  return [c, (t0 + performance.now()) / 2];
}

export interface Sender {
  ns: Netns;
  argv: string[];
}

export interface Window {
  /** From the senders' start to the window's start (default 1000 ms). */
  settleMs?: number;
  /** The measured window (default 1600 ms). */
  windowMs?: number;
  /**
   * Wait for every port's traffic to arrive before settling (up to 20 s): on a loaded machine
   * senders and the path through a gateway can take seconds to start. If it never does, the
   * measurement fails with what each sender printed.
   */
  untilFlowing?: boolean;
  /** Runs once the senders have settled, before the window opens. */
  during?: () => Promise<void>;
}

/**
 * Starts the senders, measures the L2 rate (kbit/s) of each port's arriving traffic over the
 * window, and waits for the senders to end (stopping them after 5 s more). A sender that fails
 * fails the measurement with its own output, rather than as a rate of 0.
 */
export async function sendAndMeasure(
  t: Teardown,
  meterNetns: string,
  senders: Sender[],
  ports: number[],
  w: Window = {},
): Promise<Map<number, number>> {
  const before = w.untilFlowing ? await readMeter(meterNetns) : undefined;
  const runs = senders.map((s) => new SenderRun(t, s));
  try {
    if (before && !(await untilFlowing(meterNetns, before, ports))) {
      await Promise.all(runs.map((r) => r.stop()));
      const said = runs.map((r) => `\`${r.argv}\` (${r.attempts} start(s)):\n${r.output.trim()}`);
      throw new Error(
        `no steady traffic to port(s) ${ports.join(', ')} within 20 s; the senders:\n${said.join('\n')}`,
      );
    }
    await sleep(w.settleMs ?? 1000);
    if (w.during) await w.during();
    const [c1, t1] = await timedRead(meterNetns);
    await sleep(w.windowMs ?? 1600);
    const [c2, t2] = await timedRead(meterNetns);
    const secs = (t2 - t1) / 1000;
    await Promise.race([Promise.all(runs.map((r) => r.ended)), sleep(5000)]);
    for (const r of runs) r.throwIfFailed();
    const rates = new Map<number, number>();
    for (const p of ports) {
      const a = c1.get(portCounter(p))!;
      const b = c2.get(portCounter(p))!;
      rates.set(p, ((b.bytes - a.bytes + 14 * (b.packets - a.packets)) * 8) / 1000 / secs);
    }
    return rates;
  } finally {
    await Promise.all(runs.map((r) => r.stop()));
  }
}

/**
 * Refusals worth a retry: iperf3's server turns a client away while it is still closing the
 * previous test ("the server is busy running a test"), a race a loaded machine hits between
 * back-to-back runs; and a server started for this run may not be listening yet.
 */
const RETRYABLE = /server is busy|Connection refused/;
const RETRIES = 20;

/** One sender: restarted while the server refuses it (see RETRYABLE); any other failure is kept with its output. */
class SenderRun {
  private child: ChildProcess | undefined;
  private stopping = false;
  private failure: string | undefined;
  /** The last start's stdout and stderr (their last 2000 characters). */
  output = '';
  attempts = 0;
  readonly ended: Promise<void>;

  constructor(
    private readonly t: Teardown,
    private readonly sender: Sender,
  ) {
    this.ended = this.run();
  }

  private async run(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      const child = spawnIn(this.t, this.sender.ns, this.sender.argv);
      this.child = child;
      this.attempts = attempt;
      this.output = '';
      const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-2000));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      if (code === 0 || this.stopping) return;
      if (RETRYABLE.test(this.output) && attempt < RETRIES) {
        await sleep(250);
        continue;
      }
      this.failure = `sender \`${this.argv}\` exited ${code} after ${attempt} attempt(s):\n${this.output.trim()}`;
      return;
    }
  }

  get argv(): string {
    return this.sender.argv.join(' ');
  }

  throwIfFailed(): void {
    if (this.failure) throw new Error(this.failure);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stop(this.child);
    await this.ended;
  }
}

/**
 * Until every port's packets arrive steadily: more than 20 between two reads 200 ms apart, so
 * that a queue draining what an earlier run left does not count as this run's traffic.
 */
async function untilFlowing(netns: string, before: Counters, ports: number[]): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  const packets = (c: Counters, p: number): number => c.get(portCounter(p))?.packets ?? 0;
  let last = before;
  for (;;) {
    await sleep(200);
    const now = await readMeter(netns);
    if (ports.every((p) => packets(now, p) - packets(last, p) > 20)) return true;
    if (Date.now() > deadline) return false;
    last = now;
  }
}

/** iperf3 UDP at a fixed offered rate, `seconds` long, `-l` bytes per datagram. */
export const iperfUdp = (
  host: string,
  serverPort: number,
  mbit: number,
  seconds: number,
  extra: string[] = [],
  len = 1200,
): string[] => [
  'iperf3',
  '-c',
  host,
  '-p',
  String(serverPort),
  '-u',
  '-b',
  `${mbit}M`,
  '-l',
  String(len),
  '-t',
  String(seconds),
  ...extra,
];
