/**
 * Drop counters by reason. The datapath takes anything with `inc(reason, n)`: the plain
 * `DropCounts` below (tests, debugging) or a prom-client Counter labelled `reason` through
 * `promDrops`, which the gateway process registers as slicenet_gateway_drops_total (SPEC §8).
 */
import type { Counter } from 'prom-client';
import type { DropReason } from '../protocol/index.ts';

/** Reasons the datapath adds to the protocol's own (protocol/drop-reason.ts). */
export const DATAPATH_DROPS = {
  oversize: 'a frame longer than the slice MTU + 14: never fragmented, never sent',
  runt: 'a frame shorter than an Ethernet header',
  local: 'a frame from the TAP whose destination is on the local side: the bridge delivers it',
  no_endpoint: 'a peer with keys but no known address',
  udp_full: 'the socket send buffer was full (EAGAIN): the rest of the batch was dropped',
  udp_refused: 'the kernel refused a datagram (EMSGSIZE, ENETUNREACH, …)',
  tap_full: 'the TAP queue was full (EAGAIN): the rest of the batch was dropped',
  tap_refused: 'the kernel refused a frame written to the TAP',
  no_session: 'frames queued for a handshake that gave up after 90 s',
  truncated: 'a datagram longer than the receive slot (64 KiB with GRO): dropped by the reader',
  gso_malformed:
    'a TAP frame (offloads on) whose virtio_net_hdr or headers contradict its length, or TCPV4 that is not IPv4/TCP',
  gso_unsupported:
    'a TAP frame (offloads on) with a gso_type other than TCPV4: never enabled, so never expected',
} as const;

export type DatapathDrop = keyof typeof DATAPATH_DROPS;
export type Reason = DatapathDrop | DropReason;

export interface DropCounter {
  inc(reason: Reason, n?: number): void;
}

/** Counts in a plain object: `counts.replay` is the number of replays seen. */
export class DropCounts implements DropCounter {
  readonly counts: Partial<Record<Reason, number>> = {};

  inc(reason: Reason, n = 1): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + n;
  }
}

/** Adapts a prom-client Counter with a `reason` label. */
export function promDrops(counter: Counter<'reason'>): DropCounter {
  return { inc: (reason, n = 1) => counter.inc({ reason }, n) };
}
