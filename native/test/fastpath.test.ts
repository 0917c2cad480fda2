// The fast path's boundary: the C replay window gives the TypeScript window's answers on the
// same memory, and every publishing call refuses bad arguments by name. Its packets are tested
// end to end in slice-gateway/gateway/test/datapath.e2e.test.ts ("fast path: …").
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ReplayWindow, REPLAY_STATE_BYTES, REPLAY_WINDOW } from '../../slice-gateway/protocol/index.ts';
import {
  AeadKey,
  FAST_SLOTS,
  FastPath,
  GLOBAL_BASE,
  openUdp,
  replayAccept,
  type Tap,
  type UdpSocket,
} from '../index.ts';

/** A counter sequence that walks forward with jumps, goes back inside and beyond the window, and repeats. */
function counters(n: number, seed: number): bigint[] {
  let x = seed;
  const rand = (m: number): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % m;
  };
  const out: bigint[] = [];
  let top = 0n;
  for (let i = 0; i < n; i++) {
    const r = rand(10);
    if (r < 4) top += BigInt(1 + rand(3));
    else if (r < 5) top += BigInt(rand(10_000)); // a jump that clears blocks, sometimes the whole ring
    const back = r >= 7 ? BigInt(rand(REPLAY_WINDOW + 100)) : 0n;
    out.push(top >= back ? top - back : 0n);
  }
  return out;
}

test('the C window accepts exactly what the TypeScript window accepts, and leaves the same state', (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const ts = new ReplayWindow();
    const c = new ReplayWindow(); // only its state is used, by the C code
    for (const counter of counters(20_000, seed)) {
      t.is(replayAccept(c.state, counter), ts.accept(counter), `seed ${seed}, counter ${counter}`);
    }
    t.deepEqual(Buffer.from(c.state), Buffer.from(ts.state), `seed ${seed}: same bytes`);
  }
});

test('one window, two paths: alternating C and TypeScript on the same state is one window', (t) => {
  const shared = new ReplayWindow();
  const reference = new ReplayWindow();
  let i = 0;
  for (const counter of counters(20_000, 9)) {
    const got = i++ % 2 ? replayAccept(shared.state, counter) : shared.accept(counter);
    t.is(got, reference.accept(counter), `counter ${counter}`);
  }
  t.true(replayAccept(shared.state, 2n ** 64n - 2n ** 13n - 2n), 'the last counter allowed');
  t.false(replayAccept(shared.state, 2n ** 64n - 2n ** 13n - 1n), 'REJECT_AFTER_MESSAGES is refused');
});

test('replayAccept refuses a state of the wrong size or type, and a counter that is not a u64 bigint', (t) => {
  t.throws(() => replayAccept(new Uint8Array(REPLAY_STATE_BYTES - 1), 1n), {
    message: /replayState must be 520 bytes/,
  });
  t.throws(() => replayAccept(new Uint32Array(130) as unknown as Uint8Array, 1n), { message: /replayState/ });
  t.throws(() => replayAccept(new Uint8Array(REPLAY_STATE_BYTES), 1 as unknown as bigint), {
    message: /counter must be a bigint/,
  });
  t.throws(() => replayAccept(new Uint8Array(REPLAY_STATE_BYTES), -1n), {
    message: /counter must be a bigint/,
  });
});

/** A FastPath over a real UDP socket and a stand-in TAP fd (publishing does no I/O). */
function fastPath(): { fast: FastPath; udp: UdpSocket; close: () => void } {
  const udp = openUdp({ address: '127.0.0.1', port: 0 });
  const tap = { fd: udp.fd, vnetHdrLen: 0, headerFlags: 0 } as unknown as Tap;
  return { fast: new FastPath(tap, udp, 1514), udp, close: () => udp.close() };
}

