/**
 * DSCP of the gateways' outer packets, set from each slice's class in a table of netop's own
 * (`inet slicenet-qos`), at postrouting before the uplink's qdisc: one rule pair per slice,
 * matching the gateway's UDP source port. Replaced whole, in one transaction, when it changes.
 */
import { DSCP_CODEPOINTS, type SliceQos } from './model.ts';

export const DSCP_TABLE = 'slicenet-qos';

export function renderDscp(device: string, slices: SliceQos[]): string {
  const rules = [...slices]
    .sort((a, b) => a.port - b.port)
    .flatMap((s) => {
      const cp = DSCP_CODEPOINTS[s.dscp];
      return [
        `    oifname "${device}" udp sport ${s.port} ip dscp set ${cp}`,
        `    oifname "${device}" udp sport ${s.port} ip6 dscp set ${cp}`,
      ];
    });
  return [
    `add table inet ${DSCP_TABLE}`,
    `delete table inet ${DSCP_TABLE}`,
    `table inet ${DSCP_TABLE} {`,
    `  chain postrouting {`,
    `    type filter hook postrouting priority mangle; policy accept;`,
    ...rules,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
