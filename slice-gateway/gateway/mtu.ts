/**
 * The MTU rule (SPEC §6): every frame crosses the WAN whole, in one datagram, and no datagram
 * relies on IP fragmentation, which real firewalls and NATs drop. So the slice MTU must leave
 * room for the tunnel: frame (MTU + 14) + transport header 16 + tag 16 + UDP/IPv4 28 ≤ WAN MTU.
 * With a 1500-byte WAN that is a slice MTU of at most 1426. A frame over MTU + 14 (a
 * misconfigured pod, a VLAN tag) is dropped and counted as `oversize`, never fragmented.
 */
import { SlicenetError } from '../../lib/errors.ts';
import { TRANSPORT_OVERHEAD } from '../../native/index.ts';

export const ETHER_HEADER = 14;
export const UDP_IPV4_HEADERS = 28;

/** The largest slice MTU a WAN MTU allows. */
export function maxSliceMtu(wanMtu: number): number {
  return wanMtu - UDP_IPV4_HEADERS - TRANSPORT_OVERHEAD - ETHER_HEADER;
}

/** Throws SlicenetError `BAD_MTU` naming the setting unless the pair obeys the rule. */
export function checkMtu(sliceMtu: number, wanMtu: number): void {
  if (!Number.isInteger(wanMtu) || wanMtu < 576 || wanMtu > 65535)
    throw new SlicenetError('BAD_MTU', `wanMtu ${wanMtu}: must be an integer from 576 to 65535`);
  const max = maxSliceMtu(wanMtu);
  if (!Number.isInteger(sliceMtu) || sliceMtu < 68 || sliceMtu > max)
    throw new SlicenetError(
      'BAD_MTU',
      `sliceMtu ${sliceMtu}: must be an integer from 68 to ${max} (wanMtu ${wanMtu} minus 74 bytes of ` +
        'Ethernet, tunnel and UDP/IP headers), so no datagram is fragmented',
    );
}
