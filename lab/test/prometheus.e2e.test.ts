/**
 * Issue 7's Prometheus acceptance: Debian's real prometheus, started by the lab install, scrapes
 * every Slicenet process of a two-cluster lab running the demo slice, and its HTTP API shows what
 * an operator would look for — every target up, gateway bytes rising with traffic, CNI latency
 * histograms, IPAM and QoS series with drops once the slice has a ceiling to exceed, and
 * `peer_up` falling (and the SlicenetPeerDown alert pending) when the other cluster's gateways
 * die. `lab down` then leaves nothing, Prometheus and its data included.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { netopProcessId, startLabNetop, waitLabNetopReady } from '../../netop/lab.ts';
import { gatewayPid, gatewayPods } from '../../slice-gateway/lab.ts';
import { waitFor } from '../../lib/wait.ts';
import { podView } from '../demo.ts';
import { Lab } from '../lab.ts';
import { labPrometheusUrl, promQuery, type Sample } from '../prometheus.ts';
import { SLICE_DEMO, runSliceDemo } from '../slice-demo.ts';
import { installSlicenet } from '../slicenet.ts';
import { leftovers, NOTHING, testLabName } from './leftovers.ts';

const { slice, namespace } = SLICE_DEMO;

/** The demo pod's slice0 address. */
async function sliceIp(lab: Lab, cluster: string, pod: string): Promise<string> {
  const v = await podView(lab, cluster, namespace, pod);
  const ip = v.networkStatus.find((s) => s.interface === 'slice0')?.ips?.[0];
  if (!ip) throw new Error(`${cluster}/${pod} has no slice0 address`);
  return ip;
}

/** iperf3 UDP at `mbps` from c1/demo-a to c2/demo-a for `seconds`. */
async function udpFlood(lab: Lab, seconds: number, mbps: number): Promise<void> {
  const server = lab.exec('c2', namespace, 'demo-a', ['iperf3', '-s', '-1'], (seconds + 20) * 1000);
  await sleep(500);
  const to = await sliceIp(lab, 'c2', 'demo-a');
  const client = ['iperf3', '-c', to, '-t', String(seconds), '-u', '-b', `${mbps}M`];
  const r = await lab.exec('c1', namespace, 'demo-a', client, (seconds + 15) * 1000);
  await server;
  if (r.exitCode !== 0) throw new Error(`iperf3: ${r.stderr || r.stdout}`);
}

const one = (samples: Sample[]): number => samples[0]?.value ?? NaN;
const show = (samples: Sample[]): string =>
  samples.map((s) => `${JSON.stringify(s.metric)} ${s.value}`).join('\n');

