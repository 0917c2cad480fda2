/**
 * The QoS rig: a "gateway node" namespace whose uplink (a veth) goes to a "WAN" namespace,
 * where iperf3 servers listen and the meter counts what arrives. iperf3 UDP senders stand for
 * slice gateways by binding their source port (--cport). Used by qos.e2e and bench:policy.
 */
import type { SliceQos } from '../../qos/model.ts';
import { installMeter, iperfUdp, sendAndMeasure } from './meter.ts';
import { makeNetns, runId, spawnIn, stop, vethInto, type Netns, type Teardown } from './netns.ts';

export const LINK = 50_000; // kbit/s
export const GOLD: SliceQos = {
  slice: 'gold',
  port: 6001,
  guaranteedKbit: 30_000,
  ceilingKbit: 45_000,
  priority: 1,
  dscp: 'EF',
};
export const SILVER: SliceQos = {
  slice: 'silver',
  port: 6002,
  guaranteedKbit: 15_000,
  ceilingKbit: 25_000,
  priority: 3,
  dscp: 'AF41',
};
export const SERVER_PORT: Record<number, number> = { 6001: 5201, 6002: 5202, 6003: 5203 };
const RX = '10.88.0.2';

export interface QosRig {
  gw: Netns;
  wan: Netns;
}

/** Namespaces `<prefix>-<run>-gw` and `-wan`, the uplink `uplink` ↔ `wan0`, and the meter. */
export async function qosRig(t: Teardown, prefix: string): Promise<QosRig> {
  const id = runId();
  const gw = await makeNetns(t, `${prefix}-${id}-gw`);
  const wan = await makeNetns(t, `${prefix}-${id}-wan`);
  await vethInto(gw, 'uplink', wan, 'wan0', `${RX}/24`);
  await gw.ip(['addr add 10.88.0.1/24 dev uplink']);
  // Counters per receiving port, and per DSCP, on the far side of the bottleneck.
  await installMeter(t, wan.name, Object.values(SERVER_PORT), ['EF', 'AF41']);
  return { gw, wan };
}

/**
 * One iperf3 server per port for one run (`-1`: it serves one test and exits), stopped and
 * gone before the next run starts. A server kept across runs sometimes never saw a run's
 * traffic in CI (a rate of 0 and no sender error): every run sends from the same source
 * port to the same server port, so a data socket the server had not yet closed could take the
 * new test's first datagram. A fresh process per run holds nothing from the last one.
 */
async function withServers<T>(t: Teardown, rig: QosRig, ports: number[], run: () => Promise<T>): Promise<T> {
  const servers = ports.map((p) => spawnIn(t, rig.wan, ['iperf3', '-s', '-1', '-p', String(p)]));
  try {
    return await run(); // a sender that comes before its server listens is refused and restarted
  } finally {
    await Promise.all(servers.map(stop));
  }
}

/**
 * Sends from the given gateway ports at `mbit` each; returns the rate each port's traffic
 * arrived at (kbit/s, L2), measured over 1.6 s from 1.0 s after every port's traffic flows
 * (senders can take a while to start on a loaded machine). `during` runs at 1.0 s.
 */
export async function rigSend(
  t: Teardown,
  rig: QosRig,
  ports: number[],
  mbit: number,
  during?: () => Promise<void>,
): Promise<Map<number, number>> {
  const seconds = during ? 6 : 5; // the window ends 2.6 s (and `during`) after the flow starts
  const senders = ports.map((p) => ({
    ns: rig.gw,
    argv: iperfUdp(RX, SERVER_PORT[p]!, mbit, seconds, ['--cport', String(p)], 1400),
  }));
  const serverPorts = ports.map((p) => SERVER_PORT[p]!);
  const byServer = await withServers(t, rig, serverPorts, () =>
    sendAndMeasure(t, rig.wan.name, senders, serverPorts, { during, untilFlowing: true }),
  );
  return new Map(ports.map((p) => [p, byServer.get(SERVER_PORT[p]!)!]));
}
