/**
 * The pod mutation (SPEC §3.5, §4) as a pure function: from the pod being created and its
 * namespace's join label to the JSON Patch that puts the pod on the slice.
 *
 * It must be idempotent: with `reinvocationPolicy: IfNeeded` the API server may call it again
 * after other webhooks ran, on the pod it already patched, and a second entry for the same
 * network would make Multus attach the slice twice. So every step first checks whether the
 * pod already has what the step would add, and a pod that has everything gets no patch.
 */
import { EXCLUDE_LABEL, SLICE_LABEL, nadName } from '../controller/api/names.ts';
import {
  NETWORKS_ANNOTATION,
  formatNetworks,
  parseNetworks,
  selects,
  type NetworkEntry,
} from './networks.ts';

/** The interface name the slice NIC gets in every pod. */
export const SLICE_INTERFACE = 'slice0';

/** The parts of a Pod the mutation reads. */
export interface PodLike {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { hostNetwork?: boolean };
}

export interface JsonPatchOp {
  op: 'add' | 'replace';
  path: string;
  value: unknown;
}

export type MutationResult =
  | { kind: 'skip'; reason: string }
  | { kind: 'patch'; slice: string; patch: JsonPatchOp[] }
  /** The pod cannot be put on the slice without losing what the user wrote. */
  | { kind: 'reject'; message: string };

/**
 * @param pod the pod as submitted
 * @param podNamespace the namespace it is created in (the review's `request.namespace`)
 * @param slice the namespace's `slicenet.dev/slice` label, undefined if it has none
 */
export function mutatePod(pod: PodLike, podNamespace: string, slice: string | undefined): MutationResult {
  if (!slice) return { kind: 'skip', reason: 'namespace not joined' };
  if (pod.spec?.hostNetwork === true) return { kind: 'skip', reason: 'host network' };
  const labels = pod.metadata?.labels;
  if (labels?.[EXCLUDE_LABEL] === 'true') return { kind: 'skip', reason: 'excluded' };

  const annotations = pod.metadata?.annotations;
  const existing = annotations?.[NETWORKS_ANNOTATION] ?? '';
  let entries: NetworkEntry[];
  try {
    entries = parseNetworks(existing);
  } catch (err) {
    return {
      kind: 'reject',
      message:
        `${(err as Error).message}; the pod joins slice "${slice}" and the webhook will not drop ` +
        `networks it cannot read: fix the annotation, or label the pod ${EXCLUDE_LABEL}=true`,
    };
  }

  const patch: JsonPatchOp[] = [];
  if (!pod.metadata) patch.push({ op: 'add', path: '/metadata', value: {} });
  const network = nadName(slice);
  if (!selects(entries, network, podNamespace)) {
    const value = formatNetworks([...entries, { name: network, interface: SLICE_INTERFACE }]);
    patch.push(setMapEntry('annotations', annotations, NETWORKS_ANNOTATION, value));
  }
  if (labels?.[SLICE_LABEL] !== slice) patch.push(setMapEntry('labels', labels, SLICE_LABEL, slice));
  return patch.length === 0
    ? { kind: 'skip', reason: 'already on the slice' }
    : { kind: 'patch', slice, patch };
}

/** Sets `key` in metadata.labels or metadata.annotations, creating the map if the pod has none. */
function setMapEntry(
  map: 'labels' | 'annotations',
  current: Record<string, string> | undefined,
  key: string,
  value: string,
): JsonPatchOp {
  if (current === undefined || current === null) {
    return { op: 'add', path: `/metadata/${map}`, value: { [key]: value } };
  }
  const path = `/metadata/${map}/${escapePointer(key)}`;
  return { op: key in current ? 'replace' : 'add', path, value };
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1`, in that order. */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
