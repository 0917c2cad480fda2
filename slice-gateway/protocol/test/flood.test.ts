// A handshake flood against an established gateway: 2000 forged initiations a second, all
// with a valid mac1 (the attacker knows B's public key, which is no secret), from spoofed
// addresses, across the time A must rekey. B must answer with cookie replies instead of
// X25519 work, keep every transport frame flowing, and still let A's real rekey through.
import test from 'ava';
import { CookieGenerator } from '../cookie.ts';
import { DEFAULT_LIMITS } from '../limiter.ts';
import { buildInitiation } from '../wire.ts';
import { established, prng } from './harness.ts';

test('a handshake flood draws cookie replies and does not disturb the session or its rekey', (t) => {
  const f = established();
  const { a, b, net, clock } = f;
  const r = prng(9);
  const attacker = new CookieGenerator(b.device.publicKey, clock);
  const counts = { sentA: 1, sentB: 0, cookies: 0, expensive: 0, forged: 0 };
  const installsBefore = a.actions.filter((x) => x.type === 'install-keys').length;

  const start = clock.t;
  const floodFrom = start + 105_000;
  const floodUntil = start + 135_000;
  while (clock.t < start + 140_000) {
    const flooding = clock.t >= floodFrom && clock.t < floodUntil;
    const step = flooding ? 10 : 100;
    net.handle(a, a.device.send(f.aToB, Buffer.from(`a${counts.sentA++}`)));
    net.handle(b, b.device.send(f.bToA, Buffer.from(`b${counts.sentB++}`)));
    if (flooding) {
      for (let i = 0; i < 20; i++) {
        const forged = buildInitiation(
          i,
          Buffer.from(Array.from({ length: 108 }, () => Math.floor(r() * 256))),
        );
        attacker.addMacs(forged);
        counts.forged++;
        const from = { address: `203.0.113.${Math.floor(r() * 250)}`, port: 40000 + i };
        for (const x of b.device.receive(forged, from)) {
          if (x.type === 'send' && x.datagram[0] === 3) counts.cookies++;
          if (x.type === 'drop' && ['decrypt_failed', 'bad_key', 'unknown_peer'].includes(x.reason))
            counts.expensive++;
          if (x.type === 'send' && x.datagram[0] !== 3)
            t.fail('B answered a forged initiation with a handshake');
        }
      }
    }
    net.run(clock.t + step);
  }
  net.run(clock.t + 1000);

  t.log(counts);
  const seconds = (floodUntil - floodFrom) / 1000;
  t.true(counts.cookies > counts.forged * 0.9, 'most of the flood got cookie replies');
  t.true(
    counts.expensive <= (DEFAULT_LIMITS.threshold + 1) * (seconds + 1),
    'X25519 work stayed under the threshold',
  );
  t.is(b.delivered.length, counts.sentA, 'every frame from A arrived');
  t.is(a.delivered.length, counts.sentB, 'every frame from B arrived');
  const installs = a.actions.filter((x) => x.type === 'install-keys').length;
  t.true(installs > installsBefore, 'A rekeyed during the flood');
  t.false([...a.actions, ...b.actions].some((x) => x.type === 'peer-down' || x.type === 'handshake-failed'));
});
