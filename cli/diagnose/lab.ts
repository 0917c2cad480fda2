/**
 * Lab clusters on this machine (SPEC §10). The lab's API servers serve the usual node proxy,
 * but they resolve a node by its Hostname address first, and the lab's node names are not in
 * any DNS, so `nodes/<node>:<port>/proxy` cannot reach a lab node. A lab cluster is recognized
 * by its kubeconfig server, `https://127.0.0.1:<port>`, which the lab's own records
 * (`<lab dir>/clusters.json`) name; the node's network namespace comes from the lab's plan.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabPaths, labsRoot } from '../../lab/paths.ts';
import type { LabPlan } from '../../lab/plan.ts';

/** The network namespace of `node` when `server` is a lab cluster's API server here. */
export function labNodeNetns(server: string, node: string): string | undefined {
  const m = /^https:\/\/127\.0\.0\.1:(\d+)\/?$/.exec(server);
  if (!m) return undefined;
  const port = Number(m[1]);
  let labs: string[];
  try {
    labs = readdirSync(labsRoot());
  } catch {
    return undefined;
  }
  for (const lab of labs) {
    const paths = new LabPaths(lab);
    try {
      const state = JSON.parse(readFileSync(join(paths.dir, 'clusters.json'), 'utf8')) as Record<
        string,
        { localPort: number }
      >;
      const cluster = Object.entries(state).find(([, s]) => s.localPort === port)?.[0];
      if (!cluster) continue;
      const plan = JSON.parse(readFileSync(paths.planFile, 'utf8')) as LabPlan;
      const netns = plan.clusters.find((c) => c.name === cluster)?.nodes.find((n) => n.name === node)?.netns;
      return netns && existsSync(`/run/netns/${netns}`) ? netns : undefined;
    } catch {
      // a lab being built or torn down: not this one
    }
  }
  return undefined;
}
