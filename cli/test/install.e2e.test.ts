/**
 * `kubectl slice install` against a real API server (a one-node lab): the rendered hub and
 * worker manifests pass a server-side dry run — schema, RBAC escalation checks, admission — both
 * through `--dry-run=server` and piped into `kubectl apply --dry-run=server -f -`, and persist
 * nothing; then `install hub --apply` really applies, twice (idempotent), and each account has
 * the rights its process uses and not the ones it does not (kubectl auth can-i --as).
 */
import anyTest, { type TestFn } from 'ava';
import { Lab } from '../../lab/lab.ts';
import { binPath } from '../../lab/paths.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { runRaw } from '../../lib/exec.ts';
import { runInstall } from './install-helpers.ts';
import { tokenKubeconfig } from './run.ts';

const test = anyTest as TestFn<{ lab: Lab; kubeconfig: string; hubKubeconfig: string }>;
const NS = 'slicenet-system';

test.before(async (t) => {
  const lab = await Lab.up({ name: testLabName('op'), clusters: 1, nodes: 1 });
  t.context = { lab, kubeconfig: lab.kubeconfig('c1'), hubKubeconfig: '' };
  // A dry run cannot check objects in a namespace that does not exist.
  await lab.kubectl('c1', ['create', 'namespace', NS]);
  const hubKubeconfig = tokenKubeconfig('https://198.18.1.2:6443', {
    context: 'c',
    namespace: 'slicenet-cluster-c1',
  });
  t.context.hubKubeconfig = hubKubeconfig;
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
});

// The command runs in this process (the shim's exit codes are tested in install.test.ts).
const components = (t: { context: { hubKubeconfig: string } }): [string, string[]][] => [
  ['hub', ['hub']],
  ['worker', ['worker', '--hub-kubeconfig', t.context.hubKubeconfig]],
];

test.serial('--dry-run=server validates every object of hub and worker and persists none', async (t) => {
  t.timeout(600_000);
  for (const [name, args] of components(t)) {
    const rendered = await runInstall(args);
    t.is(rendered.code, 0, rendered.err);
    const objects = rendered.out.split(/^kind: /m).length - 1;
    const r = await runInstall([...args, '--dry-run=server', '--kubeconfig', t.context.kubeconfig]);
    t.is(r.code, 0, `${name}: ${r.err}`);
    const lines = r.out.trim().split('\n');
    t.is(lines.length, objects, name);
    t.true(
      lines.every((l) => l.endsWith('serverside-applied (server dry run)')),
      r.out,
    );
    t.log(`${name}: ${objects} objects accepted by the API server's dry run`);
    // The same stream as kubectl takes it.
    const k = await t.context.lab.kubectl(
      'c1',
      ['apply', '--server-side', '--dry-run=server', '-f', '-'],
      rendered.out,
    );
    t.regex(k, /deployment\.apps\/slicenet-webhook serverside-applied \(server dry run\)/);
  }
  const left = await t.context.lab.kubectl('c1', ['get', 'deployments,daemonsets,crd', '-A', '-o', 'name']);
  t.false(/slicenet/.test(left), left);
});

test.serial(
  'install hub --apply applies, again idempotently; accounts have the rights they use and no others',
  async (t) => {
    t.timeout(600_000);
    const { lab, kubeconfig } = t.context;
    for (let i = 0; i < 2; i++) {
      const r = await runInstall(['hub', '--apply', '--kubeconfig', kubeconfig]);
      t.is(r.code, 0, r.err);
      t.regex(
        r.out,
        /^validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/slicenet serverside-applied$/m,
      );
    }
    t.regex(await lab.kubectl('c1', ['get', 'deployment', '-n', NS, '-o', 'name']), /slicenet-controller/);
    const canI = async (sa: string, ...args: string[]): Promise<string> => {
      const as = `--as=system:serviceaccount:${NS}:${sa}`;
      const r = await runRaw([binPath('kubectl'), '--kubeconfig', kubeconfig, 'auth', 'can-i', as, ...args]);
      return r.stdout.trim();
    };
    const rows: [string, string[], 'yes' | 'no'][] = [
      ['slicenet-controller', ['create', 'workerslices.slicenet.dev', '-n', 'slicenet-cluster-east'], 'yes'],
      ['slicenet-controller', ['patch', 'sliceconfigs.slicenet.dev/status', '-n', NS], 'yes'],
      ['slicenet-controller', ['update', 'leases.coordination.k8s.io/slicenet-controller', '-n', NS], 'yes'],
      ['slicenet-controller', ['update', 'leases.coordination.k8s.io/other', '-n', NS], 'no'],
      ['slicenet-controller', ['get', 'secrets', '-n', NS], 'no'],
      ['slicenet-controller', ['delete', 'sliceconfigs.slicenet.dev', '-n', NS], 'no'],
      ['slicenet-webhook', ['list', 'namespaces'], 'yes'],
      ['slicenet-webhook', ['patch', 'mutatingwebhookconfigurations/slicenet'], 'yes'],
      ['slicenet-webhook', ['patch', 'mutatingwebhookconfigurations/other'], 'no'],
      ['slicenet-webhook', ['get', 'secrets/slicenet-webhook-tls', '-n', NS], 'yes'],
      ['slicenet-webhook', ['get', 'secrets/other', '-n', NS], 'no'],
    ];
    for (const [sa, args, want] of rows) t.is(await canI(sa, ...args), want, `${sa} ${args.join(' ')}`);
  },
);
