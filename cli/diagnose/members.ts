/**
 * The member clusters of a slice as the CLI reaches them: a kubeconfig context named after
 * each member cluster (as the lab's merged kubeconfig has, and as `kubectl config
 * rename-context` makes), the same convention `kubectl slice status` uses. The hub never holds
 * a credential for a member cluster (SPEC §2), so the user's kubeconfig is the only way in.
 */
import type { Values } from '../args.ts';
import { connect, type Kube } from '../kube.ts';

/** A member cluster's connection, or undefined when the kubeconfig has no context for it. */
export type Members = (cluster: string) => Kube | undefined;

/** Members reached with the same kubeconfig flags as the hub (`values`), by context name. */
export function membersOf(values: Values, hub: Kube): Members {
  const made = new Map<string, Kube | undefined>();
  return (cluster) => {
    if (!made.has(cluster))
      made.set(
        cluster,
        hub.kc.getContextObject(cluster) ? connect({ ...values, context: cluster }) : undefined,
      );
    return made.get(cluster);
  };
}

export const NO_CONTEXT_FIX = (cluster: string): string =>
  `add a context named '${cluster}' to the kubeconfig (kubectl config rename-context <ctx> ${cluster}) and run again`;
