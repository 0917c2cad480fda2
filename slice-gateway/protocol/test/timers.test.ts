// The per-peer state machine against a fake clock: keepalives, handshake retries and
// give-up, rekey age, session expiry, the stalled-path handshake, and roaming.
import test from 'ava';
import { REJECT_AFTER_TIME, REKEY_AFTER_TIME } from '../constants.ts';
import type { Action } from '../actions.ts';
import { established, pair } from './harness.ts';

const sent = (actions: Action[], type: number): Action[] =>
  actions.filter((a) => a.type === 'send' && a.datagram[0] === type);

test('a receiver with nothing to say sends a keepalive 10 s after data', (t) => {
  const f = established();
  // The handshake's own first frame armed one keepalive already; let it go out first.
  f.net.run(f.clock.t + 11_000);
  const before = f.b.actions.length;
  f.net.handle(f.a, f.a.device.send(f.aToB, Buffer.from('one frame')));
  f.net.run(f.clock.t + 9_900);
  t.is(sent(f.b.actions.slice(before), 4).length, 0);
  f.net.run(f.clock.t + 200);
  const keepalives = sent(f.b.actions.slice(before), 4);
  t.is(keepalives.length, 1);
  t.is(keepalives[0]?.type === 'send' ? keepalives[0].datagram.length : 0, 32);
});

test('an unanswered handshake is retried every 5 s and given up after 90 s', (t) => {
  const p = pair({ handshakeLoss: 1 });
  const start = p.clock.t;
  p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from('queued')));
  p.net.run(start + 100_000);
  const initiations = sent(p.a.actions, 1);
  t.true(initiations.length >= 17 && initiations.length <= 19, `${initiations.length} initiations`);
  const failed = p.a.actions.find((a) => a.type === 'handshake-failed');
  t.deepEqual(failed, { type: 'handshake-failed', peer: p.aToB, droppedFrames: 1 });
  const after = p.a.actions.length;
  p.net.run(p.clock.t + 60_000);
  t.is(sent(p.a.actions.slice(after), 1).length, 0, 'no retries after giving up');
});

test('the initiator rekeys between 115 and 120 s while sending; the responder never does', (t) => {
  const f = established();
  const installedAt: number[] = [];
  const start = f.clock.t;
  while (f.clock.t < start + 250_000) {
    const out = f.a.device.send(f.aToB, Buffer.from('tick'));
    if (out.some((a) => a.type === 'send' && a.datagram[0] === 1)) installedAt.push(f.clock.t - start);
    f.net.handle(f.a, out);
    f.net.handle(f.b, f.b.device.send(f.bToA, Buffer.from('tock')));
    f.net.run(f.clock.t + 500);
  }
  t.is(installedAt.length, 2, `A initiated at ${installedAt.join(', ')} ms`);
  t.true((installedAt[0] ?? 0) >= REKEY_AFTER_TIME - 6_000 && (installedAt[0] ?? 0) <= REKEY_AFTER_TIME);
  t.is(sent(f.b.actions, 1).length, 0, 'B never initiated');
});

test('an idle session expires after 180 s and the peers go down', (t) => {
  const f = established();
  f.net.run(f.clock.t + REJECT_AFTER_TIME + 1_000);
  for (const n of [f.a, f.b]) {
    t.true(n.actions.some((a) => a.type === 'peer-down'));
    t.true(n.actions.some((a) => a.type === 'retire-keys'));
    t.is(n.device.peer(n === f.a ? f.aToB : f.bToA)?.current, null);
  }
});

test('data sent with no answer for 15 s starts a new handshake', (t) => {
  const f = established();
  const peer = f.a.device.peer(f.aToB);
  // B's keepalive for the first frame reaches A and disarms the timer that frame set.
  f.net.run(f.clock.t + 11_000);
  t.is(peer?.newHandshakeAt, undefined);
  f.a.device.send(f.aToB, Buffer.from('into the void'));
  const deadline = peer?.newHandshakeAt ?? 0;
  t.true(deadline > f.clock.t + 14_000 && deadline <= f.clock.t + 15_334);
  f.clock.t = deadline;
  t.is(sent(f.a.device.tick(), 1).length, 1);
});

test('a peer that changes address is followed after its next authenticated packet', (t) => {
  const f = established();
  const moved = { address: '198.51.100.77', port: 61000 };
  f.net.move(f.b, moved);
  f.net.handle(f.b, f.b.device.send(f.bToA, Buffer.from('from my new address')));
  f.net.run(f.clock.t + 100);
  t.deepEqual(
    f.a.actions.find((a) => a.type === 'endpoint'),
    { type: 'endpoint', peer: f.aToB, endpoint: moved },
  );
  const out = f.a.device.send(f.aToB, Buffer.from('reply'));
  t.deepEqual(out[0]?.type === 'send' ? out[0].endpoint : undefined, moved);
  f.net.handle(f.a, out);
  f.net.run(f.clock.t + 100);
  t.is(f.b.delivered.at(-1)?.frame.toString(), 'reply');
});

