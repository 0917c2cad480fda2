// Batched AEAD: interop with node:crypto both ways, the exact wire format, per-item rejection
// of bad datagrams, and argument checking at the boundary.
import test from 'ava';
import { execFileSync } from 'node:child_process';
// node's typings split the two AEADs into separate overloads; at run time both take the same options.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import {
  AeadKey,
  batchOf,
  OPEN_STATUS,
  addonPath,
  itemOf,
  newBatch,
  newOpened,
  openBatch,
  opensslInfo,
  receiverIndexOf,
  sealBatch,
  type AeadAlg,
} from '../index.ts';

const algs: AeadAlg[] = ['chacha20-poly1305', 'aes-256-gcm'];

function nonceOf(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64LE(counter, 4);
  return n;
}

/** A transport message sealed by node:crypto, the reference. */
function referenceSeal(alg: AeadAlg, key: Buffer, receiver: number, counter: bigint, pt: Buffer): Buffer {
  const c = createCipheriv(alg as CipherGCMTypes, key, nonceOf(counter), { authTagLength: 16 });
  const header = Buffer.alloc(16);
  header[0] = 4;
  header.writeUInt32LE(receiver, 4);
  header.writeBigUInt64LE(counter, 8);
  return Buffer.concat([header, c.update(pt), c.final(), c.getAuthTag()]);
}

function referenceOpen(alg: AeadAlg, key: Buffer, dgram: Buffer): Buffer {
  const counter = dgram.readBigUInt64LE(8);
  const d = createDecipheriv(alg as CipherGCMTypes, key, nonceOf(counter), { authTagLength: 16 });
  d.setAuthTag(dgram.subarray(dgram.length - 16));
  return Buffer.concat([d.update(dgram.subarray(16, dgram.length - 16)), d.final()]);
}

const sizes = [0, 1, 15, 16, 17, 64, 1400, 1500, 9000, 65475];

test('the addon takes OpenSSL from the Node binary and links no libcrypto', (t) => {
  const info = opensslInfo();
  t.true(info.version.includes(process.versions.openssl), info.version);
  const needed = execFileSync('readelf', ['-d', addonPath], { encoding: 'utf8' });
  t.notRegex(needed, /libcrypto|libssl/);
});

