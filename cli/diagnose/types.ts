/**
 * What every diagnose check returns: findings, each a verdict on one thing in one place (a
 * cluster, a node, a pair of clusters) and, when it is not ok, the likely cause and the fix.
 */

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  /** The check: agents, gateways, mtu, policy, blocks, clock. */
  check: string;
  /** Where: a cluster (`c1`), a node (`c1/c1-n1`) or a path (`c1 → c2`). */
  scope: string;
  verdict: Verdict;
  /** What was seen. */
  detail: string;
  /** Not ok: what most likely causes it. */
  cause?: string;
  /** Not ok: what to do about it. */
  fix?: string;
}

export const ok = (check: string, scope: string, detail: string): Finding => ({
  check,
  scope,
  verdict: 'ok',
  detail,
});

export function notOk(
  verdict: 'warn' | 'fail',
  check: string,
  scope: string,
  detail: string,
  cause: string,
  fix: string,
): Finding {
  return { check, scope, verdict, detail, cause, fix };
}

/** The worst verdict of `findings` ('ok' when there are none). */
export function worst(findings: readonly Finding[]): Verdict {
  if (findings.some((f) => f.verdict === 'fail')) return 'fail';
  return findings.some((f) => f.verdict === 'warn') ? 'warn' : 'ok';
}
