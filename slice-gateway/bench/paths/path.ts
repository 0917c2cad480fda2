/**
 * A path under test: how to bring its tunnel up on a freshly built topology. Processes it
 * starts go into the shared ProcessTable, so the runner stops them by PID; whatever the path
 * adds to the namespaces goes with them.
 */
import type { ProcessTable } from '../../../lab/process.ts';
import type { PathName } from '../config.ts';
import type { Layout, Topology } from '../topology.ts';

export interface PathContext {
  procs: ProcessTable;
  /** A private temporary directory for configs, keys and logs, removed after the run. */
  dir: string;
  /** The repository root. */
  repo: string;
}

export interface BenchPath {
  name: PathName;
  /** Short, for namespace names (≤ 3 characters). */
  tag: string;
  /** What it is, for the human-readable lines. */
  label: string;
  layout: Layout;
  /** Brings the path up; resolves once it is configured (the runner then waits for a ping). */
  up(topo: Topology, ctx: PathContext): Promise<void>;
}
