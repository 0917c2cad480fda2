import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_CLUSTER_DNS, labDnsAddress, podNameserver } from '../lab.ts';

const rows: [string, string, string | undefined][] = [
  [
    'the first IPv4 nameserver',
    'search lan\nnameserver 10.255.255.53\nnameserver 10.0.0.1\n',
    '10.255.255.53',
  ],
  ['loopback ones are skipped', 'nameserver 127.0.0.53\nnameserver 192.168.1.1', '192.168.1.1'],
  ['IPv6 ones are skipped', 'nameserver fd00::53\n  nameserver\t10.1.1.1', '10.1.1.1'],
  ['only loopback', 'nameserver 127.0.0.53\noptions edns0', undefined],
  ['empty', '', undefined],
];
for (const [what, text, want] of rows) test(`podNameserver: ${what}`, (t) => t.is(podNameserver(text), want));

test('labDnsAddress falls back to the cluster DNS address, which pods must then name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dns-lab-'));
  writeFileSync(join(dir, 'loop'), 'nameserver 127.0.0.53\n');
  writeFileSync(join(dir, 'lan'), 'nameserver 10.255.255.53\n');
  t.deepEqual(labDnsAddress(join(dir, 'loop')), { address: LAB_CLUSTER_DNS, podsResolve: false });
  t.deepEqual(labDnsAddress(join(dir, 'missing')), { address: LAB_CLUSTER_DNS, podsResolve: false });
  t.deepEqual(labDnsAddress(join(dir, 'lan')), { address: '10.255.255.53', podsResolve: true });
});
