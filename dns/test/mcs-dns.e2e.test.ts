/**
 * Issue 8's acceptance 1 and 2, end to end on a 2-cluster lab with Slicenet installed as
 * `npm run lab` installs it (lab/slicenet.ts: controller, workers, agents, gateways, and
 * slicenet-dns per cluster on the pods' resolver address, dns/lab.ts):
 *
 *   1. a Service with two ready pods in c1, exported with `kubectl slice export`; a pod in c2
 *      resolves <svc>.<ns>.svc.slice.local through its own resolver and connects to it over
 *      slice0 (TCP); one pod going unready leaves the answer within 2 s;
 *   2. a headless Service and its pods' hostname names, SRV for a named port, an export of a
 *      missing Service (condition), a port conflict between clusters (condition).
 *
 * Acceptance 3 (malformed queries) is dns/test/query.test.ts and server.test.ts.
 *
 * A lab pod is ready while all its containers run (the lab kubelet has no probes), so each
 * server pod has a second container, `gate`, that exits when a marker file appears: with
 * restartPolicy Never the pod stays Running and turns unready, as a failing readiness probe
 * would make it.
 */
import anyTest, { type TestFn } from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SliceReport } from '../../cli/commands/status.ts';
import { cli as kubectlSlice, type CliResult } from '../../cli/test/run.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { API_VERSION } from '../../controller/api/types.ts';
import { sleeperPod, waitSliceIp } from '../../lab/demo.ts';
import { Lab } from '../../lab/lab.ts';
import { installSlicenet } from '../../lab/slicenet.ts';
import { leftovers, NOTHING, testLabName } from '../../lab/test/leftovers.ts';
import { runRaw } from '../../lib/exec.ts';
import { waitFor } from '../../lib/wait.ts';
import { labDnsAddress } from '../lab.ts';

interface Ctx {
  lab: Lab;
  /** `@addr` when lab pods' resolver is not slicenet-dns (loopback resolv.conf); else none. */
  server: string[];
  /** Network namespaces of the client pod in c2 and of the servers in c1. */
  client: string;
  /** Slice addresses of the server pods, by name. */
  ips: Record<string, string>;
  markers: string;
}
const test = anyTest as TestFn<Ctx>;
const SLICE = 'mcs';
const NS = 'shop';
const SERVERS = ['web-0', 'web-1'];
const NETWORKS = JSON.stringify([{ name: `slicenet-${SLICE}`, interface: 'slice0' }]);

function serverPod(name: string, node: string, markers: string): object {
  const reply = `require('net').createServer((s) => s.end('${name}\\n')).listen(8080)`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      labels: { app: 'web' },
      annotations: { 'k8s.v1.cni.cncf.io/networks': NETWORKS },
    },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      hostname: name,
      subdomain: 'web-h',
      restartPolicy: 'Never',
      containers: [
        { name: 'server', image: 'lab/none', command: [process.execPath, '-e', reply] },
        {
          name: 'gate',
          image: 'lab/none',
          command: ['sh', '-c', `while [ ! -e ${join(markers, name)} ]; do sleep 0.1; done`],
        },
      ],
    },
  };
}

function service(name: string, ports: object[], headless = false): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app: 'web' }, ports, ...(headless ? { clusterIP: 'None' } : {}) },
  };
}

const apply = (lab: Lab, cluster: string, obj: object): Promise<string> =>
  lab.kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(obj));

const sliceIp = (lab: Lab, cluster: string, pod: string): Promise<string> =>
  waitSliceIp(lab, cluster, NS, pod, 180_000);

test.before(async (t) => {
  t.timeout(900_000);
  const lab = await Lab.up({ name: testLabName('ds'), clusters: 2, nodes: 2 });
  const markers = mkdtempSync(join(tmpdir(), 'mcs-dns-'));
  t.context = { lab, server: [], client: '', ips: {}, markers };
  await installSlicenet(lab, { progress: (l) => t.log(l) });
  const dns = labDnsAddress();
  if (!dns.podsResolve) t.context.server = [`@${dns.address}`];
  await apply(lab, 'c1', {
    apiVersion: API_VERSION,
    kind: 'SliceConfig',
    metadata: { name: SLICE, namespace: SYSTEM_NAMESPACE },
    spec: { subnet: '10.100.0.0/16', clusters: ['c1', 'c2'] },
  });
  for (const c of ['c1', 'c2']) {
    await lab.kubectl(c, ['create', 'namespace', NS]);
    await lab.kubectl(c, ['label', 'namespace', NS, `${SLICE_LABEL}=${SLICE}`]);
  }
  for (const c of ['c1', 'c2'])
    await waitFor(
      async () =>
        (await lab.kubectl(c, ['get', 'net-attach-def', '-n', NS, '-o', 'name'])).includes(
          `slicenet-${SLICE}`,
        ),
      120_000,
      `the slice NAD in ${c}`,
    );
  const c1 = lab.cluster('c1').nodes.map((n) => n.name);
  for (const [i, name] of SERVERS.entries())
    await apply(lab, 'c1', serverPod(name, c1[i % c1.length]!, markers));
  await apply(lab, 'c2', sleeperPod(NS, 'client', lab.cluster('c2').nodes[0]!.name, NETWORKS));
  for (const name of SERVERS) t.context.ips[name] = await sliceIp(lab, 'c1', name);
  await sliceIp(lab, 'c2', 'client');
  t.context.client = await lab.podNetns('c2', NS, 'client');
});

