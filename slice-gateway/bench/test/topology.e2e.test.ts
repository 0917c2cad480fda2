/**
 * The bench's own plumbing in real namespaces, on the cheap kernel paths: a topology comes up
 * and carries pings and an iperf3 run, the WAN counters count, and every namespace and process
 * goes away — also those of a run whose process died without cleaning up.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTable } from '../../../lab/process.ts';
import { run } from '../../../lib/exec.ts';
import { iperf, pingRtts, startIperfServer, waitReachable } from '../measure.ts';
import { veth, vxlan } from '../paths/kernel.ts';
import { buildTopology, labName, removeLab, removeStaleLabs } from '../topology.ts';
import { armWanCounters, captureWan, readWanCounters } from '../wan-check.ts';

const root = process.getuid?.() === 0;
const gone = (ns: string): boolean => !existsSync(`/run/netns/${ns}`);

test.serial(
  'a VXLAN path carries pings and iperf3, counted and captured on the WAN, and is removed whole',
  async (t) => {
    if (!root) return t.pass('needs root');
    t.timeout(60_000);
    const lab = labName();
    const dir = mkdtempSync(join(tmpdir(), 'sn-gb-test-'));
    const procs = new ProcessTable(dir);
    t.teardown(async () => {
      await procs.stopAll(2000);
      await removeLab(lab);
      rmSync(dir, { recursive: true, force: true });
    });
    const topo = await buildTopology(lab, 'tv', vxlan.layout);
    await vxlan.up(topo, { procs, dir, repo: '' });
    await startIperfServer(topo, procs, 'iperf3');
    await waitReachable(topo, 'vxlan');
    await armWanCounters(topo);
    const rtts = await pingRtts(topo, 20);
    t.true(rtts.length >= 18);
    t.true((await iperf(topo, 1, 1)) > 0.05, 'some Gbit/s');
    // A 3000-byte ping between the gateways crosses the WAN as IP fragments, both ways.
    const capture = await captureWan(topo, procs, dir, 'tcpdump', () =>
      run(['ping', '-c', '2', '-s', '3000', topo.wanIp.b], { netns: topo.ns.gwA }),
    );
    t.like(capture, { over: 0, droppedByKernel: 0 });
    t.true(capture.fragments >= 8 && capture.packets >= capture.fragments, JSON.stringify(capture));
    const wan = await readWanCounters(topo);
    t.true(wan.packets > 1000, `${wan.packets} packets counted`);
    t.true(wan.fragments >= 8, `${wan.fragments} fragments counted`);
    // VXLAN keeps tunnel segmentation offload: its TSO super-packets cross the veth whole, which
    // the counter sees (Slicenet's UDP GSO is cut before the link: topology.ts).
    t.true(wan.over > 0, `${wan.over} packets over 1500 counted`);
    const pid = procs.get('iperf3')!.pid;
    await procs.stopAll(2000);
    await removeLab(lab);
    t.true(Object.values(topo.ns).every(gone));
    t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  },
);

test.serial('namespaces of a dead bench process are removed by the next run', async (t) => {
  if (!root) return t.pass('needs root');
  t.timeout(30_000);
  // A PID that is certainly dead: a child that has exited and been reaped.
  const dead = Number(await run(['sh', '-c', 'echo $$']));
  const lab = labName(dead);
  t.teardown(() => removeLab(lab));
  const topo = await buildTopology(lab, 'tz', veth.layout);
  t.true(existsSync(`/run/netns/${topo.ns.gwA}`));
  const removed = await removeStaleLabs();
  t.true(removed.includes(lab));
  t.true(Object.values(topo.ns).every(gone));
});
