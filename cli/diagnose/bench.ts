/**
 * `kubectl slice bench`: latency and throughput between two slice pods of two member
 * clusters, over slice0, with the same ways into pods as the MTU check (podexec.ts). First 10
 * pings 0.2 s apart (idle latency), then one iperf3 TCP run of `durationS` seconds; the whole
 * run is bounded by timeouts of a few seconds past each part.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.ts';
import type { Kube } from '../kube.ts';
import { SliceConfigs } from '../sliceconfigs.ts';
import { NO_CONTEXT_FIX, type Members } from './members.ts';
import { ping, type PingResult } from './ping.ts';
import { PodExec } from './podexec.ts';
import { podName, slicePods, type SlicePod } from './slicepods.ts';
import { SlicenetError } from '../../lib/errors.ts';
import type { RunResult } from '../../lib/exec.ts';

export interface BenchOptions {
  slice: string;
  hubNamespace: string;
  from?: string;
  to?: string;
  durationS: number;
  port: number;
}

export interface IperfResult {
  seconds: number;
  bitsPerSecond: number;
  retransmits?: number;
}

export interface BenchResult {
  slice: string;
  from: { pod: string; ip: string; via: string };
  to: { pod: string; ip: string; via: string };
  ping: PingResult & { lossPercent: number };
  iperf3?: IperfResult;
  /** Why iperf3 gave no result. */
  iperf3Error?: string;
}

const PINGS = 10;

export function parseIperf(json: string): IperfResult | undefined {
  try {
    const r = JSON.parse(json) as {
      end?: {
        sum_received?: { seconds?: number; bits_per_second?: number };
        sum_sent?: { retransmits?: number };
      };
    };
    const rx = r.end?.sum_received;
    if (rx?.bits_per_second === undefined) return undefined;
    return {
      seconds: rx.seconds ?? 0,
      bitsPerSecond: rx.bits_per_second,
      ...(r.end?.sum_sent?.retransmits !== undefined ? { retransmits: r.end.sum_sent.retransmits } : {}),
    };
  } catch {
    return undefined;
  }
}

async function podsOf(members: Members, cluster: string, slice: string): Promise<SlicePod[]> {
  const kube = members(cluster);
  if (!kube)
    throw new SlicenetError(
      'KUBECONFIG_UNREADABLE',
      `cannot reach cluster ${cluster}: ${NO_CONTEXT_FIX(cluster)}`,
    );
  return slicePods(kube, cluster, slice);
}

/** The first slice pod of `from` and of `to` (default: the first members, in order, that have one). */
async function pickPods(
  members: Members,
  o: BenchOptions,
  clusters: string[],
): Promise<[SlicePod, SlicePod]> {
  for (const [flag, c] of [
    ['--from', o.from],
    ['--to', o.to],
  ] as const)
    if (c !== undefined && !clusters.includes(c))
      throw new UsageError(
        `${flag}: '${c}' is not a member cluster of slice ${o.slice} (${clusters.join(', ')})`,
      );
  const named = async (c: string): Promise<SlicePod> => {
    const pod = (await podsOf(members, c, o.slice))[0];
    if (!pod)
      throw new SlicenetError(
        'NOT_FOUND',
        `no running pod with slice0 on slice ${o.slice} in cluster ${c}: join a namespace there and start a pod`,
      );
    return pod;
  };
  let from = o.from === undefined ? undefined : await named(o.from);
  let to = o.to === undefined ? undefined : await named(o.to);
  for (const c of clusters) {
    if (from && to) break;
    if (c === from?.cluster || c === to?.cluster) continue;
    const pod = (await podsOf(members, c, o.slice))[0];
    if (!pod) continue;
    if (!from) from = pod;
    else to = pod;
  }
  if (!from || !to)
    throw new SlicenetError(
      'NOT_FOUND',
      `slice ${o.slice} has running slice pods in fewer than two member clusters; bench needs two: ` +
        'join a namespace in another cluster (kubectl slice join) and start a pod there',
    );
  return [from, to];
}

function iperfError(client: RunResult, server: RunResult): string {
  try {
    const e = (JSON.parse(client.stdout) as { error?: string }).error;
    if (e) return e;
  } catch {
    // not JSON: iperf3 did not get as far as a report
  }
  return client.stderr.trim() || server.stderr.trim() || `iperf3 exited ${client.exitCode}`;
}

export async function bench(hub: Kube, members: Members, o: BenchOptions): Promise<BenchResult> {
  const sc = await new SliceConfigs(hub, o.hubNamespace).get(o.slice);
  const [from, to] = await pickPods(members, o, sc.spec.clusters ?? []);
  const exec = new PodExec(members);
  try {
    const p = await ping(exec, from, to.ip, { count: PINGS });
    const result: BenchResult = {
      slice: o.slice,
      from: { pod: podName(from), ip: from.ip, via: exec.via(from) },
      to: { pod: podName(to), ip: to.ip, via: exec.via(to) },
      ping: { ...p, lossPercent: p.sent ? Math.round((100 * (p.sent - p.received)) / p.sent) : 100 },
    };
    const limit = (o.durationS + 10) * 1000;
    const server = exec.run(to, ['iperf3', '-s', '-1', '-p', String(o.port)], limit + 5000);
    await sleep(700);
    const client = await exec.run(
      from,
      ['iperf3', '-c', to.ip, '-p', String(o.port), '-t', String(o.durationS), '-J'],
      limit,
    );
    const served = await server;
    const iperf = parseIperf(client.stdout);
    if (iperf) result.iperf3 = iperf;
    else result.iperf3Error = iperfError(client, served);
    return result;
  } finally {
    exec.close();
  }
}
