/**
 * The measurements, pod-a → pod-b: iperf3 TCP throughput and ping round-trip times. Each runs
 * as a child bounded in time (runRaw kills it at its timeout); the iperf3 server is a process of
 * the table, stopped by PID with its path. Parsers are exported for the unit tests.
 */
import type { ProcessTable } from '../../lab/process.ts';
import { run, runRaw } from '../../lib/exec.ts';
import { waitFor } from '../../lib/wait.ts';
import type { Topology } from './topology.ts';

const IPERF_PORT = 5201;

/** Round-trip times in ms from ping's per-reply lines (`... time=0.123 ms`). */
export function parsePing(stdout: string): number[] {
  return [...stdout.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

/** Received throughput in Gbit/s from `iperf3 -J` output; throws with iperf3's own error. */
export function parseIperf(json: string): number {
  let doc: { error?: string; end?: { sum_received?: { bits_per_second?: number } } };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    throw new Error(`iperf3 printed no JSON: ${json.slice(0, 200)}`);
  }
  if (doc.error) throw new Error(`iperf3: ${doc.error}`);
  const bps = doc.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error('iperf3 JSON has no end.sum_received.bits_per_second');
  return bps / 1e9;
}

/** `count` pings at 10 ms intervals; the RTTs of the replies. */
export async function pingRtts(t: Topology, count: number): Promise<number[]> {
  const r = await runRaw(['ping', '-n', '-c', String(count), '-i', '0.01', '-W', '1', t.podIp.b], {
    netns: t.ns.podA,
    timeoutMs: count * 10 + 15_000,
  });
  const rtts = parsePing(r.stdout);
  if (rtts.length < count * 0.9)
    throw new Error(
      `ping ${t.podIp.b}: ${rtts.length} of ${count} replies\n${r.stdout.slice(-300)}${r.stderr}`,
    );
  return rtts;
}

/** Waits until pod-a reaches pod-b (a tunnel that just came up may still be handshaking). */
export async function waitReachable(t: Topology, what: string): Promise<void> {
  await waitFor(
    async () =>
      (await runRaw(['ping', '-n', '-c', '1', '-W', '1', t.podIp.b], { netns: t.ns.podA, timeoutMs: 5000 }))
        .exitCode === 0,
    30_000,
    `${what}: pod-a to reach pod-b (${t.podIp.b})`,
    200,
  );
}

export async function startIperfServer(t: Topology, procs: ProcessTable, id: string): Promise<void> {
  procs.start({ id, argv: ['iperf3', '-s', '-p', String(IPERF_PORT)], netns: t.ns.podB });
  await waitFor(
    async () => (await run(['ss', '-Hltn', `sport = :${IPERF_PORT}`], { netns: t.ns.podB })).trim() !== '',
    10_000,
    `iperf3 server in ${t.ns.podB}`,
    100,
  );
}

/** One iperf3 TCP run of `streams` streams for `seconds` (+1 s omitted); Gbit/s received. */
export async function iperf(t: Topology, streams: number, seconds: number): Promise<number> {
  const argv = ['iperf3', '-c', t.podIp.b, '-p', String(IPERF_PORT), '-J', '--connect-timeout', '3000'];
  argv.push('-t', String(seconds), '-O', '1', '-P', String(streams));
  const r = await runRaw(argv, { netns: t.ns.podA, timeoutMs: (seconds + 20) * 1000 });
  return parseIperf(r.stdout || r.stderr);
}
