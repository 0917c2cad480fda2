/** QoS pieces that need no namespace: tc output parsing (text and JSON), validation, the DSCP table. */
import test from 'ava';
import { renderDscp } from '../qos/dscp.ts';
import { ifbName } from '../qos/engine.ts';
import { classId, QosError, validateQos, type SliceQos } from '../qos/model.ts';
import { parseClassJson, parseClassText, parseRate } from '../qos/tc.ts';

const TEXT = `class htb 1:1771 parent 1:1 leaf 8001: prio 1 rate 30Mbit ceil 45Mbit burst 112500b cburst 112500b 
 Sent 12345 bytes 67 pkt (dropped 8, overlimits 9 requeues 0) 
 backlog 0b 0p requeues 0
 lended: 1 borrowed: 0 giants: 0
 tokens: 4000 ctokens: 2500

class htb 1:1 root rate 50Mbit ceil 50Mbit burst 125000b cburst 125000b 
 Sent 99 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
`;

test('tc: rates in every unit', (t) => {
  t.is(parseRate('50Mbit'), 50e6);
  t.is(parseRate('1500Kbit'), 1.5e6);
  t.is(parseRate('999bit'), 999);
  t.is(parseRate('1.5Gbit'), 1.5e9);
  t.is(parseRate('1Mbps'), 8e6);
  t.throws(() => parseRate('fast'), { message: /"fast"/ });
});

test('tc: class text (iproute2 6.1) with stats', (t) => {
  t.deepEqual(parseClassText(TEXT), [
    { minor: 0x1771, parentMinor: 1, prio: 1, rate: 30e6, ceil: 45e6, bytes: 12345, packets: 67, drops: 8 },
    { minor: 1, prio: 0, rate: 50e6, ceil: 50e6, bytes: 99, packets: 1, drops: 0 },
  ]);
});

test('tc: class JSON (newer iproute2), rates in bytes/s', (t) => {
  const json = JSON.stringify([
    {
      class: 'htb',
      handle: '1:1771',
      parent: '1:1',
      prio: 1,
      rate: 3750000,
      ceil: 5625000,
      stats: { bytes: 5, packets: 1, drops: 2 },
    },
    { class: 'fq_codel', handle: '8001:1', parent: '8001:' },
  ]);
  t.deepEqual(parseClassJson(json), [
    { minor: 0x1771, parentMinor: 1, prio: 1, rate: 30e6, ceil: 45e6, bytes: 5, packets: 1, drops: 2 },
  ]);
});

const s = (over: Partial<SliceQos>): SliceQos => ({
  slice: 'a',
  port: 6001,
  guaranteedKbit: 1000,
  ceilingKbit: 2000,
  priority: 3,
  dscp: 'EF',
  ...over,
});
const dev = { device: 'eth0', linkKbit: 10_000, ingress: false };

const BAD: [string, SliceQos[], RegExp][] = [
  ['port too low', [s({ port: 2 })], /slice a: gateway port 2/],
  ['port shared', [s({}), s({ slice: 'b' })], /slice b: gateway port 6001 is also slice a's/],
  ['guarantee above ceiling', [s({ guaranteedKbit: 3000 })], /guaranteedKbps <= ceilingKbps/],
  ['priority', [s({ priority: 8 })], /qos.priority 8/],
  ['dscp', [s({ dscp: 'AF99' as 'EF' })], /qos.dscp "AF99"/],
  [
    'oversubscribed',
    [
      s({ guaranteedKbit: 6000, ceilingKbit: 6000 }),
      s({ slice: 'b', port: 6002, guaranteedKbit: 6000, ceilingKbit: 6000 }),
    ],
    /add up to 12000 kbit\/s, more than eth0's 10000/,
  ],
];
for (const [name, slices, says] of BAD)
  test(`qos: refuses ${name}`, (t) => {
    t.throws(() => validateQos(slices, dev), { instanceOf: QosError, message: says });
  });

test('qos: names and the DSCP table', (t) => {
  t.is(classId(6001), '1:1771');
  t.regex(ifbName('eth0'), /^snqi[0-9a-f]{8}$/);
  const nft = renderDscp('eth0', [s({ port: 7000, dscp: 'AF41' }), s({})]);
  t.regex(nft, /add table inet slicenet-qos\ndelete table inet slicenet-qos\n/);
  t.true(nft.indexOf('udp sport 6001 ip dscp set 46') < nft.indexOf('udp sport 7000 ip dscp set 34'));
  t.regex(nft, /oifname "eth0" udp sport 7000 ip6 dscp set 34/);
});
