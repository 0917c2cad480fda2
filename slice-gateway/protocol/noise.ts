// The Noise IK pattern (Noise spec rev 34, §5 and §7.5) over the primitives in crypto.ts:
//
//   <- s
//   ...
//   -> e, es, s, ss
//   <- e, ee, se
//
// This file knows nothing of the wire: it turns payloads into Noise messages and back, so
// the published test vectors and another Noise implementation can check it byte for byte.
// Ephemeral keys can be passed in for the vectors; the protocol always draws fresh ones.
import { PROTOCOL_NAME, KEY_LEN, TAG_LEN } from './constants.ts';
import { EMPTY, aeadOpen, aeadSeal, dh, hash, hkdf, noiseNonce, type KeyPair } from './crypto.ts';

/** Noise's SymmetricState with its CipherState inlined: ck, h, and k with its nonce. */
export class SymmetricState {
  ck: Buffer;
  h: Buffer;
  private k: Buffer | null = null;
  private n = 0n;

  constructor(protocolName = PROTOCOL_NAME) {
    const name = Buffer.from(protocolName);
    this.h = name.length <= 32 ? Buffer.concat([name, Buffer.alloc(32 - name.length)]) : hash(name);
    this.ck = this.h;
  }

  mixHash(data: Uint8Array): void {
    this.h = hash(this.h, data);
  }

  mixKey(input: Uint8Array): void {
    const [ck, k] = hkdf(this.ck, input, 2) as [Buffer, Buffer];
    this.ck = ck;
    this.k = k;
    this.n = 0n;
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const out = this.k ? aeadSeal(this.k, noiseNonce(this.n++), plaintext, this.h) : Buffer.from(plaintext);
    this.mixHash(out);
    return out;
  }

  decryptAndHash(ciphertext: Uint8Array): Buffer | null {
    const out = this.k ? aeadOpen(this.k, noiseNonce(this.n++), ciphertext, this.h) : Buffer.from(ciphertext);
    if (out) this.mixHash(ciphertext);
    return out;
  }

  /** A copy, so a forged message 2 can be tried without spoiling the state the real one needs. */
  clone(): SymmetricState {
    const c = new SymmetricState();
    c.ck = this.ck;
    c.h = this.h;
    c.k = this.k;
    c.n = this.n;
    return c;
  }

  /** The two transport keys: the first for initiator-to-responder traffic. */
  split(): [Buffer, Buffer] {
    return hkdf(this.ck, EMPTY, 2) as [Buffer, Buffer];
  }
}

/** What both sides need to start IK: their own static key, the prologue, and the peer's key if known. */
export interface IkSetup {
  prologue: Uint8Array;
  localStatic: KeyPair;
}

export interface Transport {
  /** The key this side sends with, and the one it receives with. */
  sendKey: Buffer;
  recvKey: Buffer;
  handshakeHash: Buffer;
}

/** Initiator state between writing message 1 and reading message 2. */
export interface IkInitiator {
  state: SymmetricState;
  ephemeral: KeyPair;
  remoteStatic: Buffer;
  localStatic: KeyPair;
}

function mixDh(state: SymmetricState, ours: KeyPair, theirs: Uint8Array): boolean {
  const shared = dh(ours, theirs);
  if (!shared) return false;
  state.mixKey(shared);
  return true;
}

/**
 * Writes message 1. `precomputedSs` is DH(s, rs), which never changes for a peer pair, so
 * callers cache it and a handshake costs two X25519 instead of three.
 */
export function ikWriteInitiation(
  setup: IkSetup,
  remoteStatic: Buffer,
  ephemeral: KeyPair,
  payload: Uint8Array,
  precomputedSs?: Buffer,
): { message: Buffer; initiator: IkInitiator } | null {
  const state = new SymmetricState();
  state.mixHash(setup.prologue);
  state.mixHash(remoteStatic);
  state.mixHash(ephemeral.publicKey);
  if (!mixDh(state, ephemeral, remoteStatic)) return null;
  const encStatic = state.encryptAndHash(setup.localStatic.publicKey);
  const ss = precomputedSs ?? dh(setup.localStatic, remoteStatic);
  if (!ss) return null;
  state.mixKey(ss);
  const encPayload = state.encryptAndHash(payload);
  const message = Buffer.concat([ephemeral.publicKey, encStatic, encPayload]);
  return { message, initiator: { state, ephemeral, remoteStatic, localStatic: setup.localStatic } };
}

export type IkFailure = 'short' | 'decrypt_failed' | 'bad_key';

/** Responder state after reading message 1: the initiator's keys and the decrypted payload. */
export interface IkResponder {
  state: SymmetricState;
  remoteStatic: Buffer;
  remoteEphemeral: Buffer;
  payload: Buffer;
}

/**
 * Reads message 1. `ssFor` returns the cached DH(s, rs) for a known initiator static key, or
 * undefined to compute it (the static key is only known once decrypted).
 */
export function ikReadInitiation(
  setup: IkSetup,
  message: Uint8Array,
  ssFor?: (remoteStatic: Buffer) => Buffer | undefined,
): IkResponder | IkFailure {
  if (message.length < KEY_LEN + KEY_LEN + TAG_LEN + TAG_LEN) return 'short';
  const state = new SymmetricState();
  state.mixHash(setup.prologue);
  state.mixHash(setup.localStatic.publicKey);
  const re = Buffer.from(message.subarray(0, KEY_LEN));
  state.mixHash(re);
  if (!mixDh(state, setup.localStatic, re)) return 'bad_key';
  const rs = state.decryptAndHash(message.subarray(KEY_LEN, 2 * KEY_LEN + TAG_LEN));
  if (!rs) return 'decrypt_failed';
  const ss = ssFor?.(rs) ?? dh(setup.localStatic, rs);
  if (!ss) return 'bad_key';
  state.mixKey(ss);
  const payload = state.decryptAndHash(message.subarray(2 * KEY_LEN + TAG_LEN));
  if (!payload) return 'decrypt_failed';
  return { state, remoteStatic: rs, remoteEphemeral: re, payload };
}

/** Writes message 2 and derives the responder's transport keys. */
export function ikWriteResponse(
  responder: IkResponder,
  ephemeral: KeyPair,
  payload: Uint8Array,
): { message: Buffer; transport: Transport } | null {
  const { state } = responder;
  state.mixHash(ephemeral.publicKey);
  if (!mixDh(state, ephemeral, responder.remoteEphemeral)) return null;
  if (!mixDh(state, ephemeral, responder.remoteStatic)) return null;
  const encPayload = state.encryptAndHash(payload);
  const [i2r, r2i] = state.split();
  return {
    message: Buffer.concat([ephemeral.publicKey, encPayload]),
    transport: { sendKey: r2i, recvKey: i2r, handshakeHash: state.h },
  };
}

/** Reads message 2 and derives the initiator's transport keys. */
export function ikReadResponse(
  initiator: IkInitiator,
  message: Uint8Array,
): { payload: Buffer; transport: Transport } | IkFailure {
  if (message.length < KEY_LEN + TAG_LEN) return 'short';
  const state = initiator.state.clone();
  const re = message.subarray(0, KEY_LEN);
  state.mixHash(re);
  if (!mixDh(state, initiator.ephemeral, re)) return 'bad_key';
  if (!mixDh(state, initiator.localStatic, re)) return 'bad_key';
  const payload = state.decryptAndHash(message.subarray(KEY_LEN));
  if (!payload) return 'decrypt_failed';
  const [i2r, r2i] = state.split();
  return { payload, transport: { sendKey: i2r, recvKey: r2i, handshakeHash: state.h } };
}
