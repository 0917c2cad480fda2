/**
 * respond(): the protocol rules apart from sockets. One row per malformed-query rule; then
 * EDNS, truncation, the answer cache and a fuzz run.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type Packet } from 'dns-packet';
import { respond, type BadReason, type Outcome, type Rcode } from '../query.ts';
import { RecordStore, type ImportedService } from '../records.ts';

const many = (n: number): ImportedService => ({
  namespace: 'shop',
  name: `big${n}`,
  ports: [],
  endpoints: Array.from({ length: n }, (_, i) => ({
    ip: `10.90.${i >> 8}.${i & 255}`,
    cluster: 'east',
    ready: true,
  })),
});
const store = new RecordStore({ ttl: 5 });
store.replace([
  {
    namespace: 'shop',
    name: 'web',
    ports: [{ name: 'http', port: 80 }],
    endpoints: [{ ip: '10.90.0.5', cluster: 'east', hostname: 'web-0', ready: true }],
  },
  many(20),
  many(200),
]);

const opt = (o: Partial<OptAnswer> = {}): OptAnswer => ({
  name: '.',
  type: 'OPT',
  udpPayloadSize: 1232,
  extendedRcode: 0,
  ednsVersion: 0,
  flags: 0,
  flag_do: false,
  options: [],
  ...o,
});
const query = (name = 'web.shop.svc.slice.local', type = 'A', extra: Partial<Packet> = {}): Buffer =>
  dnsPacket.encode({
    id: 0x1234,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  });
const ask = (q: Buffer, transport: 'udp' | 'tcp' = 'udp'): Outcome => respond(q, transport, store.zone);
type Reply = DecodedPacket & { rcode: string };
const decoded = (o: Outcome): Reply => dnsPacket.decode(o.response!) as Reply;
const patch = (q: Buffer, offset: number, value: number): Buffer => {
  const b = Buffer.from(q);
  b.writeUInt16BE(value, offset);
  return b;
};

test('an answer: ID and RD copied, AA set, question echoed as spelt, records', (t) => {
  const o = ask(query('WEB.shop.svc.slice.local'));
  t.like(o, { rcode: 'NOERROR' });
  t.is(o.bad, undefined);
  const p = decoded(o);
  t.like(p, { id: 0x1234, type: 'response', flag_aa: true, flag_rd: true, flag_ra: false, flag_tc: false });
  t.deepEqual(p.questions, [{ name: 'WEB.shop.svc.slice.local', type: 'A', class: 'IN' }]);
  t.like(p.answers![0], { name: 'WEB.shop.svc.slice.local', type: 'A', ttl: 5, data: '10.90.0.5' });
});

test('NXDOMAIN with the SOA, REFUSED outside the zone without AA', (t) => {
  const nx = decoded(ask(query('nope.shop.svc.slice.local')));
  t.is(nx.rcode, 'NXDOMAIN');
  t.true(nx.flag_aa);
  t.like(nx.authorities![0], { type: 'SOA', name: 'slice.local' });
  const refused = decoded(ask(query('example.com')));
  t.is(refused.rcode, 'REFUSED');
  t.false(refused.flag_aa);
});

const question = query().subarray(12);
const header = (qd: number, an = 0, ns = 0, ar = 0, flags = 0x0100): Buffer => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0xbeef, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
};
const name = (...labels: (string | Buffer)[]): Buffer =>
  Buffer.concat([
    ...labels.map((l) => {
      const b = Buffer.from(l);
      return Buffer.concat([Buffer.from([b.length]), b]);
    }),
    Buffer.from([0]),
  ]);
const typeClass = (type = 1, klass = 1): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(klass, 2);
  return b;
};

/** [what, query, expected rcode or 'drop', reason] */
const malformed: [string, Buffer, Rcode | 'drop', BadReason][] = [
  ['shorter than a header', Buffer.from([1, 2, 3, 4, 5]), 'drop', 'short_header'],
  ['a response sent as a query', patch(query(), 2, 0x8100), 'drop', 'response'],
  ['oversized', Buffer.concat([query(), Buffer.alloc(1500)]), 'FORMERR', 'oversized'],
  ['opcode STATUS', patch(query(), 2, 0x1100), 'NOTIMP', 'opcode'],
  ['opcode UPDATE', patch(query(), 2, 0x2800), 'NOTIMP', 'opcode'],
  ['no question', header(0), 'FORMERR', 'question_count'],
  ['two questions', Buffer.concat([header(2), question, question]), 'FORMERR', 'question_count'],
  ['an answer in a query', Buffer.concat([header(1, 1), question]), 'FORMERR', 'unexpected_records'],
  ['an authority in a query', Buffer.concat([header(1, 0, 1), question]), 'FORMERR', 'unexpected_records'],
  ['three additionals', Buffer.concat([header(1, 0, 0, 3), question]), 'FORMERR', 'unexpected_records'],
  ['cut inside the name', query().subarray(0, 20), 'FORMERR', 'truncated'],
  ['cut inside type and class', query().subarray(0, query().length - 2), 'FORMERR', 'truncated'],
  ['a header with no question', header(1), 'FORMERR', 'truncated'],
  [
    'a compression pointer to itself',
    Buffer.concat([header(1), Buffer.from([0xc0, 12]), typeClass()]),
    'FORMERR',
    'bad_pointer',
  ],
  [
    'a compression loop between two names',
    Buffer.concat([header(1), Buffer.from([1, 0x61, 0xc0, 12]), typeClass()]),
    'FORMERR',
    'bad_pointer',
  ],
  [
    'a forward compression pointer',
    Buffer.concat([header(1), Buffer.from([0xc0, 40]), typeClass(), Buffer.alloc(30)]),
    'FORMERR',
    'bad_pointer',
  ],
  [
    'a reserved label type',
    Buffer.concat([header(1), Buffer.from([0x41, 0x61]), typeClass()]),
    'FORMERR',
    'bad_label',
  ],
  [
    'a name over 255 bytes',
    Buffer.concat([header(1), name(...Array.from({ length: 5 }, () => 'a'.repeat(60))), typeClass()]),
    'FORMERR',
    'name_too_long',
  ],
  ['trailing bytes', Buffer.concat([query(), Buffer.from([0, 0, 0])]), 'FORMERR', 'trailing_bytes'],
  [
    'a dot inside a label',
    Buffer.concat([header(1), name('a.b', 'slice', 'local'), typeClass()]),
    'FORMERR',
    'bad_name',
  ],
  [
    'non-ASCII bytes in a label',
    Buffer.concat([header(1), name(Buffer.from([0xff, 0x00]), 'slice', 'local'), typeClass()]),
    'FORMERR',
    'bad_name',
  ],
  [
    'class CHAOS',
    Buffer.concat([header(1), name('version', 'bind'), typeClass(16, 3)]),
    'REFUSED',
    'bad_class',
  ],
  [
    'class ANY',
    Buffer.concat([header(1), name('web', 'slice', 'local'), typeClass(1, 255)]),
    'REFUSED',
    'bad_class',
  ],
  [
    'class 77',
    Buffer.concat([header(1), name('web', 'slice', 'local'), typeClass(1, 77)]),
    'REFUSED',
    'bad_class',
  ],
  ['a zone transfer', query('slice.local', 'AXFR'), 'REFUSED', 'bad_type'],
  [
    'an unknown type',
    Buffer.concat([header(1), name('x', 'slice', 'local'), typeClass(999)]),
    'NOTIMP',
    'bad_type',
  ],
  [
    'OPT as the question type',
    Buffer.concat([header(1), name('x', 'slice', 'local'), typeClass(41)]),
    'NOTIMP',
    'bad_type',
  ],
  [
    'EDNS version 1',
    query(undefined, 'A', { additionals: [opt({ ednsVersion: 1 })] }),
    'BADVERS',
    'edns_version',
  ],
  [
    'two OPT records',
    Buffer.concat([
      header(1, 0, 0, 2),
      question,
      dnsPacket.encode({ additionals: [opt(), opt()] }).subarray(12),
    ]),
    'FORMERR',
    'unexpected_records',
  ],
  [
    'an OPT owned by a name other than the root',
    Buffer.concat([header(1, 0, 0, 1), question, name('x'), typeClass(41, 1232), Buffer.alloc(6)]),
    'FORMERR',
    'bad_edns',
  ],
  [
    'a TSIG-like record in additionals',
    Buffer.concat([header(1, 0, 0, 1), question, name('k'), typeClass(250, 255), Buffer.alloc(6)]),
    'FORMERR',
    'unexpected_records',
  ],
];

