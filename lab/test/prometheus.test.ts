/**
 * The lab's Prometheus configuration without a lab: which processes become targets with which
 * labels, and the generated prometheus.yml accepted by the real `promtool check config`.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRaw } from '../../lib/exec.ts';
import { planLab } from '../plan.ts';
import { gatewayTargets, processTargets, prometheusConfig, RULES_FILE } from '../prometheus.ts';
import type { ProcessRecord } from '../process.ts';

const plan = planLab({ name: 'ob', clusters: 2, nodes: 2 });

const record = (id: string, netns: string, ...flags: string[]): ProcessRecord => ({
  id,
  pid: 1,
  startTime: '1',
  log: '',
  argv: ['nsenter', `--net=/run/netns/${netns}`, '--', 'node', 'main.ts', ...flags],
});

test('every Slicenet lab process is a target with job, cluster and node; others are not', (t) => {
  const [c1, c2] = plan.clusters;
  const groups = processTargets(plan, [
    record('controller', c1!.nodes[0]!.netns, '--mode', 'hub'),
    record('worker-c2', c2!.nodes[0]!.netns, '--mode', 'worker'),
    record('webhook-c1', c1!.controlPlane.netns, '--probe-port', '8081'),
    record('agent-c1-n2', c1!.nodes[1]!.netns, '--probe-port', '8084'),
    record('netop-c2-n1', c2!.nodes[0]!.netns, '--probe-port', '8086'),
    record('dns-c2', c2!.nodes[1]!.netns, '--probe-port', '8087'),
    record('c1-apiserver', c1!.controlPlane.netns),
    record('agent-test', c1!.nodes[0]!.netns, '--probe-port', '0'),
  ]);
  t.deepEqual(
    groups.map((g) => [g.labels.job, g.targets[0], g.labels.cluster, g.labels.node]),
    [
      ['slicenet-controller', '198.18.1.11:8082', 'c1', 'c1-n1'],
      ['slicenet-worker', '198.18.2.11:8083', 'c2', 'c2-n1'],
      ['slicenet-webhook', '198.18.1.2:8081', 'c1', 'c1-cp'],
      ['slicenet-agent', '198.18.1.12:8084', 'c1', 'c1-n2'],
      ['slicenet-netop', '198.18.2.11:8086', 'c2', 'c2-n1'],
      ['slicenet-dns', '198.18.2.12:8087', 'c2', 'c2-n2'],
    ],
  );
});

test('a running gateway pod is a target at its host address and probes port', (t) => {
  const pod = (name: string, phase: string, hostIP?: string): object => ({
    metadata: { name },
    spec: {
      nodeName: 'c2-n1',
      containers: [
        {
          ports: [
            { name: 'tunnel', containerPort: 51820 },
            { name: 'probes', containerPort: 51820 },
          ],
        },
      ],
    },
    status: { phase, hostIP },
  });
  t.deepEqual(gatewayTargets('c2', [pod('gw-a', 'Running', '198.18.2.11'), pod('gw-b', 'Pending')]), [
    {
      targets: ['198.18.2.11:51820'],
      labels: { job: 'slicenet-gateway', cluster: 'c2', node: 'c2-n1', pod: 'gw-a' },
    },
  ]);
});

test('promtool check config accepts the lab configuration', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'obs-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const targets = join(dir, 'targets.json');
  writeFileSync(targets, '[]');
  const config = prometheusConfig(plan, { targets, rules: RULES_FILE }, { intervalSeconds: 2 });
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, JSON.stringify(config));
  const r = await runRaw(['promtool', 'check', 'config', file]).catch((err: Error) => {
    throw new Error(
      `promtool could not run (${err.message}): run lab/setup.sh, which installs Debian's prometheus`,
    );
  });
  t.is(r.exitCode, 0, r.stdout + r.stderr);
  t.regex(r.stdout + r.stderr, /SUCCESS: 8 rules found/);
});
