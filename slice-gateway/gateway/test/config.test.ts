import test from 'ava';
import { SlicenetError } from '../../../lib/errors.ts';
import { generateKeyPair } from '../../protocol/index.ts';
import { parseConfig } from '../config.ts';
import { checkMtu, maxSliceMtu } from '../mtu.ts';

const me = generateKeyPair();
const peer = generateKeyPair().publicKey.toString('base64');
const other = generateKeyPair().publicKey.toString('base64');
const good = {
  privateKey: me.privateKey.toString('base64'),
  listen: { address: '0.0.0.0', port: 51820 },
  tap: { name: 'sgw0', bridge: 'br0' },
  sliceMtu: 1400,
  peers: [
    {
      cluster: 'c2',
      publicKey: peer,
      endpoints: ['198.51.100.2:51820'],
      arp: [{ ip: '10.0.0.2', mac: '02:00:00:00:00:02' }],
    },
  ],
};

test('a good config parses, with the private key decoded', (t) => {
  const o = parseConfig(good);
  t.deepEqual(Buffer.from(o.privateKey), me.privateKey);
  t.is(o.peers[0]!.cluster, 'c2');
});

const bad: [string, (c: Record<string, unknown>) => void, RegExp][] = [
  ['unknown setting', (c) => (c.sliceMTU = 1400), /^sliceMTU: unknown setting; known: privateKey/],
  ['private key', (c) => (c.privateKey = 'abc'), /^privateKey: must be 32 bytes in base64/],
  ['listen', (c) => delete c.listen, /^listen: must be \{address, port\}/],
  [
    'listen address',
    (c) => (c.listen = { address: 'any', port: 1 }),
    /^listen\.address: "any" must be a dotted IPv4/,
  ],
  [
    'listen port',
    (c) => (c.listen = { address: '0.0.0.0', port: 70000 }),
    /^listen\.port: 70000 must be an integer from 0 to 65535/,
  ],
  [
    'tap name',
    (c) => (c.tap = { name: 'a-very-long-tap-name' }),
    /^tap\.name: "a-very-long-tap-name" must be an interface name/,
  ],
  [
    'tap bridge',
    (c) => (c.tap = { name: 'sgw0', bridge: 'br 0' }),
    /^tap\.bridge: "br 0" must be an interface name/,
  ],
  [
    'tap mtu below the slice',
    (c) => (c.tap = { name: 'sgw0', mtu: 1300 }),
    /^tap\.mtu: 1300 must be an integer from 1400 to 65535/,
  ],
  [
    'slice MTU over the WAN',
    (c) => (c.sliceMtu = 1427),
    /^sliceMtu 1427: must be an integer from 68 to 1426/,
  ],
  ['slice MTU type', (c) => (c.sliceMtu = '1400'), /^sliceMtu: "1400" must be an integer/],
  ['WAN MTU', (c) => (c.wanMtu = 100), /^wanMtu: 100 must be an integer from 576/],
  [
    'cipher',
    (c) => (c.cipher = 'aes-128-gcm'),
    /^cipher: "aes-128-gcm" must be one of chacha20-poly1305, aes-256-gcm/,
  ],
  ['slice name', (c) => (c.slice = 'Bad Name'), /^slice: "Bad Name" must be a slice name/],
  ['offloads', (c) => (c.offloads = 'yes'), /^offloads: "yes" must be true or false/],
  ['fastPath', (c) => (c.fastPath = 1), /^fastPath: 1 must be true or false/],
  ['timer name', (c) => (c.timers = { rekey: 5 }), /^timers\.rekey: unknown; known: rekeyAfterTime/],
  [
    'timer value',
    (c) => (c.timers = { rekeyAfterTime: 0 }),
    /^timers\.rekeyAfterTime: 0 must be an integer from 1/,
  ],
  ['peers', (c) => (c.peers = {}), /^peers: must be a list/],
  [
    'peer cluster',
    (c) => (c.peers = [{ ...good.peers[0], cluster: '' }]),
    /^peers\[0\]\.cluster: must be a non-empty string/,
  ],
  [
    'duplicate cluster',
    (c) => (c.peers = [good.peers[0], { ...good.peers[0], publicKey: other }]),
    /^peers\[1\]\.cluster: "c2" appears twice/,
  ],
  [
    'duplicate key',
    (c) => (c.peers = [good.peers[0], { ...good.peers[0], cluster: 'c3' }]),
    /^peers\[1\]\.publicKey: the same key/,
  ],
  [
    'peer key',
    (c) => (c.peers = [{ ...good.peers[0], publicKey: 'x' }]),
    /^peers\[0\]\.publicKey: must be 32 bytes in base64/,
  ],
  [
    'endpoint without port',
    (c) => (c.peers = [{ ...good.peers[0], endpoints: ['198.51.100.2'] }]),
    /^peers\[0\]\.endpoints\[0\]: "198\.51\.100\.2" is not an IPv4 "address:port"/,
  ],
  [
    'endpoint host name',
    (c) => (c.peers = [{ ...good.peers[0], endpoints: ['gw.example:1'] }]),
    /^peers\[0\]\.endpoints\[0\]: "gw\.example:1" is not an IPv4/,
  ],
  [
    'ARP ip',
    (c) => (c.peers = [{ ...good.peers[0], arp: [{ ip: '10.0.0', mac: '02:00:00:00:00:02' }] }]),
    /^peers\[0\]\.arp\[0\]\.ip: must be a dotted IPv4/,
  ],
  [
    'ARP mac',
    (c) => (c.peers = [{ ...good.peers[0], arp: [{ ip: '10.0.0.2', mac: '02:00' }] }]),
    /^peers\[0\]\.arp\[0\]\.mac: "02:00" must be a MAC/,
  ],
];

for (const [name, change, message] of bad) {
  test(`a bad config names the field: ${name}`, (t) => {
    const c: Record<string, unknown> = structuredClone(good);
    change(c);
    const err = t.throws(() => parseConfig(c), { instanceOf: SlicenetError });
    t.regex(err.message, message);
  });
}

test('the MTU rule leaves 74 bytes of headers in the WAN MTU', (t) => {
  t.is(maxSliceMtu(1500), 1426);
  t.notThrows(() => checkMtu(1426, 1500));
  t.throws(() => checkMtu(1427, 1500), { message: /sliceMtu 1427/ });
  t.throws(() => checkMtu(1400, 500), { message: /wanMtu 500/ });
});
