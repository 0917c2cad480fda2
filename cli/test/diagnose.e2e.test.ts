/**
 * Issue 7, acceptance 2: `kubectl slice diagnose` on a real two-cluster lab with Slicenet
 * installed and the demo slice running. Healthy, every check passes; then three faults, each
 * undone afterwards: a link on the path narrower than the slice MTU (the
 * bridge port of a slice pod's slice0, lowered), a stopped gateway (its process frozen with
 * SIGSTOP, found by PID through the lab's pod records, so neither the kubelet nor the
 * Deployment replaces it), and a stopped agent (its lab process stopped by its record). Each is
 * named, with a cause and a fix. The gateway and the agent are stopped together: different checks
 * see them, and it saves a minute. `kubectl slice bench` is measured on the healthy slice too.
 */
import test, { type ExecutionContext } from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lab } from '../../lab/lab.ts';
import { installSlicenet } from '../../lab/slicenet.ts';
import { runSliceDemo, SLICE_DEMO } from '../../lab/slice-demo.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { run } from '../../lib/exec.ts';
import { gatewayPid, gatewayPods } from '../../slice-gateway/lab.ts';
import { agentProcessId, startLabAgent, waitLabAgentReady } from '../../worker-agent/lab.ts';
import type { BenchResult } from '../diagnose/bench.ts';
import type { Diagnosis } from '../diagnose/diagnose.ts';
import type { Finding } from '../diagnose/types.ts';
import { cli } from './run.ts';

const { slice, namespace } = SLICE_DEMO;

async function diagnose(lab: Lab, checks?: string): Promise<{ code: number; d: Diagnosis; stderr: string }> {
  const args = ['diagnose', slice, '-o', 'json', '--kubeconfig', lab.paths.kubeconfig, '--context', 'c1'];
  const r = await cli(checks ? [...args, '--checks', checks] : args);
  let d: Diagnosis;
  try {
    d = JSON.parse(r.stdout) as Diagnosis;
  } catch {
    throw new Error(`diagnose printed no report (exit ${r.code}): ${r.stderr}`);
  }
  return { code: r.code, d, stderr: r.stderr };
}

const show = (fs: Finding[]): string =>
  fs
    .map((f) => `${f.verdict} ${f.check} ${f.scope}: ${f.detail}${f.cause ? ` | ${f.cause} | ${f.fix}` : ''}`)
    .join('\n');

/** Runs diagnose until `found` picks findings out of its report (faults take a while to show). */
async function until(
  t: ExecutionContext,
  lab: Lab,
  checks: string,
  found: (fs: Finding[]) => Finding[],
  timeoutMs: number,
): Promise<{ code: number; hits: Finding[]; all: Finding[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { code, d } = await diagnose(lab, checks);
    const hits = found(d.findings);
    if (hits.length > 0 || Date.now() > deadline) {
      t.log(`diagnose --checks ${checks} (exit ${code}):\n${show(d.findings)}`);
      return { code, hits, all: d.findings };
    }
    await sleep(3000);
  }
}

/** The node-side end of a pod's slice0 (a port of the slice bridge) and the node's netns. */
async function sliceBridgePort(
  lab: Lab,
  cluster: string,
  pod: string,
): Promise<{ netns: string; dev: string }> {
  const node = (
    await lab.kubectl(cluster, ['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.spec.nodeName}'])
  ).trim();
  const podNs = await lab.podNetns(cluster, namespace, pod);
  const peerIndex = /slice0@if(\d+)/.exec(
    await run(['ip', '-n', podNs, '-o', 'link', 'show', 'slice0']),
  )?.[1];
  const netns = lab.node(node).node.netns;
  const line = (await run(['ip', '-n', netns, '-o', 'link']))
    .split('\n')
    .find((l) => l.startsWith(`${peerIndex}:`));
  const dev = /^\d+: ([^:@]+)/.exec(line ?? '')?.[1];
  if (!dev)
    throw new Error(`no bridge port for ${cluster}/${pod} slice0 (peer index ${peerIndex}) in ${netns}`);
  return { netns, dev };
}

