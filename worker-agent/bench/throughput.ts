/**
 * TCP throughput between two pods on different nodes, to the server pod's slice0 address and
 * to its eth0 address in turn, with iperf3 (one stream, `-t` seconds per run). The server is
 * the pod's own command, so the lab kubelet owns the process and its teardown.
 *
 *   eth0:   pod ─veth─ cni0 ─ node routing ─ cluster LAN ─ node routing ─ cni0 ─veth─ pod
 *   slice0: pod ─veth─ snbr<vni> (anti-spoof) ─ snvx<vni> VXLAN/UDP ─ cluster LAN ─ … ─ pod
 */
import { podView, sleeperPod, waitRunning, type PodView } from '../../lab/demo.ts';
import type { Lab } from '../../lab/lab.ts';
import { waitFor } from '../../lib/wait.ts';
import { networksAnnotation, type Nic } from './pods.ts';
import { CLUSTER, NAMESPACE } from './slice-lab.ts';

const SERVER = 'iperf-server';
const CLIENT = 'iperf-client';

export interface Endpoints {
  slice0: string;
  eth0: string;
}

/** Starts the server pod on the first node and the client pod on the second; the server's addresses. */
export async function startIperfPods(lab: Lab, nic: Nic): Promise<Endpoints> {
  const [n1, n2] = lab.cluster(CLUSTER).nodes.map((n) => n.name);
  const server = sleeperPod(NAMESPACE, SERVER, n1!, networksAnnotation(nic)) as {
    spec: { containers: { command: string[] }[] };
  };
  server.spec.containers[0]!.command = ['iperf3', '--server'];
  const client = sleeperPod(NAMESPACE, CLIENT, n2!, networksAnnotation(nic));
  await lab.kubectl(
    CLUSTER,
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [server, client] }),
  );
  await waitRunning(lab, CLUSTER, NAMESPACE, CLIENT);
  let view: PodView | undefined;
  await waitFor(
    async () => {
      view = await podView(lab, CLUSTER, NAMESPACE, SERVER).catch(() => undefined);
      return view?.phase === 'Running' && view.networkStatus.some((s) => s.interface === nic.iface);
    },
    60_000,
    `${SERVER} Running with ${nic.iface}`,
  );
  const slice0 = view!.networkStatus.find((s) => s.interface === nic.iface)!.ips![0]!;
  return { slice0, eth0: view!.podIP! };
}

/** One iperf3 run from the client pod to `ip`: received bits per second. */
export async function iperf(lab: Lab, ip: string, seconds: number): Promise<number> {
  let last = '';
  // The server pod's process may still be starting, or finishing the previous test.
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await lab.exec(
      CLUSTER,
      NAMESPACE,
      CLIENT,
      ['iperf3', '--client', ip, '--time', String(seconds), '--json', '--connect-timeout', '2000'],
      (seconds + 30) * 1000,
    );
    const out = JSON.parse(r.stdout || '{}') as {
      error?: string;
      end?: { sum_received?: { bits_per_second?: number } };
    };
    const bps = out.end?.sum_received?.bits_per_second;
    if (r.exitCode === 0 && bps) return bps;
    last = out.error ?? r.stderr;
    await new Promise((res) => setTimeout(res, 1000));
  }
  throw new Error(`iperf3 to ${ip} failed ten times; last: ${last}`);
}
