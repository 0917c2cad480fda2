// The receive-side replay window, RFC 6479's bitmap ring as in wireguard-go's `replay`
// package. 128 blocks of 32 bits; one block is always being filled, so the window behind the
// greatest counter seen is (128 - 1) * 32 = 4064 packets, twice the 2048 the SPEC asks for.
// Moving the window forward clears at most 128 blocks, so every check is O(1) and
// allocation-free. Counters are u64, kept as bigint.
//
// The window's state is one 520-byte array (`state`: the greatest counter as a u64 at byte 0,
// then the 128 blocks) so that the gateway's native fast path (native/src/replay.h) can
// check and update the very same window with the same algorithm: one window per session,
// whichever path a datagram takes.
import { REJECT_AFTER_MESSAGES } from './constants.ts';

const BLOCK_BITS = 32n;
const BLOCK_SHIFT = 5n;
const RING_BLOCKS = 128;
const RING_MASK = BigInt(RING_BLOCKS - 1);
export const REPLAY_WINDOW = (RING_BLOCKS - 1) * Number(BLOCK_BITS);

/** Bytes of a window's state: the greatest counter seen (u64, host order), then the blocks. */
export const REPLAY_STATE_BYTES = 8 + RING_BLOCKS * 4;

export class ReplayWindow {
  /** The whole state, shared with the native fast path: change it only through accept(). */
  readonly state = new Uint8Array(REPLAY_STATE_BYTES);
  private readonly lastCell = new BigUint64Array(this.state.buffer, 0, 1);
  private readonly ring = new Uint32Array(this.state.buffer, 8, RING_BLOCKS);

  private get last(): bigint {
    return this.lastCell[0]!;
  }

  /** True if `counter` could be accepted: a cheap test before paying for the AEAD. */
  mayAccept(counter: bigint): boolean {
    if (counter >= REJECT_AFTER_MESSAGES) return false;
    if (counter > this.last) return true;
    if (this.last - counter > BigInt(REPLAY_WINDOW)) return false;
    return (this.word(counter) & this.bit(counter)) === 0;
  }

  /** Records `counter`; call only after the packet authenticated. False if it is a replay. */
  accept(counter: bigint): boolean {
    if (!this.mayAccept(counter)) return false;
    if (counter > this.last) {
      const current = this.last >> BLOCK_SHIFT;
      const target = counter >> BLOCK_SHIFT;
      const steps = target - current > BigInt(RING_BLOCKS) ? RING_BLOCKS : Number(target - current);
      for (let i = 1; i <= steps; i++) this.ring[Number((current + BigInt(i)) & RING_MASK)] = 0;
      this.lastCell[0] = counter;
    }
    const slot = Number((counter >> BLOCK_SHIFT) & RING_MASK);
    this.ring[slot] = (this.ring[slot] ?? 0) | this.bit(counter);
    return true;
  }

  private word(counter: bigint): number {
    return this.ring[Number((counter >> BLOCK_SHIFT) & RING_MASK)] ?? 0;
  }

  private bit(counter: bigint): number {
    return (1 << Number(counter & (BLOCK_BITS - 1n))) >>> 0;
  }
}
