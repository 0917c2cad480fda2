/**
 * The lab kubelet's one config file, written by the lab for each node. It is validated in
 * full before anything starts, and a bad field is named in the error, so a mistake in the
 * lab shows up as one clear line rather than as a half-started node.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { SlicenetError } from '../../lib/errors.ts';

export class KubeletConfigError extends SlicenetError {
  constructor(field: string, message: string) {
    super('KUBELET_BAD_CONFIG', `kubelet config: ${field}: ${message}`);
  }
}

export interface KubeletConfig {
  /** The Node's name; also the user of `kubeconfig` (system:node:<nodeName>). */
  nodeName: string;
  /** The node's address on its cluster LAN: the Node's InternalIP and every pod's hostIP. */
  nodeIp: string;
  /** Prefixes every pod network namespace, so several labs can share the machine. */
  labName: string;
  /** The kubelet's own identity (Node authorizer, NodeRestriction). */
  kubeconfig: string;
  /** Handed to Multus; also used to watch all Nodes for routes, which a node may not. */
  multusKubeconfig: string;
  /** CNI_PATH: holds multus and the reference plugins. */
  cniBinDir: string;
  /** Everything this node writes: CNI config, IPAM state, pod state and logs. */
  stateDir: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LAB_NAME = /^[a-z][a-z0-9]{0,7}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

type Check = (v: string) => string | undefined;

const absolutePath: Check = (v) => (isAbsolute(v) ? undefined : `"${v}" must be an absolute path`);

const FIELDS: Record<keyof KubeletConfig, Check> = {
  nodeName: (v) =>
    DNS_SUBDOMAIN.test(v) && v.length <= 253 ? undefined : `"${v}" is not a valid node name (DNS subdomain)`,
  nodeIp: (v) => (IPV4.test(v) ? undefined : `"${v}" is not an IPv4 address`),
  labName: (v) =>
    LAB_NAME.test(v) ? undefined : `"${v}" must be 1-8 lowercase letters or digits, starting with a letter`,
  kubeconfig: absolutePath,
  multusKubeconfig: absolutePath,
  cniBinDir: absolutePath,
  stateDir: absolutePath,
};

/** Checks a parsed config; throws KubeletConfigError naming the first bad field. */
export function validateConfig(raw: unknown): KubeletConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KubeletConfigError('(file)', 'must be a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(key in FIELDS))
      throw new KubeletConfigError(key, `unknown field; allowed: ${Object.keys(FIELDS).join(', ')}`);
  }
  for (const [field, check] of Object.entries(FIELDS)) {
    const v = obj[field];
    if (v === undefined) throw new KubeletConfigError(field, 'is required');
    if (typeof v !== 'string') throw new KubeletConfigError(field, 'must be a string');
    const problem = check(v);
    if (problem) throw new KubeletConfigError(field, problem);
  }
  return obj as unknown as KubeletConfig;
}

export function loadConfig(path: string): KubeletConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KubeletConfigError('(file)', `cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KubeletConfigError('(file)', `${path} is not JSON: ${(err as Error).message}`);
  }
  return validateConfig(raw);
}