test.after.always(async (t) => {
  const { lab, markers } = t.context as Partial<Ctx>;
  if (markers) rmSync(markers, { recursive: true, force: true });
  if (!lab) return;
  await lab.down();
  t.deepEqual(leftovers(lab.plan.name), NOTHING);
});

/** kubectl-slice with the lab's merged kubeconfig (one context per cluster). */
function slice(t: { context: Ctx }, ...args: string[]): Promise<CliResult> {
  return kubectlSlice([...args, '--kubeconfig', t.context.lab.paths.kubeconfig]);
}

/** `dig` in the client pod through its own resolver: sorted answer data, or the rcode. */
async function ask(t: { context: Ctx }, name: string, type = 'A'): Promise<string> {
  const r = await runRaw(
    ['dig', ...t.context.server, '+tries=1', '+time=1', '+noall', '+answer', '+comments', name, type],
    { netns: t.context.client },
  );
  const data = r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).slice(4).join(' '))
    .sort();
  return data.length ? data.join(',') : (/status: (\w+)/.exec(r.stdout)?.[1] ?? `no answer (${r.exitCode})`);
}

async function until(
  t: { context: Ctx },
  name: string,
  want: string,
  timeoutMs: number,
  type = 'A',
): Promise<number> {
  const start = Date.now();
  let last = '';
  await waitFor(
    async () => (last = await ask(t, name, type)) === want,
    timeoutMs,
    `${name} ${type} = ${want}`,
    50,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last answer: ${last}`);
  });
  return Date.now() - start;
}

interface ExportCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

async function conditions(lab: Lab, cluster: string, name: string): Promise<ExportCondition[]> {
  const out = await lab
    .kubectl(cluster, ['get', 'serviceexport', '-n', NS, name, '-o', 'jsonpath={.status.conditions}'])
    .catch(() => '');
  return out ? (JSON.parse(out) as ExportCondition[]) : [];
}

test.serial(
  '1: exported in c1, resolved and reached from c2 over slice0; an unready pod leaves within 2 s',
  async (t) => {
    t.timeout(300_000);
    const { lab, ips } = t.context;
    await apply(lab, 'c1', service('web', [{ name: 'http', port: 80, targetPort: 8080 }]));
    const exported = await slice(t, 'export', 'web', '-n', NS, '--context', 'c1');
    t.is(exported.code, 0, exported.stderr);
    const both = SERVERS.map((s) => ips[s]!)
      .sort()
      .join(',');
    const name = `web.${NS}.svc.slice.local`;
    const firstMs = await until(t, `${name}.`, both, 120_000);
    t.log(`export → both slice addresses answered in c2: ${firstMs} ms`);

    // The connection: the name through the pod's resolver (nc's getaddrinfo), TCP over slice0.
    const route = await runRaw(['ip', 'route', 'get', ips['web-0']!], { netns: t.context.client });
    t.regex(route.stdout, /dev slice0/, 'the slice addresses are routed over slice0');
    let reply = '';
    await waitFor(
      async () => {
        const r = await runRaw(['nc', '-N', '-w', '3', name, '8080'], { netns: t.context.client });
        reply = r.stdout.trim();
        return SERVERS.includes(reply);
      },
      90_000,
      `a TCP reply from ${name}:8080 over slice0 (the gateways' tunnel must be up)`,
      1000,
    );
    t.log(`nc ${name} 8080 from c2/client: ${reply}`);

    writeFileSync(join(t.context.markers, 'web-1'), '');
    const marked = Date.now();
    await waitFor(
      async () =>
        (await lab.kubectl('c1', [
          'get',
          'pod',
          '-n',
          NS,
          'web-1',
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])) === 'False',
      30_000,
      'web-1 unready',
      50,
    );
    const unreadyAt = Date.now();
    await until(t, `${name}.`, ips['web-0']!, 30_000);
    const gone = Date.now() - unreadyAt;
    t.log(
      `web-1 marked → Ready=False seen: ${unreadyAt - marked} ms; Ready=False → out of c2's answer: ${gone} ms`,
    );
    t.true(gone < 2000, `the unready pod left the answer after ${gone} ms, over 2 s`);
    t.true(existsSync(join(t.context.markers, 'web-1')));
  },
);

