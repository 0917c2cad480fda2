// What the protocol asks its driver (the gateway, or a test) to do. The protocol never does
// I/O: every call returns a list of these, in the order they must happen.
import type { DropReason } from './drop-reason.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export function sameEndpoint(a: Endpoint | undefined, b: Endpoint): boolean {
  return a !== undefined && a.address === b.address && a.port === b.port;
}

/** Keys of one session, for a native data path that seals and opens on its own. */
export interface SessionKeys {
  localIndex: number;
  remoteIndex: number;
  sendKey: Buffer;
  recvKey: Buffer;
  isInitiator: boolean;
}

export type Action =
  /** Send `datagram` to `endpoint`; `peer` is absent for cookie replies to unknown sources. */
  | { type: 'send'; peer?: string; endpoint: Endpoint; datagram: Buffer }
  /** A frame that arrived from `peer`, authenticated and in order of acceptance. */
  | { type: 'deliver'; peer: string; frame: Buffer }
  /** A new session exists; the datagrams with receiver index `keys.localIndex` are its. */
  | { type: 'install-keys'; peer: string; keys: SessionKeys }
  /** The session with this local index is gone: forget its keys. */
  | { type: 'retire-keys'; peer: string; localIndex: number }
  | { type: 'drop'; reason: DropReason; peer?: string; endpoint?: Endpoint }
  /** The peer was authenticated from a new address (roaming). */
  | { type: 'endpoint'; peer: string; endpoint: Endpoint }
  | { type: 'peer-up'; peer: string }
  | { type: 'peer-down'; peer: string }
  /** Handshake retries ran out (90 s); `droppedFrames` queued frames were discarded. */
  | { type: 'handshake-failed'; peer: string; droppedFrames: number };
