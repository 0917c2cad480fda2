/**
 * Micro benchmark: seal + open of 1400-byte frames, natively in batches of 64 on a reused
 * OpenSSL context, against node:crypto with a new cipher object per call (what a pure-TS data
 * path does). Informative only: the gateway's own benchmark is the measure that counts.
 * Run: node --import tsx native/bench.ts. Three runs per case; the median is reported, and
 * the last line printed is one JSON object with every figure.
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { AeadKey, batchOf, newBatch, newOpened, openBatch, sealBatch, type AeadAlg } from './index.ts';

const FRAME = 1400;
const BATCH = 64;
const RUN_MS = 700;

/** Calls `round` (which does `per` seal+open pairs) for RUN_MS and returns pairs per second. */
function measure(round: () => void, per: number): number {
  for (let i = 0; i < 50; i++) round(); // warm-up: JIT, caches
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed: number;
  do {
    for (let i = 0; i < 20; i++) round();
    n += 20 * per;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  } while (elapsed < RUN_MS);
  return Math.round(n / (elapsed / 1000));
}

function nativeRound(alg: AeadAlg): () => void {
  const key = new AeadKey(alg, randomBytes(32));
  const frames = batchOf(Array.from({ length: BATCH }, () => randomBytes(FRAME)));
  const sealed = newBatch(BATCH, BATCH * (FRAME + 32));
  const opened = newOpened(BATCH, BATCH * FRAME);
  let counter = 0n;
  return () => {
    sealBatch(key, 1, counter, frames, sealed);
    counter += BigInt(BATCH);
    if (openBatch(key, sealed, opened) !== BATCH) throw new Error('native open failed');
  };
}

function nodeRound(alg: AeadAlg): () => void {
  // node's typings split the two AEADs into separate overloads; at run time both take these options.
  const a = alg as CipherGCMTypes;
  const key = randomBytes(32);
  const frame = randomBytes(FRAME);
  const nonce = Buffer.alloc(12);
  let counter = 0n;
  return () => {
    nonce.writeBigUInt64LE(counter++, 4);
    const c = createCipheriv(a, key, nonce, { authTagLength: 16 });
    const ct = Buffer.concat([c.update(frame), c.final()]);
    const d = createDecipheriv(a, key, nonce, { authTagLength: 16 });
    d.setAuthTag(c.getAuthTag());
    d.update(ct);
    d.final();
  };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const result: Record<string, unknown> = {
  frameBytes: FRAME,
  batch: BATCH,
  runs: 3,
  unit: 'seal+open pairs/s',
};
for (const alg of ['chacha20-poly1305', 'aes-256-gcm'] as const) {
  const native: number[] = [];
  const node: number[] = [];
  for (let run = 0; run < 3; run++) {
    native.push(measure(nativeRound(alg), BATCH));
    node.push(measure(nodeRound(alg), 1));
  }
  const n = median(native);
  const c = median(node);
  console.log(`${alg}: native ${n} pairs/s, node:crypto ${c} pairs/s (${(n / c).toFixed(1)}x)`);
  result[alg] = { native: n, nodeCrypto: c, speedup: Number((n / c).toFixed(2)) };
}
console.log(JSON.stringify(result));
