/**
 * Names and labels that more than one component derives (SPEC §3.3–§3.5). Each is built in
 * one place, because a name the controller writes and the worker looks for must agree.
 */

/** Namespace label that joins a namespace to a slice; also set on injected pods. */
export const SLICE_LABEL = 'slicenet.dev/slice';

/** Pod label that keeps the webhook from injecting the slice NIC. */
export const EXCLUDE_LABEL = 'slicenet.dev/exclude';

/** The hub namespace holding one cluster's WorkerSlices (the reach of its credential). */
export function clusterNamespace(cluster: string): string {
  return `slicenet-cluster-${cluster}`;
}

/** The NetworkAttachmentDefinition of a slice, in each joined namespace. */
export function nadName(slice: string): string {
  return `slicenet-${slice}`;
}

/**
 * The SliceIPBlock of `cidr` in `slice`, e.g. payments-10-90-0-0-26. The CRD enforces this
 * form, so the API server's name uniqueness keeps two nodes from leasing one block.
 */
export function ipBlockName(slice: string, cidr: string): string {
  return `${slice}-${cidr.replace(/[./]/g, '-')}`;
}

/**
 * The Lease a member cluster's worker renews in its hub namespace, slicenet-cluster-<cluster>,
 * as its heartbeat: the one hub object outside WorkerSlices that its credential may write.
 */
export const HEARTBEAT_LEASE = 'heartbeat';

/** The namespace the controller and worker run in, on the hub and on every member cluster. */
export const SYSTEM_NAMESPACE = 'slicenet-system';

/** Node label that makes a node eligible to run slice gateways (value "true"). */
export const GATEWAY_NODE_LABEL = 'slicenet.dev/gateway';

/** The gateway Deployment of a slice in a member cluster, and its pods' app label. */
export function gatewayDeploymentName(slice: string): string {
  return `slicenet-gateway-${slice}`;
}
export const GATEWAY_APP = 'slicenet-gateway';
