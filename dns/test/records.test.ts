import test from 'ava';
import { buildZone, RecordStore, type ImportedService, type LookupResult } from '../records.ts';

const web: ImportedService = {
  namespace: 'shop',
  name: 'web',
  type: 'Headless',
  ports: [
    { name: 'http', protocol: 'TCP', port: 80 },
    { name: 'dns', protocol: 'UDP', port: 53 },
    { port: 9000 },
  ],
  endpoints: [
    { ip: '10.90.0.5', cluster: 'east', hostname: 'web-0', ready: true },
    { ip: '10.90.0.6', cluster: 'east', hostname: 'web-1', ready: false },
    { ip: '10.90.1.7', cluster: 'west', ready: true, ports: [{ name: 'http', port: 8080 }] },
  ],
};
const { zone } = buildZone([web], { ttl: 5, serial: 7 });

const data = (r: LookupResult): unknown[] => r.answers.map((a) => ('data' in a ? a.data : undefined));

test('the service name: A records of every ready endpoint across clusters, sorted, short TTL', (t) => {
  const r = zone.lookup('web.shop.svc.slice.local', 'A');
  t.is(r.rcode, 'NOERROR');
  t.deepEqual(data(r), ['10.90.0.5', '10.90.1.7']);
  t.true(r.answers.every((a) => a.type === 'A' && a.ttl === 5));
  t.deepEqual(r.authorities, []);
});

test('names are case-insensitive, a final dot is fine, and answers keep the spelling asked', (t) => {
  const r = zone.lookup('WeB.Shop.SVC.slice.local.', 'A');
  t.deepEqual(data(r), ['10.90.0.5', '10.90.1.7']);
  t.is(r.answers[0]!.name, 'WeB.Shop.SVC.slice.local');
});

test('per-endpoint names: <hostname>.<cluster>, or the dashed address without a hostname', (t) => {
  t.deepEqual(data(zone.lookup('web-0.east.web.shop.svc.slice.local', 'A')), ['10.90.0.5']);
  t.deepEqual(data(zone.lookup('10-90-1-7.west.web.shop.svc.slice.local', 'A')), ['10.90.1.7']);
  t.is(zone.lookup('web-0.west.web.shop.svc.slice.local', 'A').rcode, 'NXDOMAIN');
});

test('an endpoint that is not ready is in no answer', (t) => {
  t.is(zone.lookup('web-1.east.web.shop.svc.slice.local', 'A').rcode, 'NXDOMAIN');
  t.false(JSON.stringify(zone.lookup('_http._tcp.web.shop.svc.slice.local', 'SRV')).includes('10.90.0.6'));
});

test('SRV for named ports: one per ready endpoint, its own port, targets resolved in additionals', (t) => {
  const r = zone.lookup('_http._tcp.web.shop.svc.slice.local', 'SRV');
  t.deepEqual(data(r), [
    { priority: 0, weight: 50, port: 8080, target: '10-90-1-7.west.web.shop.svc.slice.local' },
    { priority: 0, weight: 50, port: 80, target: 'web-0.east.web.shop.svc.slice.local' },
  ]);
  t.deepEqual(
    r.additionals.map((a) => [a.name, 'data' in a ? a.data : undefined]),
    [
      ['10-90-1-7.west.web.shop.svc.slice.local', '10.90.1.7'],
      ['web-0.east.web.shop.svc.slice.local', '10.90.0.5'],
    ],
  );
  // The west endpoint names only http, so it has no dns port; east takes the service's.
  t.deepEqual(data(zone.lookup('_dns._udp.web.shop.svc.slice.local', 'SRV')), [
    { priority: 0, weight: 100, port: 53, target: 'web-0.east.web.shop.svc.slice.local' },
  ]);
  t.is(zone.lookup('_dns._tcp.web.shop.svc.slice.local', 'SRV').rcode, 'NXDOMAIN');
});

const negative: [string, string, string, 'NOERROR' | 'NXDOMAIN' | 'REFUSED'][] = [
  ['unknown service', 'db.shop.svc.slice.local', 'A', 'NXDOMAIN'],
  ['unknown namespace', 'web.pay.svc.slice.local', 'A', 'NXDOMAIN'],
  ['a name below an endpoint', 'x.web-0.east.web.shop.svc.slice.local', 'A', 'NXDOMAIN'],
  ['AAAA of a service (slices are IPv4)', 'web.shop.svc.slice.local', 'AAAA', 'NOERROR'],
  ['SRV of the service name itself', 'web.shop.svc.slice.local', 'SRV', 'NOERROR'],
  ['the namespace (an empty non-terminal)', 'shop.svc.slice.local', 'A', 'NOERROR'],
  ['svc.<zone>', 'svc.slice.local', 'A', 'NOERROR'],
  ['a cluster label', 'east.web.shop.svc.slice.local', 'A', 'NOERROR'],
  ['the _tcp label', '_tcp.web.shop.svc.slice.local', 'SRV', 'NOERROR'],
  ['A at the apex', 'slice.local', 'A', 'NOERROR'],
  ['a name outside the zone', 'example.com', 'A', 'REFUSED'],
  ['a name that only ends like the zone', 'evilslice.local', 'A', 'REFUSED'],
  ['the parent of the zone', 'local', 'A', 'REFUSED'],
];
for (const [what, name, type, rcode] of negative) {
  test(`no data: ${what} → ${rcode}`, (t) => {
    const r = zone.lookup(name, type as 'A');
    t.is(r.rcode, rcode);
    t.deepEqual(r.answers, []);
    // Negative answers carry the SOA, whose minimum is the negative-caching TTL.
    if (rcode !== 'REFUSED') t.like(r.authorities[0], { type: 'SOA', data: { serial: 7, minimum: 5 } });
    else t.deepEqual(r.authorities, []);
  });
}

