/**
 * MTU end to end: a ping with "don't fragment" that fills a packet of exactly the slice MTU,
 * from the first slice pod of each member cluster to slice pods of every other. When it is
 * lost but a small ping passes, a link on the path is narrower than the slice MTU: a binary
 * search of DF sizes finds what does cross, which tells the user how far off it is.
 */
import { ICMP_OVERHEAD, ping } from './ping.ts';
import type { PodExec } from './podexec.ts';
import { podName, type SlicePod } from './slicepods.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'mtu';
/** Targets per pair of clusters: enough to catch one bad node, bounded in time. */
const MAX_TARGETS = 4;
const MIN_PACKET = 68;

/**
 * The largest DF packet (bytes) that reaches `to` from `from`, by binary search to the byte
 * (11 single pings from 68 to 1500; a lost one costs its 1 s wait); 0 if none.
 */
async function largestPassing(exec: PodExec, from: SlicePod, to: string, mtu: number): Promise<number> {
  let lo = MIN_PACKET;
  let hi = mtu - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await ping(exec, from, to, { count: 1, size: mid - ICMP_OVERHEAD, df: true });
    if (r.received > 0) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

async function pathFinding(
  exec: PodExec,
  from: SlicePod,
  targets: SlicePod[],
  mtu: number,
): Promise<Finding> {
  const scope = `${from.cluster} → ${targets[0]!.cluster}`;
  const passed: string[] = [];
  for (const to of targets) {
    const r = await ping(exec, from, to.ip, { count: 3, size: mtu - ICMP_OVERHEAD, df: true });
    if (r.received > 0) {
      passed.push(`${to.name} ${r.rttMs?.avg.toFixed(2) ?? '?'} ms`);
      continue;
    }
    const what = `DF ping of ${mtu} bytes (the slice MTU) ${podName(from)} → ${podName(to)} (${to.ip}) lost`;
    if (r.error?.toLowerCase().includes('message too long'))
      return notOk(
        'fail',
        CHECK,
        scope,
        `${what}: ${r.error}`,
        `slice0 in ${podName(from)} has a smaller MTU than the slice's ${mtu}`,
        `recreate the pod so the CNI plugin sets slice0's MTU again, or look for who changed it (ip link show slice0 in the pod)`,
      );
    const small = await ping(exec, from, to.ip, { count: 2 });
    if (small.received === 0)
      return notOk(
        'fail',
        CHECK,
        scope,
        `${what}, and a small ping too: no path at all`,
        `the tunnel between ${from.cluster} and ${to.cluster} is down or the pod does not answer (see the gateways check)`,
        `fix the gateways first, then run diagnose again`,
      );
    const fits = await largestPassing(exec, from, to.ip, mtu);
    return notOk(
      'fail',
      CHECK,
      scope,
      `${what}; small pings pass; the largest DF packet that crosses is ${fits || 'under ' + MIN_PACKET} bytes`,
      `a link on the path (slice0 or its bridge port on either node, the gateway's TAP, the WAN between the gateways) ` +
        `carries less than the slice MTU ${mtu}, and drops bigger packets instead of fragmenting them`,
      `find the link with an MTU below ${mtu} (ip link on the nodes of ${podName(from)}, ${podName(to)} and their ` +
        `gateways) and raise it; or, if the WAN really is that narrow, set the Cluster's spec.wanMtu (or the ` +
        `SliceConfig's spec.gateway.mtu to at most ${fits || MIN_PACKET}) so the slice MTU fits`,
    );
  }
  return ok(CHECK, scope, `DF pings of ${mtu} bytes from ${podName(from)}: ${passed.join(', ')}`);
}

/** One finding per ordered pair of member clusters; `pods` holds each cluster's slice pods. */
export async function checkMtu(
  exec: PodExec,
  mtu: number | undefined,
  pods: Map<string, SlicePod[] | undefined>,
): Promise<Finding[]> {
  if (mtu === undefined)
    return [
      notOk(
        'warn',
        CHECK,
        'slice',
        'no member cluster reported the slice MTU',
        'the workers have not made the Slice yet',
        'wait for the slice to become Ready (kubectl slice get), then run diagnose again',
      ),
    ];
  const findings: Finding[] = [];
  const withPods = [...pods].filter(([, p]) => p && p.length > 0) as [string, SlicePod[]][];
  for (const [cluster, list] of pods)
    if (list && list.length === 0)
      findings.push(
        notOk(
          'warn',
          CHECK,
          cluster,
          `no running slice pod with ${'slice0'} in ${cluster}: paths from and to it not checked`,
          'no namespace of this cluster has joined the slice, or its pods are not running yet',
          `join a namespace (kubectl slice join <ns> --slice <slice> --context ${cluster}) and start a pod in it`,
        ),
      );
  // Paths are independent: probed at once, reported in cluster order.
  const paths = withPods.flatMap(([a, fromPods]) =>
    withPods
      .filter(([b]) => b !== a)
      .map(([, toPods]) => pathFinding(exec, fromPods[0]!, toPods.slice(0, MAX_TARGETS), mtu)),
  );
  return [...findings, ...(await Promise.all(paths))];
}
