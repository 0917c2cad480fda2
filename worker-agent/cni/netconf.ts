/**
 * The network configuration on stdin: `{"cniVersion","name","type":"slicenet","slice"}` plus
 * optional `agentSocket`, and what the runtime adds (`prevResult`, GC's valid attachments).
 * Fields the plugin does not know are ignored, as the spec allows; `ipam` is refused,
 * because an IPAM plugin would fight the agent's allocator.
 */
import type { Attachment } from '../api.ts';
import { isContainerId, isIfname } from '../api.ts';
import { CniError } from './errors.ts';
import {
  SUPPORTED_VERSIONS,
  highestSupported,
  isSupported,
  missingCommand,
  type CniVersion,
  type Command,
} from './versions.ts';

export interface NetConf {
  cniVersion: CniVersion;
  /** The network name; Multus sets it from the NetworkAttachmentDefinition when the config has none. */
  name: string;
  slice: string;
  /** As configured; `agentSocketPath` applies the defaults. */
  agentSocket?: string;
  prevResult?: Record<string, unknown>;
  /** GC only. */
  validAttachments: Attachment[];
}

export const DEFAULT_AGENT_SOCKET = '/run/slicenet/agent.sock';

const config = (msg: string): CniError => new CniError('INVALID_NETWORK_CONFIG', msg);
const SLICE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The netconf's `agentSocket`, else SLICENET_AGENT_SOCKET (one socket per lab node), else the default. */
export const agentSocketPath = (conf: NetConf, vars: NodeJS.ProcessEnv): string =>
  conf.agentSocket ?? (vars.SLICENET_AGENT_SOCKET || DEFAULT_AGENT_SOCKET);

/** The object on stdin, or a code 5/6 error. */
export function decodeStdin(stdin: string): Record<string, unknown> {
  if (stdin.trim() === '') {
    throw new CniError(
      'DECODING_FAILURE',
      'no network configuration on stdin; the runtime must pass it as JSON',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(
      'DECODING_FAILURE',
      `network configuration on stdin is not JSON: ${(e as Error).message}`,
    );
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CniError('DECODING_FAILURE', 'network configuration on stdin must be a JSON object');
  }
  return raw as Record<string, unknown>;
}

/** `cniVersion`, or the best of a 1.1.0 `cniVersions` list; code 1 when none is supported. */
export function configVersion(raw: Record<string, unknown>): CniVersion {
  const { cniVersion, cniVersions } = raw;
  if (cniVersion === undefined && Array.isArray(cniVersions)) {
    const best = highestSupported(cniVersions);
    if (best) return best;
  }
  if (cniVersion === undefined && cniVersions === undefined) {
    throw config(`cniVersion: required; set it to one of ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (!isSupported(cniVersion)) {
    const asked = cniVersion === undefined ? JSON.stringify(cniVersions) : JSON.stringify(cniVersion);
    throw new CniError(
      'INCOMPATIBLE_VERSION',
      `cniVersion ${asked} is not supported; the slicenet plugin speaks ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  return cniVersion;
}

export function parseNetConf(stdin: string, command: Command): NetConf {
  const raw = decodeStdin(stdin);
  const cniVersion = configVersion(raw);
  const since = missingCommand(cniVersion, command);
  if (since) {
    throw new CniError(
      'INCOMPATIBLE_VERSION',
      `${command} is not part of CNI ${cniVersion}; it needs cniVersion ${since} or later`,
    );
  }
  if (raw.type !== 'slicenet') {
    throw config(
      `type: must be "slicenet", got ${raw.type === undefined ? 'nothing' : JSON.stringify(raw.type)}`,
    );
  }
  const slice = raw.slice;
  if (typeof slice !== 'string' || slice === '') {
    throw config(
      'slice: required; the NetworkAttachmentDefinition must name the slice, e.g. "slice":"payments"',
    );
  }
  if (!SLICE_NAME.test(slice)) {
    throw config(`slice: "${slice}" is not a slice name (lower-case letters, digits and '-', at most 63)`);
  }
  if (raw.name !== undefined && (typeof raw.name !== 'string' || raw.name === '')) {
    throw config('name: must be a non-empty string');
  }
  if (
    raw.agentSocket !== undefined &&
    (typeof raw.agentSocket !== 'string' || !raw.agentSocket.startsWith('/'))
  ) {
    throw config(`agentSocket: must be an absolute path, got ${JSON.stringify(raw.agentSocket)}`);
  }
  if (raw.ipam !== undefined) {
    throw new CniError(
      'UNSUPPORTED_FIELD',
      `ipam: ${JSON.stringify(raw.ipam)} is not supported; slicenet allocates slice addresses itself, remove it`,
    );
  }
  return {
    cniVersion,
    name: raw.name ?? `slicenet-${slice}`,
    slice,
    agentSocket: raw.agentSocket,
    prevResult: prevResult(raw, command),
    validAttachments: command === 'GC' ? validAttachments(raw) : [],
  };
}

function prevResult(raw: Record<string, unknown>, command: Command): Record<string, unknown> | undefined {
  const prev = raw.prevResult;
  if (prev === undefined) {
    if (command === 'CHECK')
      throw config("prevResult: required on CHECK (the runtime passes the ADD's result)");
    return undefined;
  }
  if (typeof prev !== 'object' || prev === null || Array.isArray(prev))
    throw config('prevResult: must be an object');
  return prev as Record<string, unknown>;
}

/**
 * GC's keep-list. libcni sends it as `cni.dev/valid-attachments` and, for plugins written
 * against an early 1.1.0 draft, `cni.dev/attachments`. Without it GC would free every
 * address, so it is required.
 */
function validAttachments(raw: Record<string, unknown>): Attachment[] {
  const key =
    raw['cni.dev/valid-attachments'] !== undefined ? 'cni.dev/valid-attachments' : 'cni.dev/attachments';
  const list = raw[key];
  if (!Array.isArray(list)) {
    throw config(`cni.dev/valid-attachments: required on GC, a list of {containerID, ifname} to keep`);
  }
  return list.map((a: unknown, i) => {
    const { containerID, ifname } = (a ?? {}) as Record<string, unknown>;
    if (typeof containerID !== 'string' || !isContainerId(containerID)) {
      throw config(`${key}[${i}].containerID: must be a container ID, got ${JSON.stringify(containerID)}`);
    }
    if (typeof ifname !== 'string' || !isIfname(ifname)) {
      throw config(`${key}[${i}].ifname: must be an interface name, got ${JSON.stringify(ifname)}`);
    }
    return { containerId: containerID, ifname };
  });
}
