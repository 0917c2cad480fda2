// Interop with noise-c (through noise-c.wasm) in both directions: our initiator against its
// responder and its initiator against our responder, then transport messages both ways.
import test from 'ava';
import { aeadOpen, aeadSeal, generateKeyPair, noiseNonce } from '../crypto.ts';
import { ikReadInitiation, ikReadResponse, ikWriteInitiation, ikWriteResponse } from '../noise.ts';
import { PROTOCOL_NAME } from '../constants.ts';
import { loadNoiseC } from './noise-c.ts';

const prologue = Buffer.from('slicenet/1 slice=payments');
const empty = new Uint8Array(0);
const noiseP = loadNoiseC();

test('our initiator, noise-c responder', async (t) => {
  const noise = await noiseP;
  const ini = generateKeyPair();
  const resp = generateKeyPair();
  const theirs = noise.HandshakeState(PROTOCOL_NAME, noise.constants.NOISE_ROLE_RESPONDER ?? 0);
  theirs.Initialize(prologue, resp.privateKey, null, null);

  const payload = Buffer.from('0123456789ab');
  const m1 = ikWriteInitiation({ prologue, localStatic: ini }, resp.publicKey, generateKeyPair(), payload);
  if (!m1) return t.fail();
  t.deepEqual(Buffer.from(theirs.ReadMessage(m1.message, true)), payload);
  t.deepEqual(Buffer.from(theirs.GetRemotePublicKey()), ini.publicKey);
  const m2 = theirs.WriteMessage(empty);
  const done = ikReadResponse(m1.initiator, m2);
  if (typeof done === 'string') return t.fail(done);
  t.deepEqual(Buffer.from(theirs.GetHandshakeHash()), done.transport.handshakeHash);

  const [send, recv] = theirs.Split();
  const fromUs = aeadSeal(done.transport.sendKey, noiseNonce(0n), Buffer.from('ping'), empty);
  t.is(Buffer.from(recv.DecryptWithAd(empty, fromUs)).toString(), 'ping');
  const fromThem = send.EncryptWithAd(empty, Buffer.from('pong'));
  t.is(aeadOpen(done.transport.recvKey, noiseNonce(0n), fromThem, empty)?.toString(), 'pong');
});

test('noise-c initiator, our responder', async (t) => {
  const noise = await noiseP;
  const ini = generateKeyPair();
  const resp = generateKeyPair();
  const theirs = noise.HandshakeState(PROTOCOL_NAME, noise.constants.NOISE_ROLE_INITIATOR ?? 0);
  theirs.Initialize(prologue, ini.privateKey, resp.publicKey, null);

  const m1 = theirs.WriteMessage(Buffer.from('timestamp-12'));
  const read = ikReadInitiation({ prologue, localStatic: resp }, m1);
  if (typeof read === 'string') return t.fail(read);
  t.is(read.payload.toString(), 'timestamp-12');
  t.deepEqual(read.remoteStatic, ini.publicKey);
  const m2 = ikWriteResponse(read, generateKeyPair(), empty);
  if (!m2) return t.fail();
  t.is(Buffer.from(theirs.ReadMessage(m2.message, true)).length, 0);
  t.deepEqual(Buffer.from(theirs.GetHandshakeHash()), m2.transport.handshakeHash);

  const [send, recv] = theirs.Split();
  for (let n = 0n; n < 3n; n++) {
    const fromThem = send.EncryptWithAd(empty, Buffer.from(`frame ${n}`));
    t.is(aeadOpen(m2.transport.recvKey, noiseNonce(n), fromThem, empty)?.toString(), `frame ${n}`);
    const fromUs = aeadSeal(m2.transport.sendKey, noiseNonce(n), Buffer.from(`reply ${n}`), empty);
    t.is(Buffer.from(recv.DecryptWithAd(empty, fromUs)).toString(), `reply ${n}`);
  }
});

test('a different prologue (slice or version) fails against noise-c', async (t) => {
  const noise = await noiseP;
  const ini = generateKeyPair();
  const resp = generateKeyPair();
  const theirs = noise.HandshakeState(PROTOCOL_NAME, noise.constants.NOISE_ROLE_INITIATOR ?? 0);
  theirs.Initialize(Buffer.from('slicenet/1 slice=other'), ini.privateKey, resp.publicKey, null);
  const m1 = theirs.WriteMessage(Buffer.from('timestamp-12'));
  t.is(ikReadInitiation({ prologue, localStatic: resp }, m1), 'decrypt_failed');
});