test('SOA at the apex; ANY gives every record of a name', (t) => {
  t.like(zone.lookup('slice.local', 'SOA').answers[0], {
    type: 'SOA',
    data: { mname: 'ns.dns.slice.local', serial: 7 },
  });
  const any = zone.lookup('web-0.east.web.shop.svc.slice.local', 'ANY');
  t.deepEqual(data(any), ['10.90.0.5']);
});

test('an imported service without ready endpoints exists, with no data', (t) => {
  const z = buildZone([{ ...web, endpoints: [{ ip: '10.90.0.9', cluster: 'east', ready: false }] }]).zone;
  const r = z.lookup('web.shop.svc.slice.local', 'A');
  t.is(r.rcode, 'NOERROR');
  t.deepEqual(r.answers, []);
});

test('another zone name and a duplicate endpoint', (t) => {
  const dup = { ...web, endpoints: [web.endpoints[0]!, web.endpoints[0]!] };
  const z = buildZone([dup], { zone: 'Mesh.Example.' }).zone;
  t.is(z.apex, 'mesh.example');
  t.deepEqual(data(z.lookup('web.shop.svc.mesh.example', 'A')), ['10.90.0.5']);
  t.is(z.lookup('web.shop.svc.slice.local', 'A').rcode, 'REFUSED');
});

const invalid: [string, Partial<ImportedService>, RegExp][] = [
  ['a namespace that is not a label', { namespace: 'Shop_1' }, /service Shop_1\/web: namespace and name/],
  [
    'an IPv6 endpoint',
    { endpoints: [{ ip: 'fd00::1', cluster: 'east', ready: true }] },
    /endpoints\[0\]: ip "fd00::1" is not an IPv4 address/,
  ],
  [
    'an address out of range',
    { endpoints: [{ ip: '10.90.0.256', cluster: 'east', ready: true }] },
    /ip "10.90.0.256"/,
  ],
  [
    'a bad cluster name',
    { endpoints: [{ ip: '10.90.0.1', cluster: 'East', ready: true }] },
    /cluster "East" must be a DNS label/,
  ],
  [
    'a bad hostname',
    { endpoints: [{ ip: '10.90.0.1', cluster: 'east', hostname: 'a.b', ready: true }] },
    /hostname "a.b" must be a DNS label/,
  ],
  [
    'a port out of range',
    {
      ports: [{ name: 'http', port: 70000 }],
      endpoints: [{ ip: '10.90.0.1', cluster: 'east', ready: true }],
    },
    /port http: port must be 1 to 65535/,
  ],
  [
    'an unknown protocol',
    {
      ports: [{ name: 'http', port: 80, protocol: 'QUIC' as 'TCP' }],
      endpoints: [{ ip: '10.90.0.1', cluster: 'east', ready: true }],
    },
    /protocol "QUIC" must be TCP, UDP or SCTP/,
  ],
];
for (const [what, change, problem] of invalid) {
  test(`left out and reported: ${what}`, (t) => {
    const { problems } = buildZone([{ ...web, ...change }]);
    t.is(problems.length, 1, problems.join('\n'));
    t.regex(problems[0]!, problem);
  });
}

test('RecordStore swaps whole zones: a held zone stays as it was, the serial counts up', (t) => {
  const store = new RecordStore({ ttl: 5 });
  t.is(store.zone.lookup('web.shop.svc.slice.local', 'A').rcode, 'NXDOMAIN');
  t.deepEqual(store.replace([web]), []);
  const before = store.zone;
  t.is(before.serial, 1);
  const unready = { ...web, endpoints: web.endpoints.map((e) => ({ ...e, ready: e.cluster !== 'east' })) };
  store.replace([unready]);
  t.is(store.zone.serial, 2);
  t.deepEqual(data(store.zone.lookup('web.shop.svc.slice.local', 'A')), ['10.90.1.7']);
  t.deepEqual(data(before.lookup('web.shop.svc.slice.local', 'A')), ['10.90.0.5', '10.90.1.7']);
});
