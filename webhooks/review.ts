/**
 * AdmissionReview v1 in and out (pure). Whatever arrives is untrusted: parseReview checks
 * exactly what the handlers rely on and throws AdmissionReviewError (HTTP 400) otherwise, so a
 * handler never sees a review without a uid or an object.
 */
import { AdmissionReviewError } from './errors.ts';
import type { JsonPatchOp } from './mutate.ts';

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace?: string;
  name?: string;
  object?: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export function parseReview(body: string): AdmissionRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new AdmissionReviewError(`body is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new AdmissionReviewError('body is not a JSON object');
  if (doc.kind !== 'AdmissionReview' || doc.apiVersion !== REVIEW_API_VERSION) {
    throw new AdmissionReviewError(
      `expected kind AdmissionReview, apiVersion ${REVIEW_API_VERSION}; got kind ${str(doc.kind)}, apiVersion ${str(doc.apiVersion)}`,
    );
  }
  const req = doc.request;
  if (!isObject(req)) throw new AdmissionReviewError('AdmissionReview has no request');
  if (typeof req.uid !== 'string' || req.uid === '') {
    throw new AdmissionReviewError('request.uid is missing');
  }
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string') {
    throw new AdmissionReviewError('request.kind is missing or incomplete');
  }
  if (typeof req.operation !== 'string' || !OPERATIONS.has(req.operation)) {
    throw new AdmissionReviewError(`request.operation ${str(req.operation)} is not one Kubernetes sends`);
  }
  for (const f of ['object', 'oldObject'] as const) {
    if (req[f] !== undefined && req[f] !== null && !isObject(req[f])) {
      throw new AdmissionReviewError(`request.${f} is not an object`);
    }
  }
  if (req.namespace !== undefined && typeof req.namespace !== 'string') {
    throw new AdmissionReviewError('request.namespace is not a string');
  }
  return req as unknown as AdmissionRequest;
}

export function reviewOf(response: AdmissionResponse): object {
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response };
}

export const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });

export function allowWithPatch(uid: string, patch: JsonPatchOp[]): AdmissionResponse {
  return {
    uid,
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
  };
}

/** A denial; the API server shows `message` to the user after the webhook's name. */
export function deny(uid: string, code: number, message: string, reason = 'Invalid'): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason, message } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}
