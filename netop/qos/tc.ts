/**
 * Reading HTB state back from `tc`. iproute2 6.1 (this project's Debian) prints qdiscs and
 * filters as JSON with `-j` but HTB classes only as text, so classes are parsed from text, and
 * from JSON where a newer iproute2 gives it (`-j` output starts with "[").
 */
import { run } from '../../lib/exec.ts';
import type { NetnsOption } from '../../lib/net/ip.ts';

export interface HtbClass {
  minor: number;
  parentMinor?: number;
  prio: number;
  /** bit/s */
  rate: number;
  ceil: number;
  bytes: number;
  packets: number;
  drops: number;
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** "50Mbit", "1500Kbit", "999bit", "1.5Gbit" → bit/s. */
export function parseRate(text: string): number {
  const m = /^([\d.]+)([kKmMgGtT]?)(bit|bps)$/.exec(text);
  if (!m) throw new Error(`tc printed a rate "${text}" this parser does not know`);
  const bits = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return m[3] === 'bps' ? bits * 8 : bits;
}

const minorOf = (handle: string): number => parseInt(handle.split(':')[1] || '0', 16);

/** Parses `tc [-s] class show` text: one block per class, stats on the following lines. */
export function parseClassText(text: string): HtbClass[] {
  const out: HtbClass[] = [];
  for (const block of text.split(/\n(?=class )/)) {
    const head = /^class htb (\S+) (?:parent (\S+)|root)/.exec(block);
    if (!head) continue;
    const word = (k: string): string | undefined => new RegExp(`\\b${k} (\\S+)`).exec(block)?.[1];
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(block);
    out.push({
      minor: minorOf(head[1]!),
      ...(head[2] ? { parentMinor: minorOf(head[2]) } : {}),
      prio: Number(word('prio') ?? 0),
      rate: parseRate(word('rate') ?? '0bit'),
      ceil: parseRate(word('ceil') ?? '0bit'),
      bytes: Number(sent?.[1] ?? 0),
      packets: Number(sent?.[2] ?? 0),
      drops: Number(sent?.[3] ?? 0),
    });
  }
  return out;
}

interface JsonClass {
  class?: string;
  handle: string;
  parent?: string;
  prio?: number;
  rate?: number;
  ceil?: number;
  stats?: { bytes?: number; packets?: number; drops?: number };
}

/** Parses `tc -j [-s] class show` of an iproute2 that prints HTB as JSON (rates in bytes/s). */
export function parseClassJson(json: string): HtbClass[] {
  return (JSON.parse(json) as JsonClass[])
    .filter((c) => c.class === 'htb')
    .map((c) => ({
      minor: minorOf(c.handle),
      ...(c.parent ? { parentMinor: minorOf(c.parent) } : {}),
      prio: c.prio ?? 0,
      rate: (c.rate ?? 0) * 8,
      ceil: (c.ceil ?? 0) * 8,
      bytes: c.stats?.bytes ?? 0,
      packets: c.stats?.packets ?? 0,
      drops: c.stats?.drops ?? 0,
    }));
}

export async function readClasses(dev: string, ns: NetnsOption = {}): Promise<HtbClass[]> {
  const out = await run(['tc', '-j', '-s', 'class', 'show', 'dev', dev], { netnsPath: ns.netnsPath });
  return out.trimStart().startsWith('[') ? parseClassJson(out) : parseClassText(out);
}

export interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
  parent?: string;
  /** bfifo/pfifo: the queue's limit (bytes, packets). */
  options?: { limit?: number };
}

export async function readQdiscs(dev: string, ns: NetnsOption = {}): Promise<TcQdisc[]> {
  const out = await run(['tc', '-j', 'qdisc', 'show', 'dev', dev], { netnsPath: ns.netnsPath });
  return out.trim() ? (JSON.parse(out) as TcQdisc[]) : [];
}

/** The preferences of the u32 filters attached to the root HTB (1:), each with its target minor. */
export async function readFilters(dev: string, ns: NetnsOption = {}): Promise<Map<number, number>> {
  const out = await run(['tc', '-j', 'filter', 'show', 'dev', dev, 'parent', '1:'], {
    netnsPath: ns.netnsPath,
  });
  const prefs = new Map<number, number>();
  // Duplicate "match" keys make some objects lossy under JSON.parse; pref and flowid survive.
  for (const f of (out.trim() ? JSON.parse(out) : []) as { pref: number; options?: { flowid?: string } }[])
    if (f.options?.flowid) prefs.set(f.pref, minorOf(f.options.flowid));
    else if (!prefs.has(f.pref)) prefs.set(f.pref, 0);
  return prefs;
}
