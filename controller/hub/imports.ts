/**
 * The slice's imported services, merged from what each member reported in
 * `WorkerSlice.status.exports`. Pure: the SliceConfig reconciler computes it once and puts the
 * same list in every member's `spec.imports`.
 *
 * Merging follows the Multi-Cluster Services API (KEP-1645): a service is the union of its
 * exports, and where exports disagree on something that cannot be merged, the oldest export
 * (ServiceExport creationTimestamp; cluster name breaks a tie) wins and every export involved
 * gets a conflict to show in its `Conflict` condition:
 * - type: ClusterSetIP or Headless, the oldest export's;
 * - ports, keyed by name: a port named in several exports with another protocol or number is
 *   the oldest export's; a port only some exports have is added (union).
 * Endpoints are never dropped by a conflict: each carries its own port numbers.
 */
import type {
  ImportConflict,
  ServiceExportReport,
  ServiceImportSpec,
  ServicePort,
  WorkerSlice,
} from '../api/types.ts';

interface Export {
  cluster: string;
  report: ServiceExportReport;
}

/** `reported`: each member cluster's WorkerSlice; only `members` count. */
export function mergeImports(
  reported: ReadonlyMap<string, WorkerSlice>,
  members: readonly string[],
): ServiceImportSpec[] {
  const byService = new Map<string, Export[]>();
  for (const cluster of members) {
    for (const report of reported.get(cluster)?.status?.exports ?? []) {
      const key = `${report.namespace}/${report.name}`;
      const list = byService.get(key) ?? [];
      list.push({ cluster, report });
      byService.set(key, list);
    }
  }
  return [...byService.keys()].sort().map((key) => mergeService(byService.get(key)!));
}

const protocol = (p: ServicePort): string => p.protocol ?? 'TCP';
const describe = (p: ServicePort): string => `${protocol(p)}/${p.port}`;

function mergeService(exports: Export[]): ServiceImportSpec {
  const ordered = [...exports].sort(
    (a, b) => time(a.report.exportedAt) - time(b.report.exportedAt) || (a.cluster < b.cluster ? -1 : 1),
  );
  const first = ordered[0]!;
  const ports: ServicePort[] = first.report.ports.map((p) => ({ ...p }));
  const problems = new Map<string, { reason: ImportConflict['reason']; text: string[] }>();
  const note = (cluster: string, reason: ImportConflict['reason'], text: string): void => {
    const p = problems.get(cluster) ?? { reason, text: [] };
    if (reason === 'TypeConflict') p.reason = reason;
    p.text.push(text);
    problems.set(cluster, p);
  };
  for (const { cluster, report } of ordered.slice(1)) {
    if (report.type !== first.report.type) {
      const text = `type ${report.type} in ${cluster}, ${first.report.type} in ${first.cluster}`;
      note(cluster, 'TypeConflict', text);
      note(first.cluster, 'TypeConflict', text);
    }
    for (const p of report.ports) {
      const name = p.name ?? '';
      const have = ports.find((q) => (q.name ?? '') === name);
      if (!have) {
        ports.push({ ...p });
        continue;
      }
      if (protocol(have) === protocol(p) && have.port === p.port) continue;
      const owner = ownerOf(ordered, name, have);
      const text = `port "${name}" is ${describe(p)} in ${cluster}, ${describe(have)} in ${owner}`;
      note(cluster, 'PortConflict', text);
      note(owner, 'PortConflict', text);
    }
  }
  const conflicts: ImportConflict[] = [...problems.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([cluster, p]) => ({
      cluster,
      reason: p.reason,
      message: `${p.text.join('; ')}: the oldest export, ${first.cluster}'s, decides${
        cluster === first.cluster ? '' : `, so this cluster's definition is not imported`
      }`,
    }));
  return {
    namespace: first.report.namespace,
    name: first.report.name,
    type: first.report.type,
    ports,
    clusters: [...exports]
      .sort((a, b) => (a.cluster < b.cluster ? -1 : 1))
      .map((e) => ({ cluster: e.cluster, endpoints: e.report.endpoints })),
    conflicts,
  };
}

/** The cluster whose export brought port `name` into the union: the oldest that has it. */
function ownerOf(ordered: readonly Export[], name: string, port: ServicePort): string {
  return (
    ordered.find((e) =>
      e.report.ports.some(
        (q) => (q.name ?? '') === name && q.port === port.port && protocol(q) === protocol(port),
      ),
    )?.cluster ?? ordered[0]!.cluster
  );
}

function time(t: string): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}