for (const alg of algs) {
  test(`${alg}: native seal opens with node:crypto, byte for byte the reference`, (t) => {
    const key = randomBytes(32);
    const k = new AeadKey(alg, key);
    const frames = sizes.map((n) => randomBytes(n));
    const first = 0xfffffffffff0n;
    const out = newBatch(
      frames.length,
      frames.reduce((s, f) => s + f.length + 32, 0),
    );
    const end = sealBatch(k, 0xdeadbeef, first, batchOf(frames), out);
    t.is(out.count, frames.length);
    t.is(
      end,
      frames.reduce((s, f) => s + f.length + 32, 0),
    );
    frames.forEach((f, i) => {
      const d = itemOf(out, i);
      t.is(d.length, f.length + 32);
      t.deepEqual(d, referenceSeal(alg, key, 0xdeadbeef, first + BigInt(i), f));
      t.deepEqual(referenceOpen(alg, key, d), f);
      t.is(receiverIndexOf(out, i), 0xdeadbeef);
    });
  });

  test(`${alg}: node:crypto seal opens natively with counters`, (t) => {
    const key = randomBytes(32);
    const k = new AeadKey(alg, key);
    const frames = sizes.map((n) => randomBytes(n));
    const counters = frames.map((_, i) => (i % 2 ? 2n ** 64n - 1n - BigInt(i) : BigInt(i * 1000)));
    const dgrams = batchOf(frames.map((f, i) => referenceSeal(alg, key, 7, counters[i]!, f)));
    const out = newOpened(frames.length, 100_000);
    t.is(openBatch(k, dgrams, out), frames.length);
    frames.forEach((f, i) => {
      t.is(out.status[i], OPEN_STATUS.OK);
      t.is(out.counters[i], counters[i]);
      t.deepEqual(itemOf(out, i), f);
    });
  });

  test(`${alg}: bad datagrams fail per item, the good ones in the same batch still open`, (t) => {
    const key = randomBytes(32);
    const k = new AeadKey(alg, key);
    const good = () => referenceSeal(alg, key, 1, 5n, Buffer.from('hello, slice'));
    const tamperedTag = good();
    tamperedTag[tamperedTag.length - 1]! ^= 1;
    const tamperedBody = good();
    tamperedBody[20]! ^= 0x80;
    const tamperedCounter = good();
    tamperedCounter[8]! ^= 1; // the counter is the nonce: a changed counter must not verify
    const wrongType = good();
    wrongType[0] = 1;
    const reservedSet = good();
    reservedSet[2] = 9;
    const otherKey = referenceSeal(alg, randomBytes(32), 1, 5n, Buffer.from('hello, slice'));
    const cases: [Buffer, number][] = [
      [good(), OPEN_STATUS.OK],
      [tamperedTag, OPEN_STATUS.AUTH],
      [tamperedBody, OPEN_STATUS.AUTH],
      [tamperedCounter, OPEN_STATUS.AUTH],
      [wrongType, OPEN_STATUS.HEADER],
      [reservedSet, OPEN_STATUS.HEADER],
      [otherKey, OPEN_STATUS.AUTH],
      [Buffer.alloc(0), OPEN_STATUS.SHORT],
      [good().subarray(0, 31), OPEN_STATUS.SHORT],
      [good().subarray(0, 32), OPEN_STATUS.AUTH],
      [good(), OPEN_STATUS.OK],
    ];
    const out = newOpened(cases.length, 4096);
    out.buf.fill(0xaa);
    t.is(openBatch(k, batchOf(cases.map((c) => c[0])), out), 2);
    cases.forEach(([, want], i) => {
      t.is(out.status[i], want, `item ${i}`);
      if (want !== OPEN_STATUS.OK) t.is(out.lengths[i], 0);
    });
    t.deepEqual(itemOf(out, 10), Buffer.from('hello, slice'));
    // A failed item leaves no unauthenticated plaintext behind where it was decrypted.
    const last = newOpened(2, 24);
    last.buf.fill(0xaa);
    t.is(openBatch(k, batchOf([good(), tamperedBody]), last), 1);
    t.deepEqual(last.buf.subarray(12, 24), Buffer.alloc(12));
  });

  test(`${alg}: a keepalive (empty frame) round-trips natively`, (t) => {
    const k = new AeadKey(alg, randomBytes(32));
    const sealed = newBatch(1, 32);
    sealBatch(k, 3, 0n, batchOf([Buffer.alloc(0)]), sealed);
    const out = newOpened(1, 0);
    t.is(openBatch(k, sealed, out), 1);
    t.is(out.lengths[0], 0);
  });
}

test('seal and open with start/end and outStart touch only their range', (t) => {
  const k = new AeadKey('chacha20-poly1305', randomBytes(32));
  const frames = batchOf([Buffer.from('aaaa'), Buffer.from('bbbbbb'), Buffer.from('cc')]);
  const sealed = newBatch(3, 200);
  const end = sealBatch(k, 1, 10n, frames, sealed, 1, 3, 50);
  t.is(sealed.offsets[1], 50);
  t.is(sealed.offsets[2], 50 + 38);
  t.is(end, 50 + 38 + 34);
  t.is(sealed.buf.readBigUInt64LE(58), 10n);
  t.is(sealed.buf.readBigUInt64LE(96), 11n);
  t.true(sealed.buf.subarray(0, 50).every((b) => b === 0));
  const out = newOpened(3, 100);
  t.is(openBatch(k, sealed, out, 1, 3), 2);
  t.deepEqual(itemOf(out, 1), Buffer.from('bbbbbb'));
  t.deepEqual(itemOf(out, 2), Buffer.from('cc'));
});

