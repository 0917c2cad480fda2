// The building blocks: HChaCha20/XChaCha20-Poly1305, TAI64N ordering, the token bucket and
// load detector, the transport layout shared with the native addon, and message sizes.
import test from 'ava';
import { hchacha20, xaeadOpen, xaeadSeal } from '../xchacha.ts';
import { isNewer, nextTimestamp, tai64n } from '../tai64n.ts';
import { HandshakeLimiter } from '../limiter.ts';
import { openTransport, sealTransport } from '../transport.ts';
import { parse } from '../wire.ts';
import { COOKIE_REPLY_LEN, INITIATION_LEN, RESPONSE_LEN } from '../constants.ts';
import { FakeClock } from './harness.ts';

test('HChaCha20 matches draft-irtf-cfrg-xchacha §2.2.1', (t) => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  const nonce = Buffer.from('000000090000004a0000000031415927', 'hex');
  t.is(
    hchacha20(key, nonce).toString('hex'),
    '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc',
  );
});

test('XChaCha20-Poly1305 round-trips and binds its AD and nonce', (t) => {
  const key = Buffer.alloc(32, 5);
  const nonce = Buffer.alloc(24, 6);
  const sealed = xaeadSeal(key, nonce, Buffer.from('cookie!'), Buffer.from('mac1'));
  t.is(xaeadOpen(key, nonce, sealed, Buffer.from('mac1'))?.toString(), 'cookie!');
  t.is(xaeadOpen(key, nonce, sealed, Buffer.from('mac2')), null);
  t.is(xaeadOpen(key, Buffer.alloc(24, 7), sealed, Buffer.from('mac1')), null);
  t.is(xaeadOpen(key, nonce.subarray(0, 23), sealed, Buffer.from('mac1')), null);
});

test('TAI64N timestamps order by time and never repeat', (t) => {
  const a = tai64n(1_700_000_000_000);
  const b = tai64n(1_700_000_000_001);
  t.true(isNewer(b, a));
  t.false(isNewer(a, a));
  const bumped = nextTimestamp(1_700_000_000_000, a);
  t.true(isNewer(bumped, a));
  t.true(
    isNewer(nextTimestamp(1_600_000_000_000, bumped), bumped),
    'a clock stepping back still moves forward',
  );
});

test('the token bucket allows a burst, then the rate', (t) => {
  const clock = new FakeClock();
  const l = new HandshakeLimiter(clock, { threshold: 10, rate: 20, burst: 5, maxSources: 2 });
  const allowed = Array.from({ length: 8 }, () => l.allow('a')).filter(Boolean).length;
  t.is(allowed, 5);
  clock.t += 50;
  t.true(l.allow('a'), 'one token back after 50 ms at 20/s');
  t.false(l.allow('a'));
  t.true(l.allow('b'));
  t.false(l.allow('c'), 'the table is full');
  clock.t += 2000;
  t.true(l.allow('c'), 'idle sources were forgotten');
});

test('load is the handshake rate over the threshold, for one second', (t) => {
  const clock = new FakeClock();
  const l = new HandshakeLimiter(clock, { threshold: 3, rate: 20, burst: 5, maxSources: 10 });
  t.deepEqual(
    [1, 2, 3, 4].map(() => l.recordAndCheckLoad()),
    [false, false, false, true],
  );
  clock.t += 999;
  t.true(l.recordAndCheckLoad());
  clock.t += 1001;
  t.false(l.recordAndCheckLoad());
});

test('the transport datagram layout the native addon shares', (t) => {
  const key = Buffer.alloc(32, 1);
  const d = sealTransport(key, 0x01020304, 0x0102030405060708n, Buffer.from('frame'));
  t.is(d.length, 16 + 5 + 16);
  t.deepEqual([...d.subarray(0, 16)], [4, 0, 0, 0, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1]);
  const msg = parse(d);
  if (typeof msg === 'string' || msg.type !== 4) return t.fail();
  t.is(msg.receiverIndex, 0x01020304);
  t.is(openTransport(key, msg.counter, msg.sealed)?.toString(), 'frame');
  t.is(openTransport(key, msg.counter + 1n, msg.sealed), null, 'the counter is the nonce');
});

test('message sizes', (t) => {
  t.deepEqual([INITIATION_LEN, RESPONSE_LEN, COOKIE_REPLY_LEN], [148, 92, 64]);
});
