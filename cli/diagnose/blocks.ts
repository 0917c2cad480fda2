/**
 * Block usage: each member cluster's share of the slice subnet is split into blocks that nodes
 * lease as SliceIPBlocks (SPEC §5). Reported: blocks leased of those the share holds, and
 * addresses in use (the slice pods' slice0 addresses, or the blocks' own allocated counts when
 * larger) of what the leased blocks and the whole share hold. A share nearly used up means new
 * pods will soon fail to get an address; a block leased by a node that is gone is wasted.
 */
import { contains, mustParseCidr, parseIp } from '../../lib/net/cidr.ts';
import type { SliceIPBlock } from '../../controller/api/types.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'blocks';
export const WARN_AT = 0.8;
export const FAIL_AT = 0.95;

export interface BlockView {
  cluster: string;
  /** The cluster's share of the slice subnet (Slice.spec.block). */
  share: string;
  blocks: SliceIPBlock[];
  /** slice0 addresses of the cluster's slice pods. */
  addresses: string[];
  nodes: string[];
}

const size = (cidr: string): number => 2 ** (32 - mustParseCidr(cidr).prefix);

export function judgeBlocks(v: BlockView): Finding[] {
  const share = mustParseCidr(v.share);
  const shareSize = size(v.share);
  const blockSize = v.blocks[0] ? size(v.blocks[0].spec.cidr) : undefined;
  const possible = blockSize ? shareSize / blockSize : undefined;
  const inBlock = (ip: string, cidr: string): boolean =>
    contains(mustParseCidr(cidr), { address: parseIp(ip), prefix: 32 });
  const used = v.blocks.reduce(
    (sum, b) =>
      sum + Math.max(b.status?.allocated ?? 0, v.addresses.filter((a) => inBlock(a, b.spec.cidr)).length),
    0,
  );
  const leasedSize = v.blocks.reduce((s, b) => s + size(b.spec.cidr), 0);
  const findings: Finding[] = [];
  const detail =
    `${v.blocks.length}${possible ? `/${possible}` : ''} blocks of ${v.share} leased, ` +
    `${used}/${leasedSize} addresses in them used (${used}/${shareSize} of the share)`;
  const outside = v.blocks.filter((b) => !contains(share, mustParseCidr(b.spec.cidr)));
  if (outside.length)
    findings.push(
      notOk(
        'fail',
        CHECK,
        v.cluster,
        `blocks outside the cluster's share ${v.share}: ${outside.map((b) => b.spec.cidr).join(', ')}`,
        "leases left from an earlier share of this cluster, or another cluster's",
        `delete them if no pod uses them: kubectl --context ${v.cluster} delete sliceipblock ${outside.map((b) => b.metadata.name).join(' ')}`,
      ),
    );
  const orphans = v.blocks.filter((b) => !v.nodes.includes(b.spec.node));
  if (orphans.length)
    findings.push(
      notOk(
        'warn',
        CHECK,
        v.cluster,
        `blocks leased by nodes that no longer exist: ${orphans.map((b) => `${b.spec.cidr} (${b.spec.node})`).join(', ')}`,
        'a node was removed without its agent releasing its blocks',
        `kubectl --context ${v.cluster} delete sliceipblock ${orphans.map((b) => b.metadata.name).join(' ')}`,
      ),
    );
  const fraction = used / shareSize;
  const full = possible !== undefined && v.blocks.length >= possible;
  if (fraction >= FAIL_AT || (full && used >= leasedSize * FAIL_AT))
    findings.push(
      notOk(
        'fail',
        CHECK,
        v.cluster,
        detail,
        `the cluster's share of the slice subnet is used up: new slice pods in ${v.cluster} get no address`,
        'delete unused slice pods, or make a slice with a larger subnet or fewer maxClusters (both are immutable)',
      ),
    );
  else if (fraction >= WARN_AT || full)
    findings.push(
      notOk(
        'warn',
        CHECK,
        v.cluster,
        detail,
        `the cluster's share is ${Math.round(fraction * 100)} % used${full ? ' and every block is leased' : ''}`,
        'plan for a larger subnet before new pods fail to get an address',
      ),
    );
  if (findings.length === 0) findings.push(ok(CHECK, v.cluster, detail));
  return findings;
}
