/** ping (iputils) from inside a pod, and what its summary says. */
import type { PodExec } from './podexec.ts';
import type { SlicePod } from './slicepods.ts';

/** IPv4 + ICMP headers: a DF ping of payload `mtu - 28` fills a packet of exactly `mtu` bytes. */
export const ICMP_OVERHEAD = 28;

export interface PingResult {
  sent: number;
  received: number;
  rttMs?: { min: number; avg: number; max: number };
  /** ping's own complaint, e.g. "message too long, mtu=1300" (local link smaller than the packet). */
  error?: string;
}

export function parsePing(stdout: string, stderr = ''): PingResult {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(stdout);
  const complaint =
    /(message too long[^\n]*|Network is unreachable|Destination Host Unreachable|Frag needed[^\n]*)/i.exec(
      stderr + '\n' + stdout,
    );
  return {
    sent: counts ? Number(counts[1]) : 0,
    received: counts ? Number(counts[2]) : 0,
    ...(rtt ? { rttMs: { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) } } : {}),
    ...(complaint ? { error: complaint[1]!.trim() } : {}),
  };
}

export interface PingOptions {
  count: number;
  /** ICMP payload bytes; the packet is 28 more. */
  size?: number;
  /** Set "don't fragment" (ping -M do). */
  df?: boolean;
  intervalS?: number;
}

export async function ping(exec: PodExec, from: SlicePod, to: string, o: PingOptions): Promise<PingResult> {
  const argv = ['ping', '-n', '-c', String(o.count), '-i', String(o.intervalS ?? 0.2), '-W', '1'];
  if (o.size !== undefined) argv.push('-s', String(o.size));
  if (o.df) argv.push('-M', 'do');
  argv.push(to);
  const r = await exec.run(from, argv, (o.count * (o.intervalS ?? 0.2) + 3) * 1000);
  return parsePing(r.stdout, r.stderr);
}