test('diagnose: a healthy slice passes every check; a narrow link, a stopped gateway and a stopped agent are each named with the fix', async (t) => {
  // About 6 minutes on a quiet 2-core machine; with the machine shared, lab up alone took 6.
  t.timeout(1_500_000);
  const started = Date.now();
  const name = testLabName('dg');
  t.teardown(() => Lab.down(name));
  const lab = await Lab.up({ name, clusters: 2, nodes: 2 });
  const { hub } = await installSlicenet(lab);
  t.true(await runSliceDemo(lab, hub, (l) => t.log(l)), 'the demo slice works');
  t.log(`lab, Slicenet and demo slice up in ${Math.round((Date.now() - started) / 1000)} s`);

  // Healthy: every check, every cluster, ok.
  const healthy = await until(
    t,
    lab,
    'agents,gateways,mtu,policy,blocks,clock',
    (fs) => (fs.every((f) => f.verdict === 'ok') ? fs : []),
    // On a loaded machine the gateways' 2 s Lease can change hands right after the demo.
    240_000,
  );
  t.is(healthy.code, 0);
  t.deepEqual(
    [...new Set(healthy.all.map((f) => f.check))],
    ['agents', 'gateways', 'mtu', 'policy', 'blocks', 'clock'],
  );
  t.true(
    healthy.all.every((f) => f.verdict === 'ok'),
    show(healthy.all),
  );

  const b = await cli([
    'bench',
    slice,
    '-o',
    'json',
    '--duration',
    '3',
    '--kubeconfig',
    lab.paths.kubeconfig,
  ]);
  t.is(b.code, 0, b.stderr);
  const bench = JSON.parse(b.stdout) as BenchResult;
  t.log(
    `bench ${bench.from.pod} → ${bench.to.pod}: ping avg ${bench.ping.rttMs?.avg} ms, ` +
      `${((bench.iperf3?.bitsPerSecond ?? 0) / 1e9).toFixed(2)} Gbit/s`,
  );
  t.true((bench.iperf3?.bitsPerSecond ?? 0) > 0);

  // 1. A narrow link: the bridge port of c2/demo-a's slice0 at 1300 bytes, under the slice MTU.
  const port = await sliceBridgePort(lab, 'c2', 'demo-a');
  const mtuWas = /mtu (\d+)/.exec(await run(['ip', '-n', port.netns, 'link', 'show', port.dev]))![1]!;
  await run(['ip', '-n', port.netns, 'link', 'set', port.dev, 'mtu', '1300']);
  try {
    const r = await until(t, lab, 'mtu', (fs) => fs.filter((f) => f.verdict === 'fail'), 30_000);
    t.is(r.code, 1);
    const f = r.hits.find((x) => /demo-a/.test(x.detail) && /largest DF packet/.test(x.detail));
    t.truthy(f, 'the narrow path is found');
    t.regex(f!.detail, /largest DF packet that crosses is 1[23]\d\d bytes/);
    t.regex(f!.cause!, /carries less than the slice MTU/);
    t.regex(f!.fix!, /raise it/);
  } finally {
    await run(['ip', '-n', port.netns, 'link', 'set', port.dev, 'mtu', mtuWas]);
  }

  // 2 and 3 at once (they are seen by different checks): a stopped gateway, c2's, frozen, and a
  // stopped agent, c2-n2's. c2's gateway status goes stale at 35 s; c1 loses the tunnel.
  const [gwPod] = (await gatewayPods(lab, 'c2', slice)).filter((p) => p.phase === 'Running');
  const pid = gwPod && gatewayPid(lab, 'c2', gwPod);
  t.truthy(pid, 'the c2 gateway process');
  const node = lab.cluster('c2').nodes[1]!.name;
  process.kill(pid!, 'SIGSTOP');
  await lab.processes.stop(agentProcessId(node));
  try {
    const r = await until(
      t,
      lab,
      'agents,gateways',
      (fs) => fs.filter((f) => f.verdict === 'fail' && f.scope === 'c2' && /last reported/.test(f.detail)),
      150_000,
    );
    t.is(r.code, 1);
    t.is(r.hits.length, 1, 'the stopped gateway is named');
    t.regex(r.hits[0]!.detail, new RegExp(gwPod!.name));
    t.regex(r.hits[0]!.fix!, new RegExp(`delete pod ${gwPod!.name}`));
    const peer = r.all.find((f) => f.scope === 'c1 → c2');
    t.is(peer?.verdict, 'fail');
    t.regex(peer!.cause!, /c2's gateway is not working/);
    const agents = r.all.filter((f) => f.check === 'agents' && f.verdict === 'fail');
    t.deepEqual(
      agents.map((f) => f.scope),
      [`c2/${node}`],
    );
    t.regex(agents[0]!.cause!, /agent is stopped on/);
    t.regex(agents[0]!.fix!, new RegExp(`spec.nodeName=${node}`));
  } finally {
    process.kill(pid!, 'SIGCONT');
    startLabAgent(lab, node);
    await waitLabAgentReady(lab, node);
  }
  const back = await until(
    t,
    lab,
    'agents,gateways',
    (fs) => (fs.every((f) => f.verdict === 'ok') ? fs : []),
    150_000,
  );
  t.is(back.code, 0, 'all well again once the gateway and the agent run again');
  t.log(`whole test ${Math.round((Date.now() - started) / 1000)} s`);
});
