// TAI64N timestamps for initiations (as in WireGuard): the responder keeps the greatest one
// it accepted from each peer and drops any initiation that is not newer, so a captured
// initiation cannot be replayed to make the responder drop its current session.
import { TIMESTAMP_LEN } from './constants.ts';

const TAI64_BASE = (1n << 62n) + 10n;

export function tai64n(wallMs: number): Buffer {
  const b = Buffer.alloc(TIMESTAMP_LEN);
  const ms = Math.max(0, Math.floor(wallMs));
  b.writeBigUInt64BE(TAI64_BASE + BigInt(Math.floor(ms / 1000)), 0);
  b.writeUInt32BE((ms % 1000) * 1_000_000, 8);
  return b;
}

/**
 * Returns a timestamp strictly after `previous`: two initiations in one millisecond (a rekey
 * right after a retry) must not look like a replay to the responder.
 */
export function nextTimestamp(wallMs: number, previous: Buffer | undefined): Buffer {
  const ts = tai64n(wallMs);
  if (!previous || Buffer.compare(ts, previous) > 0) return ts;
  const bumped = Buffer.from(previous);
  const nanos = bumped.readUInt32BE(8) + 1;
  if (nanos < 1_000_000_000) bumped.writeUInt32BE(nanos, 8);
  else {
    bumped.writeBigUInt64BE(bumped.readBigUInt64BE(0) + 1n, 0);
    bumped.writeUInt32BE(0, 8);
  }
  return bumped;
}

export function isNewer(candidate: Uint8Array, previous: Buffer | undefined): boolean {
  return !previous || Buffer.compare(candidate, previous) > 0;
}
