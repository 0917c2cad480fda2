/**
 * The Slicenet API (group slicenet.dev, version v1alpha1) as TypeScript types, shared by the
 * controller, the worker, the webhook and the CLI. The CRD manifests in crds/ are the
 * authority; these types follow them field by field (SPEC §3).
 *
 * Objects read from the API server have every default applied, but the types keep defaulted
 * fields optional, because objects a user or a test builds do not. Timestamps are RFC 3339
 * strings, as they arrive in plain JSON.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition } from '../../lib/kube/conditions.ts';

export const GROUP = 'slicenet.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Where each kind lives, for informer paths and API calls. */
export const resources = {
  SliceConfig: { kind: 'SliceConfig', plural: 'sliceconfigs', namespaced: true },
  Cluster: { kind: 'Cluster', plural: 'clusters', namespaced: true },
  WorkerSlice: { kind: 'WorkerSlice', plural: 'workerslices', namespaced: true },
  Slice: { kind: 'Slice', plural: 'slices', namespaced: false },
  SliceIPBlock: { kind: 'SliceIPBlock', plural: 'sliceipblocks', namespaced: false },
} as const;

export type Kind = keyof typeof resources;

/** Condition types used on Slicenet objects. */
export const Conditions = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  Registered: 'Registered',
  Healthy: 'Healthy',
} as const;

export interface SlicenetObject<K extends Kind, Spec, Status> extends KubernetesObject {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: V1ObjectMeta & { name: string };
  spec: Spec;
  status?: Status;
}

/** The DSCP classes a slice's tunnel traffic can carry (SPEC §3.1), as the CRD enumerates them. */
// prettier-ignore
export const DSCP_CLASSES = [
  'Default', 'AF11', 'AF12', 'AF13', 'AF21', 'AF22', 'AF23', 'AF31', 'AF32', 'AF33', 'AF41', 'AF42', 'AF43',
  'CS1', 'CS2', 'CS3', 'CS4', 'CS5', 'CS6', 'CS7', 'EF',
] as const;
export type Dscp = (typeof DSCP_CLASSES)[number];

export const CIPHERS = ['chacha20-poly1305', 'aes-256-gcm'] as const;
export type Cipher = (typeof CIPHERS)[number];

/** A namespace allowed on the slice, in the clusters named or in every member cluster (["*"], the default). */
export interface NamespaceRule {
  namespace: string;
  clusters?: string[];
}

export interface Isolation {
  enabled?: boolean;
  allowedNamespaces?: NamespaceRule[];
}

export interface QoS {
  guaranteedKbps: number;
  ceilingKbps: number;
  /** 0 highest, 7 lowest; default 3. */
  priority?: number;
  /** Default "Default". */
  dscp?: Dscp;
}

// ---- SliceConfig (hub, namespaced) ----------------------------------------------------------

export interface GatewayConfig {
  /** Default chacha20-poly1305. */
  cipher?: Cipher;
  /** Default 1. */
  replicas?: 1 | 2;
  /** Unset: the controller assigns one. */
  port?: number;
  /** Unset: derived from the WAN MTU less the tunnel overhead. */
  mtu?: number;
}

export interface SliceConfigSpec {
  /** IPv4, private, /8–/22. Immutable. */
  subnet: string;
  /** 2–64, default 16. Immutable. */
  maxClusters?: number;
  clusters?: string[];
  /** Empty: any namespace with the join label. */
  namespaces?: NamespaceRule[];
  isolation?: Isolation;
  qos?: QoS;
  gateway?: GatewayConfig;
}

/**
 * Pending: the cluster's worker has not reported yet. Connecting: tunnels to some peers are not
 * up. Ready: everything up. Degraded: it was up and something failed. Leaving: being removed.
 */
export type ClusterPhase = 'Pending' | 'Connecting' | 'Ready' | 'Degraded' | 'Leaving';

export interface SliceClusterStatus {
  name: string;
  /** The cluster's block of the slice subnet. */
  subnet?: string;
  phase?: ClusterPhase;
  gatewaysConnected?: number;
  /** How many slice endpoints the cluster has. */
  endpoints?: number;
}

export interface SliceConfigStatus {
  /** Allocated by the controller, unique among all SliceConfigs, kept for the slice's life. */
  vni?: number;
  /** Ready, Progressing, Degraded. */
  conditions?: Condition[];
  clusters?: SliceClusterStatus[];
}

export type SliceConfig = SlicenetObject<'SliceConfig', SliceConfigSpec, SliceConfigStatus>;

// ---- Cluster (hub, namespaced) --------------------------------------------------------------

export interface ClusterSpec {
  /** 576–9216, default 1500. */
  wanMtu?: number;
}

export interface ClusterStatus {
  /** Registered, Healthy. */
  conditions?: Condition[];
  gatewayAddresses?: string[];
  lastHeartbeatTime?: string;
  /** "n/m": ready agents out of nodes. */
  agentsReady?: string;
}

export type Cluster = SlicenetObject<'Cluster', ClusterSpec, ClusterStatus>;

