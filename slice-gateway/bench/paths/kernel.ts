/**
 * The two kernel-only references: (d) VXLAN, unencrypted, bridging the pod segment between the
 * gateways — the ceiling for an overlay — and (e) the pod segment bridged straight onto the WAN
 * link, no tunnel at all — the physical limit of this machine.
 */
import { ipBatch } from '../../../lib/net/ip.ts';
import { POD_MTU, type Topology } from '../topology.ts';
import type { BenchPath } from './path.ts';

const gateways = (t: Topology): [string, string, string][] => [
  [t.ns.gwA, t.wanIp.a, t.wanIp.b],
  [t.ns.gwB, t.wanIp.b, t.wanIp.a],
];

export const vxlan: BenchPath = {
  name: 'vxlan',
  tag: 'vx',
  label: 'kernel VXLAN, unencrypted',
  layout: 'l2',
  async up(t) {
    for (const [ns, local, remote] of gateways(t))
      await ipBatch(
        [
          `link add vx0 mtu ${POD_MTU} type vxlan id 42 local ${local} remote ${remote} dstport 4789 dev wan0`,
          'link set vx0 master br0 up',
        ],
        { netnsPath: `/run/netns/${ns}` },
      );
  },
};

export const veth: BenchPath = {
  name: 'veth',
  tag: 've',
  label: 'bridged veth, no tunnel',
  layout: 'l2',
  async up(t) {
    for (const [ns] of gateways(t))
      await ipBatch(['addr flush dev wan0', 'link set wan0 master br0 up'], {
        netnsPath: `/run/netns/${ns}`,
      });
  },
};