test('lab Prometheus scrapes every Slicenet process: bytes rise, CNI histograms, QoS drops, peer_up falls', async (t) => {
  t.timeout(900_000);
  const lab = await Lab.up({ name: testLabName('ob'), clusters: 2, nodes: 2 });
  const name = lab.plan.name;
  const frozen: number[] = [];
  const thaw = (): void => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
  };
  t.teardown(async () => {
    thaw();
    await Lab.down(name);
  });
  const { hub, prometheus } = await installSlicenet(lab, {
    progress: (l) => t.log(l),
    prometheus: { intervalSeconds: 2 },
  });
  t.is(prometheus, labPrometheusUrl(lab));
  // The demo's own verdict is the demo test's business; this test waits for the tunnels itself.
  const demo = await runSliceDemo(lab, hub, (l) => t.log(l));
  t.log(`demo slice: ${demo ? 'every path works' : 'some paths were not up in time'}`);

  // Every Slicenet process is a target, and up: the gateways too, found through the API servers.
  let gateways = 0;
  for (const c of ['c1', 'c2'])
    gateways += (await gatewayPods(lab, c, slice)).filter((p) => p.phase === 'Running').length;
  t.true(gateways >= 2, 'a gateway pod per cluster at least');
  const want = {
    'slicenet-controller': 1,
    'slicenet-worker': 2,
    'slicenet-webhook': 2,
    'slicenet-agent': 4,
    'slicenet-netop': 4,
    'slicenet-gateway': gateways,
  };
  let up: Sample[] = [];
  await waitFor(
    async () => {
      up = await promQuery(lab, 'up');
      return Object.entries(want).every(
        ([job, n]) => up.filter((s) => s.metric.job === job && s.value === 1).length === n,
      );
    },
    90_000,
    'every Slicenet target up',
    1000,
  ).catch((err: Error) => t.fail(`${err.message}:\n${show(up)}`));
  t.true(
    up.every((s) => s.value === 1 && s.metric.cluster && s.metric.node),
    `all up, with cluster and node:\n${show(up)}`,
  );

  const peerUp = (from: string, to: string): string =>
    `max(slicenet_gateway_peer_up{slice="${slice}",cluster="${from}",peer_cluster="${to}"})`;
  await waitFor(
    async () =>
      one(await promQuery(lab, peerUp('c1', 'c2'))) === 1 &&
      one(await promQuery(lab, peerUp('c2', 'c1'))) === 1,
    120_000,
    'peer_up c1 ⇄ c2',
    1000,
  );

  // Gateway bytes rise with traffic, on both sides of the tunnel.
  const bytes = async (cluster: string): Promise<number> =>
    one(
      await promQuery(
        lab,
        `sum(slicenet_gateway_bytes_total{slice="${slice}",cluster="${cluster}",direction="tx"})`,
      ),
    );
  const before = { c1: await bytes('c1'), c2: await bytes('c2') };
  const ping = await lab.exec('c1', namespace, 'demo-a', [
    ...['ping', '-c', '20', '-i', '0.2', '-s', '1200', '-W', '5'],
    await sliceIp(lab, 'c2', 'demo-a'),
  ]);
  t.is(ping.exitCode, 0, ping.stdout);
  await waitFor(
    async () => (await bytes('c1')) > before.c1 + 20 * 1200 && (await bytes('c2')) > before.c2 + 20 * 1200,
    30_000,
    'gateway tx bytes to rise by the pings (20 × 1200 bytes each way)',
    1000,
  );
  t.log(`gateway tx bytes c1 ${before.c1} → ${await bytes('c1')}, c2 ${before.c2} → ${await bytes('c2')}`);

  // CNI latency: the ADDs of the demo pods, as histograms per cluster.
  const adds = await promQuery(
    lab,
    'sum by (cluster) (slicenet_cni_request_duration_seconds_count{command="ADD"})',
  );
  t.deepEqual(adds.map((s) => s.metric.cluster).sort(), ['c1', 'c2']);
  t.true(
    adds.every((s) => s.value >= 2),
    show(adds),
  );
  const p99 = await promQuery(
    lab,
    'histogram_quantile(0.99, sum by (le) (slicenet_cni_request_duration_seconds_bucket{command="ADD"}))',
  );
  t.true(one(p99) > 0 && one(p99) < 10, `CNI ADD p99 ${one(p99)} s`);
  t.log(`CNI ADD p99 (whole run) ${one(p99)} s over ${adds.map((s) => s.value).join(' + ')} ADDs`);

  const ipam = await promQuery(lab, `slicenet_ipam_free_addresses{slice="${slice}"}`);
  t.is(ipam.length, 4, `IPAM free addresses on every node:\n${show(ipam)}`);

  // QoS: netop shapes an uplink only when told which (the lab install names none), and then a
  // ceiling for the slice: UDP over it is dropped by the slice's HTB class.
  for (const n of lab.cluster('c1').nodes) {
    await lab.processes.stop(netopProcessId(n.name));
    startLabNetop(lab, n.name, { uplink: 'eth0' });
  }
  for (const n of lab.cluster('c1').nodes) await waitLabNetopReady(lab, n.name, 120_000);
  await lab.kubectl(hub, [
    ...['patch', 'sliceconfig', slice, '-n', SYSTEM_NAMESPACE, '--type', 'merge'],
    ...['-p', JSON.stringify({ spec: { qos: { guaranteedKbps: 1000, ceilingKbps: 5000 } } })],
  ]);
  const qosDrops = `slicenet_qos_drops_total{slice="${slice}",cluster="c1"}`;
  await waitFor(
    async () => (await promQuery(lab, qosDrops)).length > 0,
    60_000,
    'QoS series of the slice',
    1000,
  );
  await udpFlood(lab, 3, 100);
  // Present in both directions; whether the flood overran the class's queue depends on how much
  // a loaded machine lets the gateway send, so the count itself is reported, not required.
  const drops = await promQuery(lab, qosDrops);
  t.deepEqual([...new Set(drops.map((s) => s.metric.direction))].sort(), ['egress', 'ingress']);
  const qosBytes = await promQuery(lab, `sum(slicenet_qos_bytes_total{slice="${slice}",cluster="c1"})`);
  t.log(`QoS in c1 after 3 s of UDP at 100 Mbit/s over a 5 Mbit/s ceiling: ${one(qosBytes)} bytes`);
  t.log(`QoS drops in c1:\n${show(drops)}`);
  const policy = await promQuery(lab, `slicenet_policy_drops_total{slice="${slice}"}`);
  t.log(`policy drop series: ${policy.length}`);

  // peer_up: c2's gateways die (frozen, as on a hung node) while c1 keeps sending to c2.
  await waitFor(async () => one(await promQuery(lab, peerUp('c1', 'c2'))) === 1, 60_000, 'c1 → c2 up', 1000);
  for (const p of await gatewayPods(lab, 'c2', slice)) {
    const pid = gatewayPid(lab, 'c2', p);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGSTOP');
    frozen.push(pid);
  }
  t.true(frozen.length > 0, "c2's gateways frozen");
  const target = await sliceIp(lab, 'c2', 'demo-a');
  const pinging = lab.exec('c1', namespace, 'demo-a', ['ping', '-i', '0.5', '-w', '90', target], 100_000);
  const started = Date.now();
  await waitFor(
    async () => one(await promQuery(lab, peerUp('c1', 'c2'))) === 0,
    90_000,
    'peer_up c1 → c2 to fall',
    1000,
  );
  t.log(`peer_up c1 → c2 fell to 0 ${((Date.now() - started) / 1000).toFixed(1)} s after the gateways died`);
  const downTargets = await promQuery(lab, 'up{job="slicenet-gateway",cluster="c2"} == 0');
  t.is(downTargets.length, frozen.length, `c2's gateways are down targets:\n${show(downTargets)}`);
  await waitFor(
    async () =>
      (await promQuery(lab, 'ALERTS{alertname="SlicenetPeerDown",cluster="c1",peer_cluster="c2"}')).length >
      0,
    20_000,
    'the SlicenetPeerDown alert (pending or firing)',
    1000,
  );
  await pinging;

  thaw();
  await Lab.down(name);
  t.deepEqual(leftovers(name), NOTHING);
});
