/**
 * From the runs to the bench's summary: medians per path, the ratios of each Slicenet cipher to
 * every other path, each path's share of the VXLAN ceiling, the WAN datagram checks, and the
 * goals of issue 5 with `met` computed. Pure, so the unit tests pin it down.
 */
import { atLeast, atMost, median, round, type Goal } from '../../lib/bench.ts';
import type { PathName } from './config.ts';
import type { WanCounts } from './wan-check.ts';

/** One value per run. */
export interface PathRuns {
  tcp1: number[];
  tcp4: number[];
  rttP50: number[];
  rttP99: number[];
}

export interface WanCheck {
  /** nftables counters over every measured run of the path. */
  counters: WanCounts;
  /** The capture of one extra run. */
  capture: WanCounts & { droppedByKernel: number };
}

export type Results = Partial<Record<PathName, PathRuns>>;

export interface Summary {
  figures: Record<string, number>;
  goals: Goal[];
}

const SLICENET: PathName[] = ['slicenet-chacha20-poly1305', 'slicenet-aes-256-gcm'];
const cipherOf = (p: PathName): string => p.replace(/^slicenet-/, '');

interface Medians {
  tcp1: number;
  tcp4: number;
  rttP50: number;
  rttP99: number;
}

export function medians(r: PathRuns): Medians {
  return { tcp1: median(r.tcp1), tcp4: median(r.tcp4), rttP50: median(r.rttP50), rttP99: median(r.rttP99) };
}

export function summarize(results: Results, wan: Partial<Record<PathName, WanCheck>>): Summary {
  const figures: Record<string, number> = {};
  const goals: Goal[] = [];
  const m = new Map<PathName, Medians>();
  for (const [name, runs] of Object.entries(results) as [PathName, PathRuns][]) {
    const x = medians(runs);
    m.set(name, x);
    figures[`${name}.tcp1_gbps`] = round(x.tcp1, 3);
    figures[`${name}.tcp4_gbps`] = round(x.tcp4, 3);
    figures[`${name}.rtt_p50_ms`] = round(x.rttP50, 3);
    figures[`${name}.rtt_p99_ms`] = round(x.rttP99, 3);
  }
  const vxlan = m.get('vxlan');
  if (vxlan)
    for (const [name, x] of m) {
      if (name === 'vxlan') continue;
      figures[`${name}.share_of_vxlan_tcp1`] = round(x.tcp1 / vxlan.tcp1, 3);
      figures[`${name}.share_of_vxlan_tcp4`] = round(x.tcp4 / vxlan.tcp4, 3);
    }
  let wanBad = 0;
  let wanChecked = false;
  for (const s of SLICENET) {
    const a = m.get(s);
    if (!a) continue;
    for (const [other, o] of m) {
      if (SLICENET.includes(other)) continue;
      figures[`ratio.${s}/${other}.tcp1`] = round(a.tcp1 / o.tcp1, 2);
      figures[`ratio.${s}/${other}.tcp4`] = round(a.tcp4 / o.tcp4, 2);
      figures[`ratio.${s}/${other}.rtt_p99`] = round(a.rttP99 / o.rttP99, 2);
    }
    const kube = m.get('openvpn-kubeslice');
    const gcm = m.get('openvpn-gcm');
    const c = cipherOf(s);
    if (kube)
      goals.push(atLeast(`single-stream vs openvpn-kubeslice [${c}]`, round(a.tcp1 / kube.tcp1, 2), 4));
    if (gcm) goals.push(atLeast(`single-stream vs openvpn-gcm [${c}]`, round(a.tcp1 / gcm.tcp1, 2), 2));
    if (kube) goals.push(atMost(`rtt p99 vs openvpn-kubeslice [${c}]`, round(a.rttP99 / kube.rttP99, 2), 1));
    const w = wan[s];
    if (w) {
      wanChecked = true;
      for (const [kind, n] of [
        ['wan', w.counters],
        ['capture', w.capture],
      ] as const) {
        figures[`${s}.${kind}_packets`] = n.packets;
        figures[`${s}.${kind}_over_1500`] = n.over;
        figures[`${s}.${kind}_fragments`] = n.fragments;
        wanBad += n.over + n.fragments;
      }
      figures[`${s}.capture_dropped_by_kernel`] = w.capture.droppedByKernel;
    }
  }
  if (wanChecked) goals.push(atMost('wan datagrams over 1500', wanBad, 0));
  return { figures, goals };
}