test.serial('2: headless service hostnames, SRV for a named port', async (t) => {
  t.timeout(180_000);
  const { lab, ips } = t.context;
  await apply(lab, 'c1', service('web-h', [{ name: 'http', port: 8080 }], true));
  const r = await slice(t, 'export', 'web-h', '-n', NS, '--context', 'c1');
  t.is(r.code, 0, r.stderr);
  // web-1 is unready since test 1: only web-0 answers.
  await until(t, `web-h.${NS}.svc.slice.local.`, ips['web-0']!, 60_000);
  t.is(await ask(t, `web-0.c1.web-h.${NS}.svc.slice.local.`), ips['web-0']!);
  t.is(
    await ask(t, `_http._tcp.web-h.${NS}.svc.slice.local.`, 'SRV'),
    `0 100 8080 web-0.c1.web-h.${NS}.svc.slice.local.`,
  );
  t.is(
    await ask(t, `_http._tcp.web.${NS}.svc.slice.local.`, 'SRV'),
    `0 100 8080 web-0.c1.web.${NS}.svc.slice.local.`,
    'endpoints are named by their pod (the worker names them so when the pod name is a DNS label)',
  );
  t.is(await ask(t, `nope.${NS}.svc.slice.local.`), 'NXDOMAIN');
});

test.serial(
  '2: an export of a missing Service and a port conflict between clusters say so in conditions',
  async (t) => {
    t.timeout(180_000);
    const { lab } = t.context;
    // kubectl slice export refuses a missing Service, so the ServiceExport is written directly.
    await apply(lab, 'c1', {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceExport',
      metadata: { name: 'ghost', namespace: NS },
    });
    await waitFor(
      async () =>
        (await conditions(lab, 'c1', 'ghost')).some((c) => c.type === 'Valid' && c.status === 'False'),
      30_000,
      'ghost: Valid=False',
    );
    const valid = (await conditions(lab, 'c1', 'ghost')).find((c) => c.type === 'Valid')!;
    t.log(`ghost: Valid=False ${valid.reason}: ${valid.message}`);
    t.regex(`${valid.reason} ${valid.message}`, /NotFound|not found|does not exist|missing/i);

    // Same name and namespace in both clusters, port "api" TCP 9000 in c1 and 9001 in c2.
    await apply(lab, 'c1', service('api', [{ name: 'api', port: 9000, targetPort: 8080 }]));
    t.is((await slice(t, 'export', 'api', '-n', NS, '--context', 'c1')).code, 0);
    await waitFor(
      async () => (await ask(t, `api.${NS}.svc.slice.local.`)) !== 'NXDOMAIN',
      60_000,
      'api imported in c2',
    );
    await apply(lab, 'c2', service('api', [{ name: 'api', port: 9001, targetPort: 8080 }]));
    t.is((await slice(t, 'export', 'api', '-n', NS, '--context', 'c2')).code, 0);
    let conflict: ExportCondition | undefined;
    await waitFor(
      async () => {
        for (const c of ['c1', 'c2']) {
          conflict = (await conditions(lab, c, 'api')).find(
            (x) => x.type === 'Conflict' && x.status === 'True',
          );
          if (conflict) return true;
        }
        return false;
      },
      30_000,
      'a Conflict=True condition on an api export',
    );
    t.log(`api: Conflict=True ${conflict!.reason}: ${conflict!.message}`);

    const status = await slice(t, 'status', SLICE, '-o', 'json', '--context', 'c1');
    t.is(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as SliceReport;
    const shown = (report.exports ?? [])
      .map((e) => `${e.cluster}/${e.service}:${e.valid}/${e.conflict}`)
      .sort();
    t.log(`status exports: ${shown.join(' ')}`);
    t.true(shown.includes('c1/ghost:False/False'), shown.join(' '));
    t.true(
      shown.some((s) => /\/api:.*\/True$/.test(s)),
      shown.join(' '),
    );
    const table = await slice(t, 'status', SLICE, '--context', 'c1');
    t.regex(table.stdout, /Exported services:\n.*SERVICE.*\n(.*\n)*.*shop\/web /);
  },
);
