/**
 * Builds and removes the lab's network: one WAN namespace holding a bridge per cluster LAN
 * and routing between them, and one namespace per control plane and per node, each plugged
 * into its cluster's bridge with a veth whose inner end is `eth0`. Nothing is made in the
 * root namespace, so a lab cannot disturb the machine's own network, and several labs with
 * different names can run side by side.
 *
 * Removal does not trust any record: it finds the lab's namespaces by name prefix and the
 * processes inside them by the inode of their network namespace, so it also cleans up after
 * a run that crashed half-way.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { run, runRaw } from '../lib/exec.ts';
import type { ClusterPlan, LabPlan } from './plan.ts';
import { stopRecord, startTimeOf } from './process.ts';

const ip = (netns: string, ...args: string[]): Promise<string> => run(['ip', '-n', netns, ...args]);

async function addNetns(name: string, forwarding: boolean): Promise<void> {
  await run(['ip', 'netns', 'add', name]);
  await ip(name, 'link', 'set', 'lo', 'up');
  await run(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${forwarding ? 1 : 0}`], { netns: name });
}

/** Puts a new namespace on the cluster's LAN at `addr`, default route via the WAN. */
async function plugIntoLan(
  wan: string,
  cluster: ClusterPlan,
  host: { netns: string; ip: string; wanLink: string },
): Promise<void> {
  await addNetns(host.netns, true);
  await ip(wan, 'link', 'add', host.wanLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns);
  await ip(wan, 'link', 'set', host.wanLink, 'master', cluster.bridge, 'up');
  await ip(host.netns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
  await ip(host.netns, 'link', 'set', 'eth0', 'up');
  await ip(host.netns, 'route', 'add', 'default', 'via', cluster.lanGateway);
}

export async function buildTopology(plan: LabPlan): Promise<void> {
  const wan = plan.wanNetns;
  await addNetns(wan, true);
  for (const c of plan.clusters) {
    await ip(wan, 'link', 'add', c.bridge, 'type', 'bridge');
    await ip(wan, 'addr', 'add', `${c.lanGateway}/24`, 'dev', c.bridge);
    await ip(wan, 'link', 'set', c.bridge, 'up');
  }
  await Promise.all(
    plan.clusters.flatMap((c) => [c.controlPlane, ...c.nodes].map((h) => plugIntoLan(wan, c, h))),
  );
}

/** The lab's namespaces as they exist now, whatever any record says. */
export function labNamespaces(labName: string): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`${labName}-`));
}

/** Every process whose network namespace is one of `netnsNames`, found through /proc. */
export function processesIn(netnsNames: string[]): number[] {
  const inodes = new Set<string>();
  for (const n of netnsNames) {
    try {
      inodes.add(`net:[${statSync(`/run/netns/${n}`).ino}]`);
    } catch {
      // removed meanwhile
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Stops every process inside the lab's namespaces, then deletes the namespaces. */
export async function removeTopology(labName: string): Promise<void> {
  const namespaces = labNamespaces(labName);
  const pids = processesIn(namespaces).filter((p) => p !== process.pid);
  await Promise.all(
    pids.flatMap((pid) => {
      const startTime = startTimeOf(pid);
      return startTime === undefined ? [] : [stopRecord({ pid, startTime }, 3000)];
    }),
  );
  // Pod namespaces first, WAN last, so no veth peer is left dangling in between.
  const order = (n: string): number => (n.endsWith('-wan') ? 2 : /-c\w+-(cp|n\d+)$/.test(n) ? 1 : 0);
  for (const n of namespaces.sort((a, b) => order(a) - order(b))) {
    const r = await runRaw(['ip', 'netns', 'del', n]);
    if (r.exitCode !== 0 && labNamespaces(labName).includes(n)) {
      throw new Error(`could not delete network namespace ${n}: ${r.stderr.trim()}`);
    }
  }
}
