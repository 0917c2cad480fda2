/**
 * Small helpers around @kubernetes/client-node shared by every Slicenet process that talks to
 * an API server: load a kubeconfig from a path, tell API errors apart by HTTP status, and
 * send patches with the right content type (client-node v2 sends JSON Patch unless told).
 */
import { ApiException, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { SlicenetError } from '../errors.ts';

export class KubeconfigError extends SlicenetError {
  constructor(path: string, cause: unknown) {
    super(
      'KUBECONFIG_UNREADABLE',
      `cannot load kubeconfig ${path}: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** Loads a kubeconfig file; throws KubeconfigError naming the file if it is missing or bad. */
export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeconfigError(path, err);
  }
  if (!kc.getCurrentCluster()) throw new KubeconfigError(path, new Error('no current cluster'));
  return kc;
}

/** The HTTP status of a failed API call, or undefined for network and other errors. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;

/** Request options that make a client-node `patch*` call send a JSON merge patch. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Request options that make a client-node `patch*` call send a strategic merge patch. */
export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** A Kubernetes `Time` (RFC 3339, whole seconds), as the API server writes it. */
export function kubeTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A Kubernetes `MicroTime`. The API server parses it with exactly six fractional digits, so
 * the three that Date.toISOString gives are refused: a Date in a MicroTime field fails.
 */
export function kubeMicroTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