// ---- WorkerSlice (hub, in slicenet-cluster-<cluster>) and Slice (member, cluster-scoped) ----

/** A pod on the slice. */
export interface Endpoint {
  ip: string;
  mac?: string;
  namespace: string;
  pod: string;
  labels?: Record<string, string>;
}

export interface Peer {
  cluster: string;
  /** The peer's share of the subnet. */
  block: string;
  /** The peer gateway's static X25519 public key, base64; unset until the peer reported it. */
  publicKey?: string;
  /** host:port of each of the peer's gateways. */
  gatewayAddresses?: string[];
  endpoints?: Endpoint[];
}

export interface SliceGateway {
  cipher: Cipher;
  replicas: 1 | 2;
  port: number;
}

export interface SliceSpec {
  /** The member cluster this copy is for. */
  cluster: string;
  subnet: string;
  /** This cluster's share of the subnet. */
  block: string;
  vni: number;
  mtu: number;
  namespaces?: NamespaceRule[];
  isolation?: Isolation;
  qos?: QoS;
  gateway: SliceGateway;
  peers?: Peer[];
  /** WorkerSlice only (the worker does not copy it into the Slice): the slice's imported services. */
  imports?: ServiceImportSpec[];
}

/** One peer cluster's tunnel, as the gateway that carries it sees it. */
export interface GatewayPeerStatus {
  cluster: string;
  connected: boolean;
  /** Where the peer's active gateway is reached now, host:port. */
  endpoint?: string;
  /** When the current session's handshake completed (RFC 3339). */
  lastHandshakeTime?: string;
  /** Its age when this status was written. */
  handshakeAgeSeconds?: number;
  /** Round-trip time of the tunnel, milliseconds. */
  rttMs?: number;
  txBytes?: number;
  rxBytes?: number;
}

export interface GatewayStatus {
  /** The gateway pod. */
  name: string;
  node?: string;
  /** host:port it listens on. */
  address?: string;
  publicKey?: string;
  active?: boolean;
  /** Per peer cluster, written by the active replica. */
  peers?: GatewayPeerStatus[];
  /** When the gateway last wrote this entry (RFC 3339). */
  lastUpdateTime?: string;
}

// ---- Multi-Cluster Services through the hub (controller/README.md, "Exports and imports") ---

export type ServiceImportType = 'ClusterSetIP' | 'Headless';
export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

/** A port of an exported service (Service spec.ports) or of an endpoint (EndpointSlice ports). */
export interface ServicePort {
  name?: string;
  /** Default TCP. */
  protocol?: PortProtocol;
  port: number;
  appProtocol?: string;
}

/** One backend of an exported service, by its slice address. */
export interface ExportEndpoint {
  /** The pod's slice0 address. */
  ip: string;
  /** The EndpointSlice's hostname, else the pod's name. */
  hostname?: string;
  ready: boolean;
  /** The endpoint's own ports (its EndpointSlice's); clusters may number them differently. */
  ports?: ServicePort[];
}

/** A ServiceExport of this cluster, as its worker reports it in WorkerSlice.status.exports. */
export interface ServiceExportReport {
  namespace: string;
  name: string;
  type: ServiceImportType;
  ports: ServicePort[];
  /** The ServiceExport's creationTimestamp: the oldest export wins a conflict (MCS). */
  exportedAt: string;
  endpoints: ExportEndpoint[];
}

/** Why a cluster's export is in conflict with another cluster's export of the same service. */
export interface ImportConflict {
  cluster: string;
  reason: 'PortConflict' | 'TypeConflict';
  message: string;
}

/** A service exported somewhere in the slice, merged by the hub, in every member's WorkerSlice.spec.imports. */
export interface ServiceImportSpec {
  namespace: string;
  name: string;
  type: ServiceImportType;
  /** The union of the exporters' ports; of conflicting definitions, the oldest export's. */
  ports: ServicePort[];
  /** Every exporting cluster with its endpoints, by cluster name. */
  clusters: { cluster: string; endpoints: ExportEndpoint[] }[];
  conflicts: ImportConflict[];
}

export interface SliceStatus {
  /** The spec generation the cluster has put in place. */
  observedGeneration?: number;
  conditions?: Condition[];
  gateways?: GatewayStatus[];
  endpoints?: Endpoint[];
  /** WorkerSlice only: this cluster's valid ServiceExports in the slice's namespaces. */
  exports?: ServiceExportReport[];
}

export type WorkerSlice = SlicenetObject<'WorkerSlice', SliceSpec, SliceStatus>;
export type Slice = SlicenetObject<'Slice', SliceSpec, SliceStatus>;

// ---- SliceIPBlock (member, cluster-scoped) --------------------------------------------------

export interface SliceIPBlockSpec {
  slice: string;
  node: string;
  cidr: string;
}

export interface SliceIPBlockStatus {
  allocated?: number;
}

export type SliceIPBlock = SlicenetObject<'SliceIPBlock', SliceIPBlockSpec, SliceIPBlockStatus>;
