/**
 * What one member cluster's WorkerSlice should say, computed from the SliceConfig, the
 * allocation, and what the other members' workers reported. Pure, so a reconcile is "read,
 * compute this, apply it", and applying the same thing twice is a no-op on the API server.
 */
import { clusterNamespace, SLICE_LABEL } from '../api/names.ts';
import {
  API_VERSION,
  type Peer,
  type ServiceImportSpec,
  type SliceConfig,
  type WorkerSlice,
} from '../api/types.ts';
import { VNI_MIN, type Assignment } from './allocate.ts';

/** Says which SliceConfig a WorkerSlice belongs to; owner references cannot cross namespaces. */
export const OWNER_NAMESPACE_LABEL = 'slicenet.dev/sliceconfig-namespace';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'slicenet-controller' };

/**
 * Bytes the gateway tunnel adds to a slice frame: outer IPv4 (20) + UDP (8) + tunnel header and
 * AEAD tag (32) + the inner Ethernet header (14), rounded up to leave room for options.
 */
export const TUNNEL_OVERHEAD = 80;
const MIN_MTU = 1280;
const DEFAULT_WAN_MTU = 1500;
/** Unset ports are spread from here by VNI, so two slices' gateways on one node do not collide. */
export const GATEWAY_PORT_BASE = 51820;

/** The slice MTU: as configured, else the smallest member WAN MTU less the tunnel overhead. */
export function sliceMtu(sc: SliceConfig, wanMtus: readonly (number | undefined)[]): number {
  if (sc.spec.gateway?.mtu) return sc.spec.gateway.mtu;
  const wan = Math.min(DEFAULT_WAN_MTU, ...wanMtus.map((m) => m ?? DEFAULT_WAN_MTU));
  return Math.max(MIN_MTU, wan - TUNNEL_OVERHEAD);
}

export function gatewayPort(sc: SliceConfig, vni: number): number {
  return sc.spec.gateway?.port ?? GATEWAY_PORT_BASE + ((vni - VNI_MIN) % 10_000);
}

/** What a peer's worker reported, as the other members need it. */
export function peerOf(a: Assignment, reported: WorkerSlice | undefined): Peer {
  const gateways = reported?.status?.gateways ?? [];
  const active = gateways.find((g) => g.active && g.publicKey) ?? gateways.find((g) => g.publicKey);
  const addresses = gateways.flatMap((g) => (g.address ? [g.address] : []));
  const endpoints = reported?.status?.endpoints ?? [];
  return {
    cluster: a.name,
    block: a.subnet,
    ...(active?.publicKey ? { publicKey: active.publicKey } : {}),
    ...(addresses.length ? { gatewayAddresses: addresses } : {}),
    ...(endpoints.length ? { endpoints } : {}),
  };
}

export interface DesiredInput {
  sc: SliceConfig;
  vni: number;
  mtu: number;
  assignments: readonly Assignment[];
  /** Each member's WorkerSlice as last read, for its reported status. */
  reported: ReadonlyMap<string, WorkerSlice>;
  /** The slice's merged imports (imports.ts), the same for every member; unset: none. */
  imports?: readonly ServiceImportSpec[];
}

export function desiredWorkerSlice(input: DesiredInput, self: Assignment): WorkerSlice {
  const { sc, vni, mtu, assignments, reported } = input;
  const slice = sc.metadata.name;
  const gw = sc.spec.gateway ?? {};
  return {
    apiVersion: API_VERSION,
    kind: 'WorkerSlice',
    metadata: {
      name: slice,
      namespace: clusterNamespace(self.name),
      labels: { ...MANAGED_BY, [SLICE_LABEL]: slice, [OWNER_NAMESPACE_LABEL]: sc.metadata.namespace ?? '' },
    },
    spec: {
      cluster: self.name,
      subnet: sc.spec.subnet,
      block: self.subnet,
      vni,
      mtu,
      ...(sc.spec.namespaces ? { namespaces: sc.spec.namespaces } : {}),
      ...(sc.spec.isolation ? { isolation: sc.spec.isolation } : {}),
      ...(sc.spec.qos ? { qos: sc.spec.qos } : {}),
      gateway: {
        cipher: gw.cipher ?? 'chacha20-poly1305',
        replicas: gw.replicas ?? 1,
        port: gatewayPort(sc, vni),
      },
      peers: assignments.filter((a) => a.name !== self.name).map((a) => peerOf(a, reported.get(a.name))),
      imports: [...(input.imports ?? [])],
    },
  };
}
