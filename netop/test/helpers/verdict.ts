/** What the rendered table decides for one packet (no flow state), evaluated on a Ruleset: the unit tests' oracle. */
import { parseIp } from '../../../lib/net/cidr.ts';
import type { Box } from '../../policy/boxes.ts';
import type { Group, Ruleset } from '../../policy/compile.ts';

const inBox = (b: Box, addr: number, proto: number, port: number): boolean =>
  b.addr[0] <= addr &&
  addr <= b.addr[1] &&
  b.proto[0] <= proto &&
  proto <= b.proto[1] &&
  b.port[0] <= port &&
  port <= b.port[1];

function allowed(groups: Group[], subject: string, peer: string, proto: number, port: number): boolean {
  const g = groups.find((x) => x.members.includes(subject));
  return !g || g.allow.some((b) => inBox(b, parseIp(peer), proto, port));
}

export function verdict(r: Ruleset, src: string, dst: string, proto: number, port = 0): 'accept' | 'drop' {
  if (r.members && (!r.members.includes(src) || !r.members.includes(dst))) return 'drop';
  return allowed(r.egress, src, dst, proto, port) && allowed(r.ingress, dst, src, proto, port)
    ? 'accept'
    : 'drop';
}
