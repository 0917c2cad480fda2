/**
 * Node IPAM (SPEC §5). A node leases blocks of its cluster's share of a slice subnet by
 * creating `SliceIPBlock` objects, whose names are derived from the block, so the API
 * server's name uniqueness is the lock between nodes; it hands out addresses from its own
 * blocks through the address files of store.ts, the lock between concurrent requests and
 * across restarts; and it deletes a block once no address in it is in use.
 *
 * All changes to one slice run one at a time (KeyedSerializer), so a block is
 * never freed while an allocation from it is under way.
 */
import { KeyedSerializer } from '../../lib/serial.ts';
import { AgentError } from '../errors.ts';
import { blockOf, freeBlock, nextAddress, nodeBlocks, usableAddresses } from './blocks.ts';
import type { AddressStore, Owner } from './store.ts';

/** The SliceIPBlocks of the cluster, as the API server has them. */
export interface BlockLeases {
  /** Every block of `slice` that some node holds: cidr → node. */
  held(slice: string): Map<string, string>;
  /** Creates the lease; false if the block is already leased (by anyone). */
  create(slice: string, cidr: string, node: string): Promise<boolean>;
  /** Deletes the lease; one already gone is success. */
  delete(slice: string, cidr: string): Promise<void>;
}

export interface SliceRange {
  slice: string;
  /** The whole slice subnet. */
  subnet: string;
  /** This cluster's share of it (Slice.spec.block). */
  share: string;
}

const MAX_LEASE_TRIES = 16;

export class NodeIpam {
  private readonly chains = new KeyedSerializer();
  /** Blocks this process leased that the informer may not show yet. */
  private readonly leased = new Map<string, Set<string>>();

  constructor(
    private readonly store: AddressStore,
    private readonly leases: BlockLeases,
    readonly node: string,
    readonly blockPrefix: number,
  ) {}

  /** An address for `owner`; the one it has already if this is a retry. */
  allocate(r: SliceRange, owner: Owner): Promise<string> {
    return this.serial(r.slice, async () => {
      const mine = this.store.addressesOf(r.slice, owner);
      if (mine[0]) return mine[0];
      // Blocks another node leased first, before our informer heard of it.
      const lost = new Set<string>();
      for (let tries = 0; tries < MAX_LEASE_TRIES; tries++) {
        const candidates = this.ownBlocks(r).flatMap((b) => usableAddresses(b, r.subnet));
        const used = new Set(this.store.addresses(r.slice).keys());
        const ip = nextAddress(candidates, used, this.store.last(r.slice));
        if (ip) {
          if (this.store.claim(r.slice, ip, owner)) return ip;
          continue;
        }
        const taken = new Set([...this.leases.held(r.slice).keys(), ...this.leasedSet(r.slice), ...lost]);
        const block = freeBlock(r.share, this.blockPrefix, taken);
        if (!block)
          throw new AgentError(
            'POOL_EXHAUSTED',
            `no free address in slice ${r.slice}: every block of this cluster's share ${r.share} is leased and full; ` +
              'grow the slice subnet or lower maxClusters',
          );
        if (await this.leases.create(r.slice, block, this.node)) this.leasedSet(r.slice).add(block);
        else lost.add(block);
      }
      throw new AgentError(
        'NOT_READY',
        `could not lease a block of ${r.share} for slice ${r.slice}: try again`,
      );
    });
  }

  /** Frees what `owner` holds in `slice`; then frees blocks left empty. Idempotent. */
  release(slice: string, owner: Owner): Promise<void> {
    return this.serial(slice, async () => {
      for (const ip of this.store.addressesOf(slice, owner)) this.store.release(slice, ip, owner);
      await this.freeEmptyBlocks(slice);
    });
  }

  /** Frees one address whoever holds it (a sweep of attachments that are gone). */
  releaseAddress(slice: string, ip: string): Promise<void> {
    return this.serial(slice, async () => {
      this.store.release(slice, ip);
      await this.freeEmptyBlocks(slice);
    });
  }

  /** Deletes this node's leases of `slice` that hold no address in use. */
  sweep(slice: string): Promise<void> {
    return this.serial(slice, () => this.freeEmptyBlocks(slice));
  }

  /** Addresses still free to this node: in its blocks, and in blocks nobody leased yet. */
  freeAddresses(r: SliceRange): number {
    const used = this.store.addresses(r.slice);
    const own = this.ownBlocks(r);
    let free = own.flatMap((b) => usableAddresses(b, r.subnet)).filter((a) => !used.has(a)).length;
    const held = this.leases.held(r.slice);
    for (const b of nodeBlocks(r.share, this.blockPrefix))
      if (!held.has(b) && !own.includes(b)) free += usableAddresses(b, r.subnet).length;
    return free;
  }

  /** Addresses in use in `slice` on this node. */
  inUse(slice: string): Map<string, Owner> {
    return this.store.addresses(slice);
  }

  private ownBlocks(r: SliceRange): string[] {
    const share = new Set(nodeBlocks(r.share, this.blockPrefix));
    const own = new Set(this.leasedSet(r.slice));
    for (const [cidr, node] of this.leases.held(r.slice)) if (node === this.node) own.add(cidr);
    // A block of an old share (the slice was re-carved) is not handed out from any more.
    return [...own].filter((b) => share.has(b)).sort();
  }

  private async freeEmptyBlocks(slice: string): Promise<void> {
    const used = [...this.store.addresses(slice).keys()];
    const own = new Set(this.leasedSet(slice));
    for (const [cidr, node] of this.leases.held(slice)) if (node === this.node) own.add(cidr);
    for (const b of own) {
      if (used.some((ip) => blockOf(ip, [b]))) continue;
      await this.leases.delete(slice, b);
      this.leasedSet(slice).delete(b);
    }
    if (used.length === 0) this.store.dropSlice(slice);
  }

  private leasedSet(slice: string): Set<string> {
    let s = this.leased.get(slice);
    if (!s) this.leased.set(slice, (s = new Set()));
    return s;
  }

  private serial<T>(slice: string, fn: () => Promise<T>): Promise<T> {
    return this.chains.run(slice, fn);
  }
}