for (const [what, q, rcode, reason] of malformed) {
  test(`malformed: ${what} → ${rcode} (${reason})`, (t) => {
    const o = ask(q);
    t.is(o.bad, reason);
    if (rcode === 'drop') return t.is(o.response, undefined);
    t.is(o.rcode, rcode);
    const p = decoded(o);
    t.is(p.id, q.readUInt16BE(0), 'the reply carries the query ID');
    t.is(p.type, 'response');
    t.false(p.flag_aa);
    if (rcode === 'BADVERS') {
      // 16 = extended rcode 1 in the OPT, 0 in the header.
      const o2 = p.additionals!.find((a): a is OptAnswer => a.type === 'OPT')!;
      t.is(o2.extendedRcode, 1);
      t.is(p.rcode, 'NOERROR');
    } else t.is(p.rcode, rcode);
  });
}

test('EDNS: the reply carries an OPT with our payload size and the DO bit echoed', (t) => {
  const p = decoded(
    ask(query(undefined, 'A', { additionals: [opt({ flag_do: true, flags: dnsPacket.DNSSEC_OK })] })),
  );
  const o = p.additionals!.find((a): a is OptAnswer => a.type === 'OPT')!;
  t.like(o, { udpPayloadSize: 1232, ednsVersion: 0, flag_do: true });
  t.false('additionals' in decoded(ask(query())) && decoded(ask(query())).additionals!.length > 0);
});