test('an unauthenticated packet from a new address does not move the peer', (t) => {
  const f = established();
  const forged = Buffer.from(f.data);
  forged[20] = (forged[20] ?? 0) ^ 1;
  f.b.device.receive(forged, { address: '203.0.113.66', port: 1 });
  t.deepEqual(f.b.device.peer(f.bToA)?.endpoint, f.a.endpoint);
});

test('both sides initiating at once converge, and every frame arrives', (t) => {
  const p = pair({ maxDelay: 30, seed: 5 });
  p.b.device.removePeer(p.bToA);
  const bToA = p.b.device.addPeer(p.a.device.publicKey, p.a.endpoint);
  for (let i = 0; i < 5; i++) {
    p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from(`a${i}`)));
    p.net.handle(p.b, p.b.device.send(bToA, Buffer.from(`b${i}`)));
  }
  t.is(sent(p.a.actions, 1).length, 1);
  t.is(sent(p.b.actions, 1).length, 1);
  p.net.run(p.clock.t + 2_000);
  for (let i = 5; i < 10; i++) {
    p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from(`a${i}`)));
    p.net.handle(p.b, p.b.device.send(bToA, Buffer.from(`b${i}`)));
    p.net.run(p.clock.t + 50);
  }
  p.net.run(p.clock.t + 2_000);
  const got = (n: typeof p.a): string[] => n.delivered.map((d) => d.frame.toString()).sort();
  t.deepEqual(got(p.b), Array.from({ length: 10 }, (_, i) => `a${i}`).sort());
  t.deepEqual(got(p.a), Array.from({ length: 10 }, (_, i) => `b${i}`).sort());
});

test('after both sides initiated at once, a rekey keeps the session the peer still sends on', (t) => {
  // Both start together: each ends up sending on the session it initiated, so what the peer
  // sends on is our previous. A rekeys while B's frame on that session is still in flight.
  const p = pair({ seed: 7 });
  p.b.device.removePeer(p.bToA);
  const bToA = p.b.device.addPeer(p.a.device.publicKey, p.a.endpoint);
  p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from('a0')));
  p.net.handle(p.b, p.b.device.send(bToA, Buffer.from('b0')));
  p.net.run(p.clock.t + 2_000);
  const a = p.a.device.peer(p.aToB)!;
  const b = p.b.device.peer(bToA)!;
  t.true(a.current!.isInitiator && b.current!.isInitiator, 'each sends on the session it initiated');
  t.is(a.previous!.localIndex, b.current!.remoteIndex, "B's sending session is A's previous");

  // By hand from here, to hold B's response until B's next frame is sealed behind it.
  const sends = (actions: Action[], type: number): Buffer[] =>
    actions.flatMap((x) => (x.type === 'send' && x.datagram[0] === type ? [x.datagram] : []));
  p.clock.t += REKEY_AFTER_TIME + 1_000;
  const fromA = p.a.device.send(p.aToB, Buffer.from('a1')); // a1 on the old session, and A's initiation
  const atB = [...sends(fromA, 4), ...sends(fromA, 1)].flatMap((d) => p.b.device.receive(d, p.a.endpoint));
  const response = sends(atB, 2);
  t.is(response.length, 1, 'B answered');
  const b1 = sends(p.b.device.send(bToA, Buffer.from('b1')), 4); // on B's current: A's previous
  const atA = [...response, ...b1].flatMap((d) => p.a.device.receive(d, p.b.endpoint));
  t.is(a.current!.remoteIndex, b.next!.localIndex, 'A took the new session before b1 arrived');
  t.deepEqual(
    atA.flatMap((x) => (x.type === 'drop' ? [x.reason] : [])),
    [],
    'no unknown_index: the session B sends on is still receivable',
  );
  t.deepEqual(
    atA.flatMap((x) => (x.type === 'deliver' ? [x.frame.toString()] : [])),
    ['b1'],
  );
});

test('a responder with no address for its peer queues frames until the peer calls', (t) => {
  const p = pair();
  p.net.handle(p.b, p.b.device.send(p.bToA, Buffer.from('waiting')));
  t.is(p.b.actions.length, 0, 'nothing to send to: no address yet');
  p.net.handle(p.a, p.a.device.send(p.aToB, Buffer.from('hello')));
  p.net.run(p.clock.t + 1_000);
  t.deepEqual(
    p.a.delivered.map((d) => d.frame.toString()),
    ['waiting'],
  );
});
