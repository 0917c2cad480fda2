import test from 'ava';
import nacl from 'tweetnacl';
import { loadConfig } from '../config.ts';
import { generateKeyPair } from '../worker/keys.ts';
import { allowed, nadObject } from '../worker/nads.ts';

test('which labelled namespaces may join, per cluster', (t) => {
  const rules = [
    { namespace: 'shop', clusters: ['*'] },
    { namespace: 'pay', clusters: ['c2'] },
    { namespace: 'db' },
  ];
  for (const [rs, ns, cluster, want] of [
    [undefined, 'any', 'c1', true],
    [[], 'any', 'c1', true],
    [rules, 'shop', 'c1', true],
    [rules, 'pay', 'c1', false],
    [rules, 'pay', 'c2', true],
    [rules, 'db', 'c1', true],
    [rules, 'other', 'c1', false],
  ] as const)
    t.is(allowed(rs, ns, cluster), want, `${ns} in ${cluster}`);
});

test('the NAD carries the slice config SPEC §3.4 gives', (t) => {
  const nad = nadObject('demo', 'shop');
  t.is(nad.metadata?.name, 'slicenet-demo');
  t.deepEqual(JSON.parse(nad.spec.config), { cniVersion: '1.0.0', type: 'slicenet', slice: 'demo' });
});

test('gateway keys are X25519 pairs, base64', (t) => {
  const kp = generateKeyPair();
  t.regex(kp.publicKey, /^[A-Za-z0-9+/]{43}=$/);
  const derived = nacl.scalarMult.base(Buffer.from(kp.privateKey, 'base64'));
  t.is(Buffer.from(derived).toString('base64'), kp.publicKey);
});

test('config: defaults, flags over variables, errors naming the setting', (t) => {
  t.like(loadConfig([], {}), { mode: 'hub', hubNamespace: 'slicenet-system', workers: 4, probePort: 8082 });
  t.like(loadConfig(['--mode', 'worker', '--cluster', 'c1', '--hub-kubeconfig', 'f'], {}), {
    probePort: 8083,
  });
  t.like(loadConfig(['--workers', '2'], { SLICENET_WORKERS: '8' }), { workers: 2 });
  for (const [argv, env, message] of [
    [['--mode', 'x'], {}, /--mode \(SLICENET_MODE\) must be hub or worker/],
    [['--workers', '0'], {}, /--workers \(SLICENET_WORKERS\)/],
    [['--probe-port', '70000'], {}, /--probe-port \(SLICENET_PROBE_PORT\) must be a port/],
    [[], { SLICENET_PROBE_PORT: 'x' }, /--probe-port/],
    [['--mode', 'worker', '--hub-kubeconfig', 'f'], {}, /--cluster \(SLICENET_CLUSTER\)/],
    [['--mode', 'worker', '--cluster', 'c1'], {}, /--hub-kubeconfig/],
    [[], { SLICENET_MODE: 'worker', SLICENET_CLUSTER: 'C_1', SLICENET_HUB_KUBECONFIG: 'f' }, /--cluster/],
  ] as const)
    t.throws(() => loadConfig([...argv], env), { message }, argv.join(' '));
});
