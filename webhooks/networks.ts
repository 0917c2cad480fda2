/**
 * The Multus `k8s.v1.cni.cncf.io/networks` pod annotation, read the way Multus reads it, so
 * the webhook keeps every entry a user wrote and never turns a working annotation into one
 * Multus would refuse.
 *
 * Multus takes the value as JSON when it contains any of `[`, `{` or `"`, and then it must be
 * a list of objects with a `name`; otherwise it is the short form, a comma-separated list of
 * `[namespace/]name[@interface]`, each part a DNS-1123 label. JSON entries are kept verbatim
 * (they may carry `ips`, `mac`, `cni-args` and fields this code does not know).
 */
import { SlicenetError } from '../lib/errors.ts';

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

/** One network selection element; only the fields the webhook reads are typed. */
export interface NetworkEntry {
  name: string;
  namespace?: string;
  interface?: string;
  [field: string]: unknown;
}

export class NetworksAnnotationError extends SlicenetError {
  constructor(why: string) {
    super('NETWORKS_ANNOTATION_MALFORMED', `metadata.annotations["${NETWORKS_ANNOTATION}"]: ${why}`);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True when Multus would read `value` as JSON rather than the short form. */
export function isJsonForm(value: string): boolean {
  return /[[{"]/.test(value);
}

/** Parses the annotation; throws NetworksAnnotationError saying what Multus would refuse. */
export function parseNetworks(value: string): NetworkEntry[] {
  if (value.trim() === '') return [];
  return isJsonForm(value) ? parseJson(value) : parseShort(value);
}

function parseJson(value: string): NetworkEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new NetworksAnnotationError(`not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) {
    throw new NetworksAnnotationError('the JSON form must be a list of network objects, [{"name": ...}]');
  }
  return parsed.map((e: unknown, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      throw new NetworksAnnotationError(`entry ${i} is not an object`);
    }
    const entry = e as Record<string, unknown>;
    if (typeof entry.name !== 'string' || entry.name === '') {
      throw new NetworksAnnotationError(`entry ${i} has no "name"`);
    }
    for (const f of ['namespace', 'interface'] as const) {
      if (entry[f] !== undefined && typeof entry[f] !== 'string') {
        throw new NetworksAnnotationError(`entry ${i}: "${f}" must be a string`);
      }
    }
    return entry as NetworkEntry;
  });
}

function parseShort(value: string): NetworkEntry[] {
  return value.split(',').map((raw, i) => {
    const item = raw.trim();
    if (item === '') throw new NetworksAnnotationError(`entry ${i} of "${value}" is empty`);
    const slash = item.split('/');
    if (slash.length > 2) throw new NetworksAnnotationError(`"${item}" has more than one "/"`);
    const [namespace, rest] = slash.length === 2 ? [slash[0]!.trim(), slash[1]!] : [undefined, slash[0]!];
    const at = rest.split('@');
    if (at.length > 2) throw new NetworksAnnotationError(`"${item}" has more than one "@"`);
    const name = at[0]!.trim();
    const iface = at[1]?.trim();
    for (const part of [namespace, name, iface]) {
      if (part !== undefined && !DNS_LABEL.test(part)) {
        throw new NetworksAnnotationError(
          `"${part}" in "${item}" is not a DNS-1123 label (lower-case letters, digits and "-")`,
        );
      }
    }
    const entry: NetworkEntry = { name };
    if (namespace !== undefined) entry.namespace = namespace;
    if (iface !== undefined) entry.interface = iface;
    return entry;
  });
}

/** The JSON form Multus reads; short-form entries become `{name, namespace?, interface?}`. */
export function formatNetworks(entries: NetworkEntry[]): string {
  return JSON.stringify(entries);
}

/** True if `entries` already selects network `name` of `podNamespace`. */
export function selects(entries: NetworkEntry[], name: string, podNamespace: string): boolean {
  return entries.some((e) => e.name === name && (e.namespace ?? podNamespace) === podNamespace);
}
