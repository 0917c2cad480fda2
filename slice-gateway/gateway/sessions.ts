/**
 * The native keys of the protocol's sessions, and the one send counter per session that the
 * TypeScript and native seal paths share.
 *
 * The Device (protocol/) makes and retires sessions and still seals some datagrams itself
 * (handshake confirmations, keepalives, frames that waited for a handshake), each with the
 * next value of its Keypair's `sendCounter`. The native path seals everything else. A counter
 * used twice under one key would break ChaCha20-Poly1305 outright, so there is exactly one
 * counter: the native path reserves a run of it from the same Keypair (`reserve`) before
 * sealing. JS is single-threaded, so reservation and TS sealing never interleave.
 * On receive, the native path checks and updates the same Keypair's ReplayWindow, so a
 * counter the Device accepted is a replay natively too and vice versa.
 */
import { AeadKey, ipv4ToU32 } from '../../native/index.ts';
import { constants, type Device, type Endpoint, type Peer, type SessionKeys } from '../protocol/index.ts';

/** The two directions of one session, keyed once in OpenSSL. */
export interface NativeSession {
  seal: AeadKey;
  open: AeadKey;
}

type Keypair = NonNullable<Peer['current']>;

export class Sessions {
  private readonly byIndex = new Map<number, NativeSession>();

  constructor(private readonly device: Device) {}

  install(keys: SessionKeys): void {
    this.retire(keys.localIndex);
    this.byIndex.set(keys.localIndex, {
      // The Device's transport cipher: its TypeScript seal and open (keepalives, queued frames,
      // the first datagram of each batch) and these must agree.
      seal: new AeadKey(this.device.cipher, keys.sendKey),
      open: new AeadKey(this.device.cipher, keys.recvKey),
    });
  }

  /** Wipes the session's keys in OpenSSL at once. */
  retire(localIndex: number): void {
    const s = this.byIndex.get(localIndex);
    if (!s) return;
    s.seal.destroy();
    s.open.destroy();
    this.byIndex.delete(localIndex);
  }

  get(localIndex: number): NativeSession | undefined {
    return this.byIndex.get(localIndex);
  }

  /** The session a datagram with this receiver index belongs to, with its Keypair. */
  receiving(index: number): { peer: Peer; kp: Keypair; native: NativeSession } | undefined {
    const entry = this.device.index.get(index);
    if (!entry || entry.kind !== 'keypair') return undefined;
    const native = this.byIndex.get(index);
    return native && { peer: entry.peer, kp: entry.keypair, native };
  }

  /**
   * Reserves `n` consecutive send counters of the peer's current session and does the timer
   * bookkeeping the Device does for each frame it seals (Device.sendFrame): returns the first
   * counter, or undefined when the session cannot send (none, expired, used up, no native
   * keys, no endpoint): the caller then hands the frames to `device.send`, which queues them
   * and handshakes. Starts a rekey when the session is due, like sendFrame.
   */
  reserve(peer: Peer, n: number, now: number, out: Parameters<Device['initiate']>[1]) {
    const kp = peer.current;
    if (!kp || !peer.endpoint || !kp.canSend(now)) return undefined;
    if (kp.sendCounter + BigInt(n) > constants.REJECT_AFTER_MESSAGES) return undefined;
    const native = this.byIndex.get(kp.localIndex);
    if (!native) return undefined;
    const first = kp.sendCounter;
    kp.sendCounter += BigInt(n);
    peer.keepaliveAt = undefined;
    peer.dataSent(now, this.device.jitter);
    if (kp.wantsRekey(now)) this.device.initiate(peer, out);
    return { first, kp, native, endpoint: peer.endpoint };
  }

  /** Wipes every key (shutdown). */
  clear(): void {
    for (const i of [...this.byIndex.keys()]) this.retire(i);
  }
}

const addresses = new WeakMap<Endpoint, number>();

/**
 * The uint32 form of an endpoint's address, parsed once: the data path needs it per batch.
 * Endpoints are replaced, never changed, on roaming, so the cache cannot go stale.
 */
export function endpointAddress(e: Endpoint): number {
  let a = addresses.get(e);
  if (a === undefined) {
    a = ipv4ToU32(e.address);
    addresses.set(e, a);
  }
  return a;
}
