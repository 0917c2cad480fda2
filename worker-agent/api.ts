/**
 * The agent's API as TypeScript: the messages of `proto/agent.proto` in camelCase, and the
 * backend the gRPC server (`agent/server.ts`) calls. The server validates every request
 * before a backend method sees it, so a backend may rely on the field rules below; it
 * reports failures by throwing `AgentError` (`errors.ts`), which the server maps to gRPC
 * status once.
 */

/** One CNI attachment: the key is (networkName, containerId, ifname), as the CNI spec says. */
export interface AttachRequest {
  /** CNI_CONTAINERID: non-empty, `isContainerId`. */
  containerId: string;
  /** CNI_NETNS: an absolute path; empty only on Del (the runtime may have deleted the netns). */
  netns: string;
  /** CNI_IFNAME: `isIfname`, e.g. `slice0`. */
  ifname: string;
  /** The netconf's `slice`: non-empty. */
  slice: string;
  /** The netconf's `name`: non-empty. */
  networkName: string;
  /** K8S_POD_NAMESPACE / K8S_POD_NAME from CNI_ARGS: non-empty on Add and Check. */
  podNamespace: string;
  podName: string;
  /** K8S_POD_UID, when the runtime passed it; else empty. */
  podUid: string;
  /** The CNI spec version the runtime speaks; informational. */
  cniVersion: string;
}

export interface Route {
  /** CIDR. */
  dst: string;
  /** Empty: on-link. */
  gw: string;
}

export interface AttachResult {
  /** The interface made in the pod netns (normally the request's ifname). */
  ifname: string;
  /** Its MAC, lower-case colon form. */
  mac: string;
  /** CIDR with the slice subnet's prefix, e.g. 10.90.64.5/16. */
  address: string;
  routes: Route[];
  mtu: number;
  /** The veth end on the slice bridge, and its MAC; empty if the backend does not say. */
  hostIfname: string;
  hostMac: string;
}

export interface Attachment {
  containerId: string;
  ifname: string;
}

export interface GcRequest {
  networkName: string;
  slice: string;
  /** The attachments the runtime still holds (`cni.dev/valid-attachments`); free every other. */
  valid: Attachment[];
}

/**
 * What the agent does for the CNI plugin. `signal` aborts when the plugin's deadline passes
 * or it hangs up; a backend may stop early then, but must leave its state consistent (the
 * runtime retries an Add only after a Del).
 */
export interface AgentBackend {
  /** Allocate an address and attach the pod; throws NOT_JOINED, UNKNOWN_SLICE, POOL_EXHAUSTED, NOT_READY. */
  add(req: AttachRequest, signal: AbortSignal): Promise<AttachResult>;
  /** Idempotent: an attachment already gone is success; frees the address even without a netns. */
  del(req: AttachRequest, signal: AbortSignal): Promise<void>;
  /** Verify what add made; throws NOT_FOUND (unknown attachment) or CHECK_FAILED (drifted). */
  check(req: AttachRequest, signal: AbortSignal): Promise<void>;
  /** Resolves when ready to serve add; throws NOT_READY with the reason otherwise. */
  status(signal: AbortSignal): Promise<void>;
  /** Free every attachment of `networkName` not in `valid`. */
  gc(req: GcRequest, signal: AbortSignal): Promise<void>;
}

/**
 * Field syntax shared by the plugin (which reports CNI code 4) and the server (which answers
 * INVALID_ARGUMENT), so both refuse the same things. Rules from the CNI spec.
 */
export const isContainerId = (s: string): boolean => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s);

/** Linux IFNAMSIZ is 16 with the NUL: at most 15 bytes, no '/', ':' or whitespace, not '.' or '..'. */
export const isIfname = (s: string): boolean =>
  s.length > 0 && Buffer.byteLength(s) <= 15 && s !== '.' && s !== '..' && !/[/:\s]/.test(s);
