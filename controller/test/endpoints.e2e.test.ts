/**
 * Slice endpoints end to end (SPEC §3.3): a pod's slice0 address in c1, reported by c1's worker,
 * copied by the hub into c2's WorkerSlice and by c2's worker into its Slice, where c2's netop
 * and gateway read it; and gone again when the pod is deleted.
 */
import anyTest, { type TestFn } from 'ava';
import type { Lab } from '../../lab/lab.ts';
import { waitFor } from '../../lib/wait.ts';
import type { Endpoint } from '../api/types.ts';
import { apply, NS, readSlice, sliceNic, slicePod, upSliceLab } from './slice-lab.ts';

const test = anyTest as TestFn<{ lab: Lab }>;

test.before(async (t) => {
  t.timeout(600_000);
  t.context = { lab: await upSliceLab('ep') };
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
});

/** c1's endpoints as c2 sees them. */
async function peerEndpoints(lab: Lab): Promise<Endpoint[]> {
  const s = await readSlice(lab, 'c2');
  return s?.spec.peers?.find((p) => p.cluster === 'c1')?.endpoints ?? [];
}

test.serial("a pod's slice address in c1 reaches c2's Slice, and leaves when the pod goes", async (t) => {
  t.timeout(300_000);
  const { lab } = t.context;
  await apply(lab, 'c1', slicePod(lab, 'c1', 'web', { labels: { app: 'web' } }));
  const nic = await sliceNic(lab, 'c1', 'web');
  const seen = Date.now();

  await waitFor(
    async () => ((await readSlice(lab, 'c1'))?.status?.endpoints ?? []).some((e) => e.ip === nic.ip),
    30_000,
    `${nic.ip} in c1's Slice.status.endpoints`,
  );
  await waitFor(
    async () => (await peerEndpoints(lab)).some((e) => e.ip === nic.ip),
    30_000,
    `${nic.ip} in c2's Slice.spec.peers[c1].endpoints`,
  );
  t.log(`slice0 in network-status → c2's peer list: ${Date.now() - seen} ms`);
  const ep = (await peerEndpoints(lab)).find((e) => e.ip === nic.ip);
  t.like(ep, { ip: nic.ip, mac: nic.mac.toLowerCase(), namespace: NS, pod: 'web' });
  t.is(ep?.labels?.app, 'web');
  t.is(ep?.labels?.['slicenet.dev/slice'], 'demo', 'the webhook labelled the pod');
  const hub = JSON.parse(
    await lab.kubectl('c1', ['get', 'workerslice', '-n', 'slicenet-cluster-c1', 'demo', '-o', 'json']),
  ) as { status?: { endpoints?: Endpoint[] } };
  t.deepEqual(
    hub.status?.endpoints?.map((e) => e.ip),
    [nic.ip],
    "c1's WorkerSlice.status",
  );

  const deleted = Date.now();
  await lab.kubectl('c1', ['delete', 'pod', '-n', NS, 'web', '--wait=false']);
  await waitFor(
    async () => !(await peerEndpoints(lab)).some((e) => e.ip === nic.ip),
    30_000,
    `${nic.ip} gone from c2's peer list`,
  );
  t.log(`pod delete → gone from c2's peer list: ${Date.now() - deleted} ms`);
  t.deepEqual((await readSlice(lab, 'c1'))?.status?.endpoints ?? [], []);
});
