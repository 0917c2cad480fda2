/**
 * The connection a command works through, built the way kubectl builds it: --kubeconfig, else
 * $KUBECONFIG (a list of files, merged), else ~/.kube/config, else in-cluster; then --context.
 * SliceConfigs live in the hub namespace: --hub-namespace, or -n, else slicenet-system.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { dnsLabel, duration, str, type Values } from './args.ts';
import { UnreachableError, UsageError, explainApiError, type ApiEndpoint } from './errors.ts';
import { SlicenetError } from '../lib/errors.ts';

export const DEFAULT_HUB_NAMESPACE = 'slicenet-system';
/** How long one API call may take before the command gives up (`--request-timeout`). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface Kube {
  kc: KubeConfig;
  /** The API server's URL, for messages. */
  server: string;
  /** The URL with the context and cluster that named it, for messages about the connection. */
  at: ApiEndpoint;
  /** Runs an API call, turning its failure into an error the user can act on. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
}

export function connect(values: Values): Kube {
  const timeoutMs = duration(values, 'request-timeout', DEFAULT_REQUEST_TIMEOUT_MS);
  const path = str(values, 'kubeconfig');
  let kc: KubeConfig;
  if (path) kc = loadKubeConfig(path);
  else {
    kc = new KubeConfig();
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new SlicenetError(
        'KUBECONFIG_UNREADABLE',
        `cannot load the kubeconfig ($KUBECONFIG or ~/.kube/config): ${(err as Error).message}`,
      );
    }
  }
  const context = str(values, 'context');
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `--context: no context '${context}' in the kubeconfig (known: ${known.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  const server = cluster?.server;
  if (!server)
    throw new SlicenetError(
      'KUBECONFIG_UNREADABLE',
      'the kubeconfig has no current cluster: pass --kubeconfig or --context',
    );
  const at: ApiEndpoint = { server, context: kc.getCurrentContext(), cluster: cluster.name };
  return {
    kc,
    server,
    at,
    async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      // A server that takes the connection and never answers: give up, naming it (the socket may
      // stay open; main() makes sure it cannot keep the process alive).
      const silent = new Promise<never>((_, reject) => {
        if (timeoutMs === Infinity) return;
        timer = setTimeout(
          () =>
            reject(
              new UnreachableError(
                `${what}: the API server ${server} (context '${at.context}', cluster '${at.cluster}') did not answer ` +
                  `within ${timeoutMs / 1000} s: check that it is up and not overloaded, or raise --request-timeout`,
              ),
            ),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([fn(), silent]);
      } catch (err) {
        throw err instanceof UnreachableError ? err : explainApiError(err, what, at);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function hubNamespace(values: Values): string {
  const ns = str(values, 'hub-namespace') ?? str(values, 'namespace') ?? DEFAULT_HUB_NAMESPACE;
  return dnsLabel(ns, '--hub-namespace/-n: namespace');
}
