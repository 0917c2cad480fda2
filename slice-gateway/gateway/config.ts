/**
 * The gateway's one typed configuration and its validation: `startGateway` checks the options
 * it is given, `standalone.ts` first turns a JSON file into them (keys in base64). Every error
 * is a SlicenetError `BAD_CONFIG` whose message starts with the path of the bad field
 * (`peers[1].endpoints[0]`) and says what is allowed.
 */
import { SlicenetError } from '../../lib/errors.ts';
import { ipv4ToU32 } from '../../native/index.ts';
import type { Endpoint, Timers, TransportCipher } from '../protocol/index.ts';
import type { SliceEndpoint } from './arp.ts';
import { parseMac } from './mac.ts';
import { checkMtu } from './mtu.ts';

export interface GatewayPeer {
  /** The peer cluster's name: how status and events name the peer. Unique. */
  cluster: string;
  /** The peer gateway's X25519 static public key, base64 (32 bytes). Unique. */
  publicKey: string;
  /** Where it listens, `a.b.c.d:port`, tried in turn until one answers; may be empty (it calls us). */
  endpoints: string[];
  /** Slice addresses behind this peer, answered locally when asked for by ARP. */
  arp?: SliceEndpoint[];
}

export interface GatewayOptions {
  /** Our X25519 static private key: 32 raw bytes. */
  privateKey: Uint8Array;
  /** The slice name; part of the handshake prologue, so it must match the peers' (default "slice"). */
  slice?: string;
  /** The UDP socket: a dotted IPv4 address (0.0.0.0 for all) and a port (0: any free one). */
  listen: { address: string; port: number };
  /**
   * The TAP device: created with this name, set up with `mtu` (default sliceMtu) and, with
   * `bridge`, enslaved to that existing Linux bridge (which is set up too). Removed by close().
   */
  tap: { name: string; bridge?: string; mtu?: number };
  /** The slice's MTU: frames up to sliceMtu + 14 bytes cross; at most wanMtu - 74. */
  sliceMtu: number;
  /** Every datagram we send fits it (default 1500). */
  wanMtu?: number;
  /** The transport AEAD (default chacha20-poly1305); every gateway of the slice must use the same. */
  cipher?: TransportCipher;
  peers: GatewayPeer[];
  /**
   * TAP offloads (default true): the TAP is opened with IFF_VNET_HDR and TUN_F_CSUM|TUN_F_TSO4,
   * so the kernel hands over TCPv4 super-frames of up to 64 KiB unsegmented and unchecksummed;
   * the gateway splits them into sliceMtu-sized segments natively before sealing (native/gso.ts),
   * and on the way in writes each run of a flow's opened segments back as one super-frame
   * (native/gro.ts). Fewer, larger units through the kernel; every datagram still fits wanMtu.
   * False: one plain frame per read and write (for kernels without TAP offloads).
   */
  offloads?: boolean;
  /**
   * The native fast path (default true): a wake-up that reads a single routine packet (a
   * session's unicast frame or datagram, the MACs already learned) crosses the gateway in C
   * without a JavaScript call (native/fastpath.ts). False: every packet through TypeScript,
   * for debugging and for measuring what the fast path buys.
   */
  fastPath?: boolean;
  /** Session timers, ms (default: the protocol's, a rekey every 2 minutes); for tests and labs. */
  timers?: Partial<Timers>;
}

const CONFIG_KEYS = [
  'privateKey',
  'slice',
  'listen',
  'tap',
  'sliceMtu',
  'wanMtu',
  'cipher',
  'peers',
  'offloads',
  'fastPath',
  'timers',
];
const CIPHERS: TransportCipher[] = ['chacha20-poly1305', 'aes-256-gcm'];
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const TIMER_NAMES: (keyof Timers)[] = [
  'rekeyAfterTime',
  'rejectAfterTime',
  'rekeyAttemptTime',
  'rekeyTimeout',
  'keepaliveTimeout',
];

