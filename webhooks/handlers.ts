/**
 * The two admission handlers: they read what the review does not carry through narrow lookup
 * interfaces (a namespace's join label; the hub's slices and clusters), then call the pure
 * mutation and validation. Anything they throw is mapped to a status once, in server.ts.
 */
import { SLICE_LABEL } from '../controller/api/names.ts';
import { AdmissionReviewError } from './errors.ts';
import { mutatePod, type PodLike } from './mutate.ts';
import { allow, allowWithPatch, deny, type AdmissionRequest, type AdmissionResponse } from './review.ts';
import { validateSliceConfig, type HubState, type SliceConfigLike } from './validate.ts';

/** Outcome label for `slicenet_webhook_requests_total{result}`. */
export type Result = 'allowed' | 'patched' | 'denied';

export interface Answer {
  response: AdmissionResponse;
  result: Result;
}

export type AdmissionHandler = (req: AdmissionRequest) => Promise<Answer>;

export interface NamespaceLookup {
  /** The namespace's `slicenet.dev/slice` label; undefined if it has none or does not exist. */
  sliceOf(namespace: string): Promise<string | undefined>;
}

export interface HubLookup {
  /** Other slices' subnets and the registered clusters, read fresh for each review. */
  state(): Promise<HubState>;
}

export function podMutator(namespaces: NamespaceLookup): AdmissionHandler {
  return async (req) => {
    if (req.kind.kind !== 'Pod' || req.kind.group !== '' || req.operation !== 'CREATE') {
      return { response: allow(req.uid), result: 'allowed' };
    }
    if (!req.object) throw new AdmissionReviewError('request.object is missing for a Pod CREATE');
    const pod = req.object as PodLike & { metadata?: { namespace?: string } };
    const namespace = req.namespace ?? pod.metadata?.namespace;
    if (!namespace) throw new AdmissionReviewError('request.namespace is missing for a Pod CREATE');
    const outcome = mutatePod(pod, namespace, await namespaces.sliceOf(namespace));
    switch (outcome.kind) {
      case 'skip':
        return { response: allow(req.uid), result: 'allowed' };
      case 'patch':
        return { response: allowWithPatch(req.uid, outcome.patch), result: 'patched' };
      case 'reject':
        return { response: deny(req.uid, 422, outcome.message), result: 'denied' };
    }
  };
}

export function sliceConfigValidator(hub: HubLookup): AdmissionHandler {
  return async (req) => {
    const isSliceConfig = req.kind.kind === 'SliceConfig' && req.kind.group === 'slicenet.dev';
    if (!isSliceConfig || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) {
      return { response: allow(req.uid), result: 'allowed' };
    }
    if (!req.object)
      throw new AdmissionReviewError(`request.object is missing for a SliceConfig ${req.operation}`);
    if (req.operation === 'UPDATE' && !req.oldObject) {
      throw new AdmissionReviewError('request.oldObject is missing for a SliceConfig UPDATE');
    }
    const object = req.object as SliceConfigLike;
    const errors = validateSliceConfig(
      {
        operation: req.operation,
        namespace: req.namespace ?? object.metadata?.namespace ?? '',
        object,
        oldObject: req.oldObject,
      },
      await hub.state(),
    );
    return errors.length === 0
      ? { response: allow(req.uid), result: 'allowed' }
      : { response: deny(req.uid, 422, errors.join('; ')), result: 'denied' };
  };
}

/** The join label of a namespace object, for NamespaceLookup implementations. */
export function sliceLabelOf(
  ns: { metadata?: { labels?: Record<string, string> } } | undefined,
): string | undefined {
  return ns?.metadata?.labels?.[SLICE_LABEL] || undefined;
}
