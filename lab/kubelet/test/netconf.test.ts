import test from 'ava';
import type { V1Node } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeletConfig } from '../config.ts';
import { multusConf, netconfPaths, primaryConflist, writeNetconf } from '../netconf.ts';
import { nodeStatus } from '../node.ts';
import { wantedRoutes } from '../routes.ts';

const cfg = (stateDir: string): KubeletConfig => ({
  nodeName: 'c1-n1',
  nodeIp: '198.18.1.11',
  labName: 'lab',
  kubeconfig: '/k',
  multusKubeconfig: '/m.kubeconfig',
  cniBinDir: '/cni',
  stateDir,
});

test('CNI config: Multus thin plugin delegating to a per-node bridge + host-local', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-netconf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeNetconf(cfg(dir), '10.244.1.0/24');
  const paths = netconfPaths(dir);
  const multus = JSON.parse(readFileSync(paths.multus, 'utf8')) as Record<string, unknown>;
  t.deepEqual(multus, multusConf(cfg(dir)));
  t.like(multus, {
    cniVersion: '1.0.0',
    name: 'multus-cni-network',
    type: 'multus',
    kubeconfig: '/m.kubeconfig',
    clusterNetwork: join(dir, 'net.d/primary'),
    cniDir: join(dir, 'multus'),
    binDir: '/cni',
    logFile: join(dir, 'multus.log'),
  });
  const primary = JSON.parse(readFileSync(paths.primary, 'utf8')) as Record<string, unknown>;
  t.deepEqual(primary, primaryConflist(cfg(dir), '10.244.1.0/24'));
  t.like(primary, {
    name: 'lab-pod-network',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: '10.244.1.0/24' }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(dir, 'cni-ipam'),
        },
      },
    ],
  });
});

const node = (name: string, cidr?: string, ip?: string): V1Node => ({
  metadata: { name },
  spec: cidr ? { podCIDR: cidr } : {},
  status: ip
    ? {
        addresses: [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: ip },
        ],
      }
    : {},
});

test('routes: every other node with a podCIDR and an InternalIP', (t) => {
  const nodes = [
    node('c1-n1', '10.244.0.0/24', '198.18.1.11'),
    node('c1-n2', '10.244.1.0/24', '198.18.1.12'),
    node('c1-n3', undefined, '198.18.1.13'),
    node('c1-n4', '10.244.3.0/24'),
  ];
  t.deepEqual([...wantedRoutes(nodes, 'c1-n1')], [['10.244.1.0/24', '198.18.1.12']]);
});

test('node status: NotReady until the network is, transition time kept while unchanged', (t) => {
  const c = cfg('/s');
  const t0 = new Date('2026-01-01T00:00:00Z');
  const before = nodeStatus(c, false, undefined, t0);
  t.like(before.conditions[0], { type: 'Ready', status: 'False', reason: 'NetworkPluginNotReady' });
  t.deepEqual(before.addresses, [
    { type: 'InternalIP', address: '198.18.1.11' },
    { type: 'Hostname', address: 'c1-n1' },
  ]);
  t.deepEqual(before.capacity, { cpu: '2', memory: '8Gi', pods: '110' });
  t.like(before.nodeInfo, {
    kubeletVersion: 'v1.36.3-lab',
    containerRuntimeVersion: 'slicenet-lab://0.1',
    operatingSystem: 'linux',
  });
  const asNode: V1Node = { status: JSON.parse(JSON.stringify(before)) as never };
  const t1 = new Date('2026-01-01T00:01:00Z');
  const after = nodeStatus(c, true, asNode, t1);
  t.like(after.conditions[0], {
    status: 'True',
    reason: 'KubeletReady',
    lastTransitionTime: '2026-01-01T00:01:00Z',
  });
  t.like(after.conditions[1], {
    type: 'MemoryPressure',
    status: 'False',
    lastTransitionTime: '2026-01-01T00:00:00Z',
    lastHeartbeatTime: '2026-01-01T00:01:00Z',
  });
});
