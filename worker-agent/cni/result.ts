/**
 * The ADD result in the shape of each spec version. Multus builds the pod's
 * `network-status` from it: the interface with `sandbox` set is the pod's, and each `ips`
 * entry points at it by index. 0.3.x/0.4.0 carry `"version"` in `ips`; 1.1.0 adds `mtu` to
 * interfaces.
 */
import type { AttachResult } from '../api.ts';
import { hasIpVersionField, type CniVersion } from './versions.ts';

interface CniInterface {
  name: string;
  mac: string;
  sandbox?: string;
  mtu?: number;
}

export function addResult(cniVersion: CniVersion, netns: string, r: AttachResult): Record<string, unknown> {
  const withMtu = cniVersion === '1.1.0' && r.mtu > 0 ? { mtu: r.mtu } : {};
  // The pod's interface first, so `ips[].interface` is 0 whether or not the host end is known.
  const interfaces: CniInterface[] = [{ name: r.ifname, mac: r.mac, sandbox: netns, ...withMtu }];
  if (r.hostIfname) interfaces.push({ name: r.hostIfname, mac: r.hostMac, ...withMtu });
  const ip = {
    ...(hasIpVersionField(cniVersion) ? { version: r.address.includes(':') ? '6' : '4' } : {}),
    address: r.address,
    interface: 0,
  };
  return {
    cniVersion,
    interfaces,
    ips: [ip],
    routes: r.routes.map((route) => ({ dst: route.dst, ...(route.gw ? { gw: route.gw } : {}) })),
    dns: {},
  };
}

/** CHECK's test of the runtime's `prevResult`: it must list the pod's interface in this netns. */
export function listsInterface(prev: Record<string, unknown>, ifname: string, netns: string): boolean {
  const interfaces = Array.isArray(prev.interfaces) ? (prev.interfaces as Partial<CniInterface>[]) : [];
  return interfaces.some((i) => i?.name === ifname && i.sandbox === netns);
}
