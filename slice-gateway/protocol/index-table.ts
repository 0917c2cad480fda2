// Receiver indices: the random 32-bit numbers that let a type-2, -3 or -4 datagram find its
// handshake or session in O(1) without revealing which peer it belongs to. Random rather
// than sequential so an observer cannot count sessions or guess live indices.
import type { Keypair } from './keypair.ts';
import type { Peer } from './peer.ts';
import type { Random } from './cookie.ts';

export type IndexEntry =
  { kind: 'handshake'; peer: Peer } | { kind: 'keypair'; peer: Peer; keypair: Keypair };

export class IndexTable {
  private readonly entries = new Map<number, IndexEntry>();

  constructor(private readonly random: Random) {}

  allocate(entry: IndexEntry): number {
    for (;;) {
      const index = this.random(4).readUInt32LE(0);
      if (!this.entries.has(index)) {
        this.entries.set(index, entry);
        return index;
      }
    }
  }

  get(index: number): IndexEntry | undefined {
    return this.entries.get(index);
  }

  set(index: number, entry: IndexEntry): void {
    this.entries.set(index, entry);
  }

  delete(index: number): void {
    this.entries.delete(index);
  }

  get size(): number {
    return this.entries.size;
  }
}
