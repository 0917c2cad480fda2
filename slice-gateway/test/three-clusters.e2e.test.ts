/**
 * Issue 5, acceptance 2, on the whole product: three lab clusters with Slicenet installed as an
 * operator would (lab/slicenet.ts), one slice across all three, one pod per cluster. Every
 * ordered pair of pods pings over slice0 through the slice gateways' full mesh, and a broadcast
 * sent in one cluster reaches each other cluster's pod exactly once per packet: gateways never
 * pass a peer's frame on to another peer, so the mesh cannot loop it.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { API_VERSION } from '../../controller/api/types.ts';
import { pingFromPod, sleeperPod, waitSliceIp } from '../../lab/demo.ts';
import { Lab } from '../../lab/lab.ts';
import { installSlicenet } from '../../lab/slicenet.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { waitFor } from '../../lib/wait.ts';

const SLICE = 'tri';
const NS = 'tri';
const SUBNET = '10.93.0.0/16';
const BROADCAST = '10.93.255.255';
const BROADCASTS = 5;

interface Pod {
  cluster: string;
  name: string;
  ip: string;
}

const ctx: { lab?: Lab; pods: Pod[] } = { pods: [] };

test.before(async (t) => {
  t.timeout(900_000);
  const lab = await Lab.up({ name: testLabName('g3'), clusters: 3, nodes: 1 });
  ctx.lab = lab;
  await installSlicenet(lab, { gatewayNodes: 1 });
  const clusters = lab.plan.clusters.map((c) => c.name);
  await lab.kubectl(
    clusters[0]!,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: API_VERSION,
      kind: 'SliceConfig',
      metadata: { name: SLICE, namespace: SYSTEM_NAMESPACE },
      spec: { subnet: SUBNET, clusters },
    }),
  );
  for (const c of lab.plan.clusters) {
    await lab.kubectl(c.name, ['create', 'namespace', NS]);
    await lab.kubectl(c.name, ['label', 'namespace', NS, `${SLICE_LABEL}=${SLICE}`]);
    await waitFor(
      async () =>
        (await lab.kubectl(c.name, ['get', 'net-attach-def', '-n', NS, '-o', 'name'])).includes(SLICE),
      120_000,
      `the slice NAD in ${c.name}`,
    );
    await lab.kubectl(c.name, ['apply', '-f', '-'], JSON.stringify(sleeperPod(NS, 'p', c.nodes[0]!.name)));
  }
  ctx.pods = await Promise.all(
    clusters.map(async (cluster) => ({
      cluster,
      name: 'p',
      ip: await waitSliceIp(lab, cluster, NS, 'p', 180_000),
    })),
  );
});

test.after.always(async () => {
  await ctx.lab?.down();
});

test.serial('three clusters in one slice: every pod reaches every other over slice0', async (t) => {
  t.timeout(300_000);
  const lab = ctx.lab!;
  // Each path waits for its gateways' handshakes; once one is up the others follow quickly.
  for (const from of ctx.pods)
    for (const to of ctx.pods.filter((p) => p !== from)) {
      let ok = false;
      for (const deadline = Date.now() + 120_000; !ok && Date.now() < deadline;) {
        ok = (await pingFromPod(lab, from.cluster, NS, from.name, to.ip)).ok;
        if (!ok) await sleep(1000);
      }
      t.true(ok, `${from.cluster} (${from.ip}) → ${to.cluster} (${to.ip})`);
    }
});

test.serial(
  'a broadcast in one cluster reaches each other cluster once per packet, never looping',
  async (t) => {
    t.timeout(120_000);
    const lab = ctx.lab!;
    const [sender, ...receivers] = ctx.pods;
    // Captures start first and outlive the sender by a few seconds, long enough to see a loop.
    const captures = receivers.map((r) =>
      lab.exec(
        r.cluster,
        NS,
        r.name,
        [
          'timeout',
          '8',
          'tcpdump',
          '-i',
          'slice0',
          '-n',
          '-l',
          '--immediate-mode',
          `icmp and dst host ${BROADCAST}`,
        ],
        20_000,
      ),
    );
    await sleep(1500);
    await lab.exec(sender!.cluster, NS, sender!.name, [
      'ping',
      '-b',
      '-c',
      String(BROADCASTS),
      '-i',
      '0.2',
      '-W',
      '1',
      BROADCAST,
    ]);
    const seen = await Promise.all(captures);
    for (const [i, r] of seen.entries()) {
      const echoes = r.stdout.split('\n').filter((l) => l.includes('ICMP echo request'));
      t.is(
        echoes.length,
        BROADCASTS,
        `${receivers[i]!.cluster} saw ${echoes.length} of ${BROADCASTS}:\n${r.stdout}`,
      );
    }
  },
);