const aCount = (o: Outcome): number => decoded(o).answers!.filter((a: Answer) => a.type === 'A').length;

test('UDP without EDNS: an answer over 512 bytes is cut to its question with TC; TCP gets it whole', (t) => {
  const q = query('big20.shop.svc.slice.local');
  const udp = ask(q);
  t.true(udp.truncated);
  const p = decoded(udp);
  t.true(p.flag_tc);
  t.is(p.answers!.length, 0);
  t.is(p.questions!.length, 1);
  t.true(udp.response!.length <= 512);
  t.is(aCount(ask(q, 'tcp')), 20);
});

test('UDP with EDNS: the client size counts, up to 1232; 200 records go over TCP only', (t) => {
  const edns = (size: number): Buffer =>
    query('big20.shop.svc.slice.local', 'A', { additionals: [opt({ udpPayloadSize: size })] });
  t.is(aCount(ask(edns(4096))), 20);
  t.true(ask(edns(300)).truncated, 'a size below 512 counts as 512');
  const big = query('big200.shop.svc.slice.local', 'A', { additionals: [opt({ udpPayloadSize: 65535 })] });
  const cut = ask(big);
  t.true(cut.truncated);
  t.true(cut.response!.length <= 1232);
  t.is(aCount(ask(big, 'tcp')), 200);
});

test('cached answers keep each query ID and follow a new zone at once', (t) => {
  const s = new RecordStore();
  const svc = (ready: boolean): ImportedService[] => [
    { namespace: 'a', name: 'b', ports: [], endpoints: [{ ip: '10.1.0.1', cluster: 'c', ready }] },
  ];
  s.replace(svc(true));
  const q = query('b.a.svc.slice.local');
  for (const id of [1, 2, 3]) {
    const o = respond(patch(q, 0, id), 'udp', s.zone);
    t.is(o.response!.readUInt16BE(0), id);
    t.is(dnsPacket.decode(o.response!).answers!.length, 1);
  }
  s.replace(svc(false));
  t.is(dnsPacket.decode(respond(q, 'udp', s.zone).response!).answers!.length, 0);
});

test('fuzz: random bytes and bit flips never throw; every reply carries the query ID', (t) => {
  const valid = query('web-0.east.web.shop.svc.slice.local', 'SRV', { additionals: [opt()] });
  let replies = 0;
  for (let i = 0; i < 5000; i++) {
    let q: Buffer;
    if (i % 2) q = randomBytes(Math.floor(Math.random() * 80));
    else {
      q = Buffer.from(valid);
      for (let f = 0; f < 1 + (i % 5); f++) q[Math.floor(Math.random() * q.length)]! ^= 1 << (i % 8);
    }
    const o = ask(q, i % 3 ? 'udp' : 'tcp');
    if (!o.response) {
      t.truthy(o.bad);
      continue;
    }
    replies++;
    if (o.response.readUInt16BE(0) !== q.readUInt16BE(0)) t.fail(`ID not echoed for ${q.toString('hex')}`);
    if (!(o.response[2]! & 0x80)) t.fail('reply without QR');
  }
  t.true(replies > 1000);
});