test('malformed arguments throw before touching memory', (t) => {
  const k = new AeadKey('aes-256-gcm', randomBytes(32));
  const frames = batchOf([Buffer.alloc(100)]);
  const out = newBatch(1, 200);
  const rows: [string, () => unknown, RegExp][] = [
    ['key of 16 bytes', () => new AeadKey('aes-256-gcm', randomBytes(16)), /key must be 32 bytes, got 16/],
    ['key of 33 bytes', () => new AeadKey('chacha20-poly1305', randomBytes(33)), /key must be 32 bytes/],
    ['unknown alg', () => new AeadKey('aes-128-cbc' as AeadAlg, randomBytes(32)), /alg must be/],
    [
      'key not a buffer',
      () => new AeadKey('aes-256-gcm', 'k'.repeat(32) as unknown as Buffer),
      /key must be/,
    ],
    [
      'not an AeadKey',
      () => sealBatch({ native: {} } as AeadKey, 1, 0n, frames, out),
      /key must be an AeadKey/,
    ],
    ['counter not a bigint', () => sealBatch(k, 1, 5 as unknown as bigint, frames, out), /firstCounter/],
    ['negative counter', () => sealBatch(k, 1, -1n, frames, out), /firstCounter/],
    [
      'counter would wrap',
      () => sealBatch(k, 1, 2n ** 64n - 1n, batchOf([Buffer.alloc(1), Buffer.alloc(1)]), newBatch(2, 99)),
      /wrap/,
    ],
    ['receiver index out of range', () => sealBatch(k, 2 ** 32, 0n, frames, out), /receiverIndex/],
    ['dst too small', () => sealBatch(k, 1, 0n, frames, newBatch(1, 131)), /dst needs 132 bytes/],
    ['dst arrays too short', () => sealBatch(k, 1, 0n, frames, newBatch(0, 500)), /dstOffsets/],
    ['end past the arrays', () => sealBatch(k, 1, 0n, frames, out, 0, 2), /items \[0, 2\)/],
    ['start after end', () => sealBatch(k, 1, 0n, frames, out, 1, 0), /items \[1, 0\)/],
    [
      'frame past its buffer',
      () => sealBatch(k, 1, 0n, { ...frames, lengths: Uint32Array.of(102) }, out),
      /runs past the end/,
    ],
    [
      'offset past its buffer',
      () => sealBatch(k, 1, 0n, { ...frames, offsets: Uint32Array.of(2 ** 32 - 1) }, out),
      /runs past the end/,
    ],
    [
      'oversized frame',
      () => sealBatch(k, 1, 0n, batchOf([Buffer.alloc(65476)]), newBatch(1, 70000)),
      /more than the limit of 65475/,
    ],
    [
      'offsets not a Uint32Array',
      () => sealBatch(k, 1, 0n, { ...frames, offsets: [0] as unknown as Uint32Array }, out),
      /srcOffsets must be a Uint32Array/,
    ],
    [
      'open dst too small',
      () => openBatch(k, batchOf([Buffer.alloc(100)]), newOpened(1, 67)),
      /dst needs 68 bytes/,
    ],
    [
      'open status array short',
      () => openBatch(k, frames, { ...newOpened(1, 100), status: new Uint8Array(0) }),
      /status/,
    ],
    [
      'open oversized datagram',
      () => openBatch(k, batchOf([Buffer.alloc(65508)]), newOpened(1, 70000)),
      /limit of 65507/,
    ],
  ];
  for (const [name, fn, msg] of rows) t.throws(fn, { message: msg }, name);
});

test('a destroyed key refuses further use, and destroy is idempotent', (t) => {
  const k = new AeadKey('chacha20-poly1305', randomBytes(32));
  k.destroy();
  k.destroy();
  t.throws(() => sealBatch(k, 1, 0n, batchOf([Buffer.alloc(1)]), newBatch(1, 33)), {
    code: 'ERR_KEY_DESTROYED',
  });
  t.throws(() => openBatch(k, batchOf([Buffer.alloc(40)]), newOpened(1, 8)), { code: 'ERR_KEY_DESTROYED' });
});

test('overlapping src and dst are refused, not corrupted', (t) => {
  const k = new AeadKey('chacha20-poly1305', randomBytes(32));
  const shared = newBatch(1, 300);
  shared.offsets[0] = 0;
  shared.lengths[0] = 200;
  shared.count = 1;
  const out = { ...shared, offsets: new Uint32Array(1), lengths: new Uint32Array(1) };
  t.throws(() => sealBatch(k, 1, 0n, shared, out, 0, 1, 8), { message: /overlap/ });
  const sealed = newBatch(1, 300);
  sealBatch(k, 1, 0n, shared, sealed);
  const opened = { ...newOpened(1, 0), buf: sealed.buf };
  t.throws(() => openBatch(k, sealed, opened, 0, 1, 20), { message: /overlap/ });
});
