import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig, type KubeletConfig } from '../config.ts';

const good: KubeletConfig = {
  nodeName: 'c1-n1',
  nodeIp: '198.18.1.11',
  labName: 'lab',
  kubeconfig: '/run/slicenet-lab/lab/c1/nodes/c1-n1/kubelet.kubeconfig',
  multusKubeconfig: '/run/slicenet-lab/lab/c1/nodes/c1-n1/multus.kubeconfig',
  cniBinDir: '/root/.cache/slicenet/cni',
  stateDir: '/run/slicenet-lab/lab/c1/nodes/c1-n1',
};

test('a good config is returned as is', (t) => {
  t.deepEqual(validateConfig({ ...good }), good);
});

const bad: [string, unknown, RegExp][] = [
  ['not an object', [], /kubelet config: \(file\): must be a JSON object/],
  ['unknown field', { ...good, podCidr: '10.0.0.0/24' }, /podCidr: unknown field; allowed: nodeName/],
  ['missing field', { ...good, nodeIp: undefined }, /nodeIp: is required/],
  ['not a string', { ...good, nodeName: 7 }, /nodeName: must be a string/],
  ['bad node name', { ...good, nodeName: 'C1_N1' }, /nodeName: "C1_N1" is not a valid node name/],
  ['bad address', { ...good, nodeIp: '198.18.1.300' }, /nodeIp: "198.18.1.300" is not an IPv4 address/],
  ['bad lab name', { ...good, labName: 'my-lab' }, /labName: "my-lab" must be 1-8 lowercase/],
  [
    'relative kubeconfig',
    { ...good, kubeconfig: 'kubelet.kubeconfig' },
    /kubeconfig: "kubelet.kubeconfig" must be an absolute path/,
  ],
  [
    'relative multus kubeconfig',
    { ...good, multusKubeconfig: 'm' },
    /multusKubeconfig: "m" must be an absolute path/,
  ],
  ['relative CNI dir', { ...good, cniBinDir: 'cni' }, /cniBinDir: "cni" must be an absolute path/],
  ['relative state dir', { ...good, stateDir: '.' }, /stateDir: "." must be an absolute path/],
];

for (const [name, raw, message] of bad) {
  test(`refused: ${name}`, (t) => {
    const err = t.throws(() => validateConfig(raw), { message });
    t.is((err as { code?: string }).code, 'KUBELET_BAD_CONFIG');
  });
}

test('loadConfig names an unreadable or non-JSON file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.throws(() => loadConfig(join(dir, 'missing.json')), { message: /\(file\): cannot read .*missing\.json/ });
  writeFileSync(join(dir, 'bad.json'), '{');
  t.throws(() => loadConfig(join(dir, 'bad.json')), { message: /bad\.json is not JSON/ });
  writeFileSync(join(dir, 'ok.json'), JSON.stringify(good));
  t.deepEqual(loadConfig(join(dir, 'ok.json')), good);
});