function bad(field: string, message: string): never {
  throw new SlicenetError('BAD_CONFIG', `${field}: ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `a.b.c.d:port`; throws BAD_CONFIG naming `field`. */
export function parseEndpoint(s: unknown, field: string): Endpoint {
  const m = typeof s === 'string' ? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s) : null;
  const port = Number(m?.[2]);
  if (!m || !isIpv4(m[1]!) || port < 1 || port > 65535)
    bad(field, `${JSON.stringify(s)} is not an IPv4 "address:port" with a port from 1 to 65535`);
  return { address: m[1]!, port };
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.address}:${e.port}`;
}

function isIpv4(s: string): boolean {
  try {
    ipv4ToU32(s);
    return true;
  } catch {
    return false;
  }
}

/** Decodes a base64 X25519 key, or throws BAD_CONFIG naming `field`. */
export function decodeKey(s: unknown, field: string): Buffer {
  const b = typeof s === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(s) ? Buffer.from(s, 'base64') : undefined;
  if (b?.length !== 32) bad(field, 'must be 32 bytes in base64 (44 characters, as generateKeyPair() gives)');
  return b;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    bad(field, `${JSON.stringify(v)} must be an integer from ${min} to ${max}`);
  return v as number;
}

function ifname(v: unknown, field: string): string {
  if (typeof v !== 'string' || !IFNAME.test(v))
    bad(field, `${JSON.stringify(v)} must be an interface name of 1-15 letters, digits, "_", "." or "-"`);
  return v;
}

/** Checks a peer list (for startGateway and setPeers); `ours` is our own public key, base64. */
export function validatePeers(peers: unknown, ours?: string): GatewayPeer[] {
  if (!Array.isArray(peers)) bad('peers', 'must be a list of {cluster, publicKey, endpoints, arp?}');
  const clusters = new Set<string>();
  const keys = new Set<string>();
  peers.forEach((p: unknown, i) => {
    const f = `peers[${i}]`;
    if (!isObject(p)) bad(f, 'must be an object {cluster, publicKey, endpoints, arp?}');
    if (typeof p.cluster !== 'string' || !p.cluster) bad(`${f}.cluster`, 'must be a non-empty string');
    if (clusters.has(p.cluster))
      bad(`${f}.cluster`, `"${p.cluster}" appears twice; one entry per peer cluster`);
    clusters.add(p.cluster);
    const key = decodeKey(p.publicKey, `${f}.publicKey`).toString('base64');
    if (keys.has(key)) bad(`${f}.publicKey`, 'the same key as another peer; each gateway has its own');
    if (key === ours) bad(`${f}.publicKey`, 'is our own public key; list only the other clusters');
    keys.add(key);
    if (!Array.isArray(p.endpoints)) bad(`${f}.endpoints`, 'must be a list of "address:port" (may be empty)');
    p.endpoints.forEach((e: unknown, j) => parseEndpoint(e, `${f}.endpoints[${j}]`));
    if (p.arp === undefined) return;
    if (!Array.isArray(p.arp)) bad(`${f}.arp`, 'must be a list of {ip, mac}');
    p.arp.forEach((a: unknown, j) => {
      const g = `${f}.arp[${j}]`;
      if (!isObject(a) || typeof a.ip !== 'string' || !isIpv4(a.ip))
        bad(`${g}.ip`, 'must be a dotted IPv4 address');
      try {
        parseMac(String(a.mac));
      } catch {
        bad(`${g}.mac`, `${JSON.stringify(a.mac)} must be a MAC address "aa:bb:cc:dd:ee:ff"`);
      }
    });
  });
  return peers as GatewayPeer[];
}

/** Checks options given in code; throws BAD_CONFIG (or BAD_MTU) naming the first bad field. */
export function validateOptions(o: GatewayOptions): GatewayOptions {
  if (!isObject(o)) bad('options', 'must be an object');
  if (!(o.privateKey instanceof Uint8Array) || o.privateKey.length !== 32)
    bad('privateKey', 'must be 32 raw bytes (an X25519 private key)');
  if (o.slice !== undefined && (typeof o.slice !== 'string' || !/^[a-z0-9.-]{1,63}$/.test(o.slice)))
    bad(
      'slice',
      `${JSON.stringify(o.slice)} must be a slice name (1-63 lowercase letters, digits, "." or "-")`,
    );
  if (!isObject(o.listen)) bad('listen', 'must be {address, port}');
  if (typeof o.listen.address !== 'string' || !isIpv4(o.listen.address))
    bad(
      'listen.address',
      `${JSON.stringify(o.listen.address)} must be a dotted IPv4 address (0.0.0.0 for all)`,
    );
  int(o.listen.port, 'listen.port', 0, 65535);
  if (!isObject(o.tap)) bad('tap', 'must be {name, bridge?, mtu?}');
  ifname(o.tap.name, 'tap.name');
  if (o.tap.bridge !== undefined) ifname(o.tap.bridge, 'tap.bridge');
  int(o.sliceMtu, 'sliceMtu', 68, 65535);
  if (o.wanMtu !== undefined) int(o.wanMtu, 'wanMtu', 576, 65535);
  checkMtu(o.sliceMtu, o.wanMtu ?? 1500);
  if (o.tap.mtu !== undefined) int(o.tap.mtu, 'tap.mtu', o.sliceMtu, 65535);
  if (o.cipher !== undefined && !CIPHERS.includes(o.cipher))
    bad('cipher', `${JSON.stringify(o.cipher)} must be one of ${CIPHERS.join(', ')}`);
  if (o.offloads !== undefined && typeof o.offloads !== 'boolean')
    bad('offloads', `${JSON.stringify(o.offloads)} must be true or false`);
  if (o.fastPath !== undefined && typeof o.fastPath !== 'boolean')
    bad('fastPath', `${JSON.stringify(o.fastPath)} must be true or false`);
  if (o.timers !== undefined) {
    if (!isObject(o.timers)) bad('timers', `must be an object with any of ${TIMER_NAMES.join(', ')}`);
    for (const [k, v] of Object.entries(o.timers)) {
      if (!TIMER_NAMES.includes(k as keyof Timers))
        bad(`timers.${k}`, `unknown; known: ${TIMER_NAMES.join(', ')}`);
      int(v, `timers.${k}`, 1, 3_600_000);
    }
  }
  validatePeers(o.peers);
  return o;
}

/** The options from a parsed JSON config: the same shape, with privateKey in base64. */
export function parseConfig(json: unknown): GatewayOptions {
  if (!isObject(json)) bad('config', 'must be a JSON object (see slice-gateway/README.md)');
  for (const k of Object.keys(json))
    if (!CONFIG_KEYS.includes(k)) bad(k, `unknown setting; known: ${CONFIG_KEYS.join(', ')}`);
  const privateKey = decodeKey(json.privateKey, 'privateKey');
  return validateOptions({ ...(json as unknown as GatewayOptions), privateKey });
}
