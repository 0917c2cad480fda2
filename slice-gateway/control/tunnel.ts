/**
 * The contract between the gateway process (control/) and its data path (gateway/): what this
 * process hands over when it becomes the active replica, and what it reads back for status,
 * metrics and events. The data path owns the TAP, the UDP socket and the sessions; the control
 * side owns Kubernetes. Keeping the seam this narrow lets the control loop run against a fake
 * in tests, and keeps every API call off the packet path.
 */
import type { Cipher } from '../../controller/api/types.ts';
import type { GatewayPeer, PeerStatus } from '../gateway/gateway.ts';

/** A peer cluster's gateway as the Slice describes it (the data path's own type). */
export type TunnelPeer = GatewayPeer;

export interface TunnelOptions {
  slice: string;
  /** Our static X25519 private key, 32 raw bytes. */
  privateKey: Uint8Array;
  listen: { address: string; port: number };
  /** The TAP to create and plug into the slice bridge. */
  tap: { name: string; bridge: string; mtu: number };
  sliceMtu: number;
  wanMtu: number;
  cipher: Cipher;
  peers: TunnelPeer[];
  onEvent?: (event: TunnelEvent) => void;
}

export interface TunnelEvent {
  type: 'peer-up' | 'peer-down' | 'endpoint-changed' | 'handshake-failed';
  cluster: string;
  endpoint?: string;
}

/** One peer as the data path sees it now. */
export type TunnelPeerStatus = PeerStatus;

export interface Tunnel {
  /** Replaces the peer set; sessions of peers that stay (same key) are kept. */
  setPeers(peers: TunnelPeer[]): void;
  peerStatus(): TunnelPeerStatus[];
  /** Datagrams and frames dropped so far, by reason. */
  drops(): Record<string, number>;
  close(): Promise<void> | void;
}

export type StartTunnel = (opts: TunnelOptions) => Promise<Tunnel>;
