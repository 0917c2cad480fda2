/**
 * iproute2, for the links and addresses Slicenet changes off the per-pod path (the gateway's
 * TAP, QoS, checks, benchmarks): a batch (`ip -batch -`) makes several changes for the price of
 * one process start (~3 ms). The node agent's per-pod and per-slice changes go through netlink
 * instead (rtnetlink.ts, rtbridge.ts, native/netlink.ts): no process per pod.
 * Commands run in the caller's network namespace or, with `netnsPath`, in another one.
 */
import { CommandError, run, runRaw } from '../exec.ts';

export interface NetnsOption {
  /** A network namespace path, e.g. a pod's CNI_NETNS. */
  netnsPath?: string;
}

/** Runs `ip` commands (one per line, without the leading `ip`) in one process; stops at the first error. */
export async function ipBatch(lines: string[], opts: NetnsOption = {}): Promise<void> {
  if (lines.length === 0) return;
  await run(['ip', '-batch', '-'], { input: lines.join('\n') + '\n', netnsPath: opts.netnsPath });
}

/** `ip -j <args>` parsed; [] when the object does not exist. */
export async function ipJson<T>(args: string[], opts: NetnsOption = {}): Promise<T[]> {
  const r = await runRaw(['ip', '-j', ...args], { netnsPath: opts.netnsPath });
  if (r.exitCode !== 0) {
    if (isGone(r.stderr)) return [];
    throw new CommandError(['ip', '-j', ...args], r.exitCode, r.stderr);
  }
  return r.stdout.trim() ? (JSON.parse(r.stdout) as T[]) : [];
}

/** Deletes a link; one already gone is success. */
export async function deleteLink(name: string, opts: NetnsOption = {}): Promise<void> {
  const r = await runRaw(['ip', 'link', 'del', 'dev', name], { netnsPath: opts.netnsPath });
  if (r.exitCode !== 0 && !isGone(r.stderr))
    throw new CommandError(['ip', 'link', 'del', name], r.exitCode, r.stderr);
}

/** Whether iproute2's message says the device (or namespace) is not there. */
export function isGone(stderr: string): boolean {
  return /Cannot find device|does not exist|No such device|No such file or directory|Cannot open network namespace/.test(
    stderr,
  );
}

export interface IpLink {
  ifname: string;
  ifindex: number;
  mtu: number;
  address?: string;
  master?: string;
  operstate?: string;
  flags?: string[];
}

export interface IpAddr extends IpLink {
  addr_info: { family: string; local: string; prefixlen: number }[];
}
