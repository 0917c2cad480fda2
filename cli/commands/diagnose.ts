/**
 * `kubectl slice diagnose <slice>`: every check's verdict, and for each that is not ok the
 * likely cause and the fix. Exit 0 when nothing failed (warnings included), 1 when a check
 * failed (error code CHECKS_FAILED), after the report is printed.
 */
import { dumpYaml } from '@kubernetes/client-node';
import { int, list, output, sliceArg } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { connect, hubNamespace } from '../kube.ts';
import { table } from '../output.ts';
import { CHECKS, diagnose as run, type CheckName } from '../diagnose/diagnose.ts';
import type { Finding } from '../diagnose/types.ts';
import { membersOf } from '../diagnose/members.ts';
import { SlicenetError } from '../../lib/errors.ts';

const VERDICT = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

export function render(slice: string, findings: Finding[]): string {
  const rows = findings.map((f) => [f.check, f.scope, VERDICT[f.verdict], f.detail]);
  const problems = findings
    .filter((f) => f.verdict !== 'ok')
    .map(
      (f) =>
        `${VERDICT[f.verdict]} ${f.check} ${f.scope}: ${f.detail}\n  cause: ${f.cause}\n  fix:   ${f.fix}\n`,
    );
  return [
    table(['CHECK', 'SCOPE', 'VERDICT', 'DETAIL'], rows),
    ...(problems.length ? ['', ...problems] : []),
    summary(slice, findings) + '\n',
  ].join('\n');
}

export function summary(slice: string, findings: Finding[]): string {
  const n = (v: Finding['verdict']): number => findings.filter((f) => f.verdict === v).length;
  return `slice ${slice}: ${n('ok')} ok, ${n('warn')} warning(s), ${n('fail')} failed`;
}

function checksFlag(values: Record<string, string | boolean | undefined>): CheckName[] {
  const names = list(values, 'checks');
  if (!names) return [...CHECKS];
  for (const n of names)
    if (!(CHECKS as readonly string[]).includes(n))
      throw new UsageError(`--checks: unknown check '${n}': use some of ${CHECKS.join(', ')}`);
  return names as CheckName[];
}

export const diagnose: Command = {
  name: 'diagnose',
  summary: 'Check a slice end to end: agents, gateways, MTU, policy, IP blocks, clocks',
  help: `Usage: kubectl slice diagnose <slice> [--checks a,b] [-o table|json|yaml]

Runs each check and prints its verdict (ok, WARN, FAIL), then for each problem its likely
cause and the fix. Exits 0 when no check failed, 1 when one did.

Checks:
  agents     slicenet-agent /readyz on every node of each member cluster (through the API
             server's node proxy: needs get on nodes/proxy)
  gateways   an active gateway per cluster, current, with a tunnel up to every peer cluster
  mtu        DF pings at the slice MTU between slice pods of every two member clusters (inside
             the pod's network namespace on this machine for lab pods, else kubectl exec)
  policy     isolation and MultiNetworkPolicies of the slice, netop ready where slice pods run,
             policies netop refused
  blocks     SliceIPBlocks of each cluster's share: leased, used, orphaned
  clock      each member API server's clock against the hub's; the worker heartbeat's age

Member clusters are reached through kubeconfig contexts named after them (as in the lab).

Flags:
  --checks LIST        only these checks (default: all)
  --agent-port N       the agents' probe port (default 8084)
  --netop-port N       netop's probe port (default 8086)
`,
  flags: {
    checks: { type: 'string' },
    'agent-port': { type: 'string' },
    'netop-port': { type: 'string' },
  },
  async run(p, out) {
    const slice = sliceArg('diagnose', p);
    const fmt = output(p.values);
    const checks = checksFlag(p.values);
    const agentPort = int(p.values, 'agent-port', 1, 65535) ?? 8084;
    const netopPort = int(p.values, 'netop-port', 1, 65535) ?? 8086;
    const hub = hubNamespace(p.values);
    const kube = connect(p.values);
    const d = await run(kube, membersOf(p.values, kube), {
      slice,
      hubNamespace: hub,
      checks,
      agentPort,
      netopPort,
    });
    const doc = { ...d, summary: summary(slice, d.findings) };
    if (fmt === 'json') out(JSON.stringify(doc, null, 2) + '\n');
    else if (fmt === 'yaml') out(dumpYaml(doc));
    else out(render(slice, d.findings));
    const failed = d.findings.filter((f) => f.verdict === 'fail');
    if (failed.length)
      throw new SlicenetError(
        'CHECKS_FAILED',
        `${failed.length} check(s) failed: ${[...new Set(failed.map((f) => `${f.check} ${f.scope}`))].join(', ')}`,
      );
  },
};
