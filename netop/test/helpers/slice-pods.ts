/**
 * Reachability between slice pods of a lab, by name (`c1/web`): ping, and TCP / UDP through
 * probe.py, which every test pod runs as its server. Cases are checked "eventually": netop acts
 * on informer events, so a case's rows are probed again until all match or the deadline passes;
 * each row is then asserted as last seen.
 */
import type { ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../../lib/wait.ts';
import type { Netns } from './netns.ts';
import type { SlicePod } from './slice-lab.ts';

export const PROBE = fileURLToPath(new URL('./probe.py', import.meta.url));
export const TCP_PORTS = [80, 5432, 8080];
export const UDP_PORTS = [53, 5353];
/** The command of every test pod: serves the TCP and UDP ports above. */
export const SERVE = ['python3', PROBE, 'serve', TCP_PORTS.join(','), UDP_PORTS.join(',')];

export type Proto = 'icmp' | 'tcp' | 'udp';
export type Row<K extends string> = [from: K, to: K, proto: Proto, port: number, ok: boolean];

export async function reaches(from: SlicePod, to: SlicePod, proto: Proto, port: number): Promise<boolean> {
  const argv =
    proto === 'icmp' ? ['ping', '-n', '-c1', '-W1', to.ip!] : ['python3', PROBE, proto, to.ip!, String(port)];
  return (await from.netns.execRaw(argv)).exitCode === 0;
}

/**
 * Probes the rows until every one is as expected or `timeoutMs` passes, then asserts each;
 * returns how long it took to match (or the timeout).
 */
export async function expectEventually<K extends string>(
  t: ExecutionContext<unknown>,
  pods: Record<K, SlicePod>,
  label: string,
  rows: Row<K>[],
  timeoutMs = 30_000,
): Promise<number> {
  const t0 = performance.now();
  let seen: boolean[] = [];
  for (;;) {
    seen = [];
    for (const [from, to, proto, port] of rows) seen.push(await reaches(pods[from], pods[to], proto, port));
    if (seen.every((s, i) => s === rows[i]![4]) || performance.now() - t0 > timeoutMs) break;
    await sleep(500);
  }
  const ms = performance.now() - t0;
  rows.forEach((r, i) => t.is(seen[i], r[4], `${label}: ${r.slice(0, 4).join(' ')}`));
  return ms;
}

/** Turns IPv6 on for the pod's slice0 (the agent turns it off) and returns its link-local address. */
export async function enableIpv6(ns: Netns): Promise<string> {
  await ns.exec(['sysctl', '-qw', 'net.ipv6.conf.slice0.disable_ipv6=0']);
  let addr = '';
  await waitFor(
    async () => {
      const out = await ns.exec(['ip', '-j', '-6', 'addr', 'show', 'dev', 'slice0', 'scope', 'link']);
      const info = (JSON.parse(out) as { addr_info?: { local: string; tentative?: boolean }[] }[])[0];
      addr = info?.addr_info?.find((a) => !a.tentative)?.local ?? '';
      return addr !== '';
    },
    10_000,
    `a link-local IPv6 address on ${ns.name} slice0`,
  );
  return addr;
}

/**
 * Whether any of three echo requests to `linkLocal` is answered: one ping alone can be lost to
 * neighbour discovery still settling on a loaded machine (a CI run saw it), and a policy that
 * drops IPv6 drops all three.
 */
export async function reaches6(from: Netns, linkLocal: string): Promise<boolean> {
  const argv = ['ping', '-6', '-n', '-c3', '-i0.3', '-W1', `${linkLocal}%slice0`];
  return (await from.execRaw(argv)).exitCode === 0;
}
