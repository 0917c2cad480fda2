/** `kubectl slice register <cluster>` on the hub: see controller/registration.ts for what it creates and why. */
import { chmodSync, writeFileSync } from 'node:fs';
import { dnsLabel, onePositional, str } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { connect, hubNamespace } from '../kube.ts';
import { registerCluster } from '../../controller/registration.ts';

/** A duration like kubectl's --duration: 90m, 24h, 8760h, 3600s. */
function seconds(value: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(value);
  const n = m ? Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'] : 0;
  if (n < 600)
    throw new UsageError(
      `--duration: expected a duration of at least 10m such as 24h or 8760h, got '${value}'`,
    );
  return n;
}

export const register: Command = {
  name: 'register',
  summary: 'Register a member cluster on the hub and print its credential',
  help: `Usage: kubectl slice register <cluster> [--output-kubeconfig FILE] [--duration 8760h] [--server URL]

Run against the hub. Creates the Cluster, the namespace slicenet-cluster-<cluster>, and a
ServiceAccount with a Role in that namespace only; prints (or writes to FILE, mode 0600) the
kubeconfig the cluster's worker uses. Running it again issues a fresh token.

  --output-kubeconfig FILE   write the kubeconfig there instead of printing it
  --duration D               token lifetime, default 8760h (the API server may cap it)
  --server URL               the hub API server as the member cluster reaches it
`,
  flags: {
    'output-kubeconfig': { type: 'string' },
    duration: { type: 'string' },
    server: { type: 'string' },
  },
  async run(p, out) {
    const cluster = dnsLabel(onePositional('register', p, 'cluster'), 'cluster name', 46);
    const tokenSeconds = seconds(str(p.values, 'duration') ?? '8760h');
    const server = str(p.values, 'server');
    if (server !== undefined && !/^https?:\/\/./.test(server))
      throw new UsageError(`--server: expected a URL such as https://hub.example:6443, got '${server}'`);
    const file = str(p.values, 'output-kubeconfig');
    const hub = hubNamespace(p.values);
    const kube = connect(p.values);
    const kubeconfig = await kube
      .call(`registration of cluster '${cluster}' in hub namespace ${hub}`, () =>
        registerCluster(kube.kc, cluster, {
          hubNamespace: hub,
          tokenSeconds,
          fieldManager: 'kubectl-slice',
          ...(server && { server }),
        }),
      )
      .then((r) => r.kubeconfig);
    if (!file) return out(kubeconfig);
    // The file holds a bearer token: owner-only, also when it already existed.
    writeFileSync(file, kubeconfig, { mode: 0o600 });
    chmodSync(file, 0o600);
    out(`cluster/${cluster} registered; worker kubeconfig written to ${file}\n`);
  },
};
