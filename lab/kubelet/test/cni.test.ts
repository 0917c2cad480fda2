import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cniAdd,
  cniDel,
  cniEnv,
  CniError,
  podCniArgs,
  podIpsFromResult,
  pluginStdin,
  toConfList,
  type RuntimeConf,
} from '../cni.ts';
import { podNetnsName } from '../netns.ts';

const pod = { namespace: 'demo', name: 'web-0', uid: '0f8fad5b-d9cb-469f-a165-70867728950e' };
const sandbox = 'ab'.repeat(32);
const rt: RuntimeConf = {
  containerId: sandbox,
  netns: '/run/netns/lab-p-0f8fad5bd9cb469f',
  ifName: 'eth0',
  args: podCniArgs(pod, sandbox),
};

test('the pod netns name comes from the lab and the first 16 hex digits of the UID', (t) => {
  t.is(podNetnsName('lab', pod.uid), 'lab-p-0f8fad5bd9cb469f');
});

test('env is what a Kubernetes runtime passes', (t) => {
  t.deepEqual(cniEnv('ADD', rt, '/opt/cni'), {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: sandbox,
    CNI_NETNS: '/run/netns/lab-p-0f8fad5bd9cb469f',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=${sandbox};K8S_POD_UID=${pod.uid}`,
    CNI_PATH: '/opt/cni',
  });
});

test('a .conf becomes a one-plugin list; each plugin gets the list name and version injected', (t) => {
  const conf = { cniVersion: '1.0.0', name: 'multus-cni-network', type: 'multus', kubeconfig: '/k' };
  const list = toConfList(conf);
  t.deepEqual(list, { name: 'multus-cni-network', cniVersion: '1.0.0', plugins: [conf] });
  const chained = toConfList({
    cniVersion: '1.0.0',
    name: 'n',
    plugins: [{ type: 'bridge' }, { type: 'tuning' }],
  });
  t.deepEqual(JSON.parse(pluginStdin(chained, chained.plugins[1]!, { ips: [] })), {
    type: 'tuning',
    name: 'n',
    cniVersion: '1.0.0',
    prevResult: { ips: [] },
  });
  t.throws(() => toConfList({ type: 'x' }), { message: /needs a string "name" and "cniVersion"/ });
});

test('the pod IP is the IPv4 address on eth0 inside the sandbox', (t) => {
  const result = {
    interfaces: [
      { name: 'cni0' },
      { name: 'veth1' },
      { name: 'eth0', sandbox: '/run/netns/x' },
      { name: 'net1', sandbox: '/run/netns/x' },
    ],
    ips: [
      { address: 'fd00::5/64', interface: 2 },
      { address: '10.244.1.5/24', interface: 2, gateway: '10.244.1.1' },
      { address: '192.168.9.9/24', interface: 3 },
    ],
  };
  t.deepEqual(podIpsFromResult(result), ['10.244.1.5', 'fd00::5']);
  t.deepEqual(podIpsFromResult({ ips: [{ address: '10.0.0.2/24' }] }), ['10.0.0.2']);
  t.deepEqual(podIpsFromResult({}), []);
});

/** A plugin that records its env and stdin, then succeeds or fails. */
function fakePlugin(mode: 'ok' | 'fail' = 'ok'): { dir: string; record: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-cni-'));
  const record = join(dir, 'record');
  writeFileSync(
    join(dir, 'fake'),
    `#!/bin/sh
{ env | grep '^CNI_' | sort; cat; echo; } >> ${record}
if [ ${mode} = fail ]; then echo '{"cniVersion":"1.0.0","code":7,"msg":"no luck","details":"pool empty"}'; exit 1; fi
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"'$CNI_NETNS'"}],"ips":[{"address":"10.244.0.7/24","interface":0}]}'
exit 0
`,
  );
  chmodSync(join(dir, 'fake'), 0o755);
  return { dir, record };
}

test('ADD and DEL run the plugin binary as libcni does', async (t) => {
  const { dir, record } = fakePlugin();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const list = toConfList({ cniVersion: '1.0.0', name: 'net', type: 'fake', x: 1 });
  const result = await cniAdd(list, rt, `/nonexistent:${dir}`);
  t.deepEqual(podIpsFromResult(result), ['10.244.0.7']);
  await cniDel(list, rt, dir, result);
  const lines = readFileSync(record, 'utf8').trim().split('\n');
  t.true(lines.includes('CNI_COMMAND=ADD'));
  t.true(lines.includes('CNI_COMMAND=DEL'));
  t.true(lines.includes(`CNI_PATH=/nonexistent:${dir}`));
  const stdins = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(stdins[0], { cniVersion: '1.0.0', name: 'net', type: 'fake', x: 1 });
  t.deepEqual(stdins[1]!.prevResult, result, 'DEL gets the ADD result');
});

test('a plugin error becomes a CniError with its code, msg and details', async (t) => {
  const { dir } = fakePlugin('fail');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const list = toConfList({ cniVersion: '1.0.0', name: 'net', type: 'fake' });
  const err = await t.throwsAsync(cniAdd(list, rt, dir), { instanceOf: CniError });
  t.is(err.cniCode, 7);
  t.is(err.message, 'plugin type="fake" name="net" failed (add): no luck: pool empty');
  await t.throwsAsync(cniAdd(toConfList({ cniVersion: '1.0.0', name: 'net', type: 'nope' }), rt, dir), {
    message: /failed to find plugin "nope"/,
  });
});
