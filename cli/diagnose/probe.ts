/**
 * A node-local process's /readyz, asked through the member cluster's API server
 * (`GET /api/v1/nodes/<node>:<port>/proxy/readyz`, what `kubectl get --raw` does): the agent
 * and netop run on the host network of every node, so the API server reaches them at the
 * node's address, while the user's machine often cannot (in the lab nothing of the clusters is
 * reachable from the root network namespace). Needs `get` on `nodes/proxy`. A lab node is
 * asked from inside its network namespace instead (lab.ts says why).
 */
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { runRaw } from '../../lib/exec.ts';
import type { Kube } from '../kube.ts';
import { labNodeNetns } from './lab.ts';

export interface ProbeResult {
  ready: boolean;
  /** Why not: the process's own reason (its 503 body), or why the API server could not reach it. */
  reason?: string;
}

const TIMEOUT_MS = 8000;

function bodyText(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  try {
    const status = JSON.parse(text) as { message?: string };
    if (status.message) return status.message;
  } catch {
    // not a Status object: the process's own text
  }
  return text.trim();
}

/** Shortens the API server's proxy errors to what a user recognizes. */
export function proxyReason(code: number, body: unknown): string {
  const text = bodyText(body);
  if (/connection refused/.test(text))
    return 'nothing listens on the port (connection refused): the process is not running';
  if (/i\/o timeout|no route to host|context deadline/i.test(text))
    return `the node does not answer (${text})`;
  if (code === 403) return `forbidden: the kubeconfig's user may not get nodes/proxy (${text})`;
  return `HTTP ${code}: ${text || 'no message'}`;
}

/** /readyz from inside a lab node's network namespace, with curl. */
async function probeInNetns(netns: string, port: number): Promise<ProbeResult> {
  const r = await runRaw(
    [
      'curl',
      '-s',
      '-m',
      String(TIMEOUT_MS / 1000),
      '-w',
      '\n%{http_code}',
      `http://127.0.0.1:${port}/readyz`,
    ],
    { netns, timeoutMs: TIMEOUT_MS + 2000 },
  );
  if (r.exitCode === 7) return { ready: false, reason: proxyReason(503, 'connection refused') };
  if (r.exitCode !== 0) return { ready: false, reason: `no answer (curl exit ${r.exitCode})` };
  const lines = r.stdout.trimEnd().split('\n');
  const code = Number(lines.pop());
  return code === 200 ? { ready: true } : { ready: false, reason: proxyReason(code, lines.join('\n')) };
}

export async function probeNode(kube: Kube, node: string, port: number): Promise<ProbeResult> {
  const netns = labNodeNetns(kube.server, node);
  if (netns) return probeInNetns(netns, port);
  const core = kube.kc.makeApiClient(CoreV1Api);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ready: false, reason: `no answer within ${TIMEOUT_MS / 1000} s` }),
      TIMEOUT_MS,
    );
  });
  const ask = core.connectGetNodeProxyWithPath({ name: `${node}:${port}`, path: 'readyz' }).then(
    (): ProbeResult => ({ ready: true }),
    (err: unknown): ProbeResult => {
      if (err instanceof ApiException) return { ready: false, reason: proxyReason(err.code, err.body) };
      return { ready: false, reason: (err as Error).message };
    },
  );
  try {
    return await Promise.race([ask, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