test('publishing refuses bad arguments by name', (t) => {
  const { fast, close } = fastPath();
  t.teardown(close);
  const key = new AeadKey('chacha20-poly1305', randomBytes(32));
  const state = new ReplayWindow().state;
  const cases: [string, () => void, RegExp][] = [
    [
      'slot 0 is the TAP side',
      () => fast.setTx(0, key, 1, 0x7f000001, 9, 1e12, 10n),
      /slot must be in \[1, 63\]/,
    ],
    [
      'slot past the table',
      () => fast.setRx(1, FAST_SLOTS, key, state, 1, 9, 1e12),
      /slot must be in \[1, 63\]/,
    ],
    ['not a key', () => fast.setTx(1, {} as AeadKey, 1, 1, 9, 1e12, 10n), /key must be an AeadKey/],
    ['port 0', () => fast.setRx(1, 1, key, state, 1, 0, 1e12), /port must be in \[1, 65535\]/],
    ['port too big', () => fast.setTx(1, key, 1, 1, 70000, 1e12, 10n), /port must be in \[1, 65535\]/],
    ['until NaN', () => fast.setTx(1, key, 1, 1, 9, NaN, 10n), /until must be a number/],
    [
      'limit not bigint',
      () => fast.setTx(1, key, 1, 1, 9, 1e12, 10 as unknown as bigint),
      /limit must be a bigint/,
    ],
    [
      'short window',
      () => fast.setRx(1, 1, key, new Uint8Array(8), 1, 9, 1e12),
      /replayState must be 520 bytes/,
    ],
    ['negative index', () => fast.setRx(-1, 1, key, state, 1, 9, 1e12), /index/],
    ['mac past 48 bits', () => fast.setMac(2 ** 48, 1), /mac must be an integer in \[0, 2\^48\)/],
    ['fractional mac', () => fast.deleteMac(1.5), /mac must be an integer/],
    ['mac slot past the table', () => fast.setMac(1, 64), /slot must be in \[0, 63\]/],
  ];
  for (const [name, call, message] of cases) t.throws(call, { message }, name);
});

test('the constructor refuses bad fds, sizes and headers', (t) => {
  const { fast, udp, close } = fastPath();
  t.teardown(close);
  const tap = (fd: number, vnetHdrLen = 0): Tap => ({ fd, vnetHdrLen, headerFlags: 0 }) as unknown as Tap;
  t.throws(() => new FastPath(tap(-1), udp, 1514), { code: 'EBADF' });
  t.throws(() => new FastPath(tap(3, 12), udp, 1514), { message: /vnetHdrLen must be 0 or 10/ });
  t.throws(() => new FastPath(tap(3), udp, 13), { message: /maxFrame must be in \[14, 65535\]/ });
  t.is(fast.stats.length, GLOBAL_BASE + 8);
});

test('the MAC mirror: set, move, delete, and forget everything on clear', (t) => {
  const { fast, close } = fastPath();
  t.teardown(close);
  // Many MACs whose hashes collide in runs: deletion must keep every other one findable.
  const macs = Array.from({ length: 5000 }, (_, i) => 0x02_00_00_00_00_00 + i * 7919);
  for (const m of macs) t.true(fast.setMac(m, m % 5));
  for (const m of macs.filter((_, i) => i % 3 === 0)) fast.deleteMac(m);
  t.deepEqual(
    macs.filter((m) => fast.macSlot(m) !== (macs.indexOf(m) % 3 === 0 ? undefined : m % 5)),
    [],
    'every remaining MAC found, every deleted one gone',
  );
  t.is(fast.macSeen(macs[1]!), undefined, 'not seen until the fast path forwards a frame');
  for (const m of macs.filter((_, i) => i % 3 !== 0)) t.true(fast.setMac(m, 1), 'moved in place');
  t.is(fast.macSlot(macs[1]!), 1);
  // The mirror is bounded (16384, the forwarder's own bound): past it, setMac says no.
  for (let i = 0; i < 20_000; i++) fast.setMac(0x0a_00_00_00_00_00 + i, 2);
  t.false(fast.setMac(0x0c_00_00_00_00_00, 2), 'full');
  fast.clear();
  t.is(fast.macSlot(macs[1]!), undefined);
});
