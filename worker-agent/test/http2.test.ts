// The plugin's own HTTP/2 and HPACK (cni/http2.ts, cni/hpack.ts): RFC 7541's Appendix C
// vectors, a real node:http2 server (nghttp2 encodes its replies, Huffman and dynamic table
// included), and malformed input from a peer, each refused with a named error.
import test from 'ava';
import { createServer, type Http2Server } from 'node:http2';
import { createServer as createNetServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHeaders, HpackDecoder, huffmanCode, huffmanDecode } from '../cni/hpack.ts';
import { frameOf as frame, Http2Error, ReplyReader, request } from '../cni/http2.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('Huffman: RFC 7541 Appendix C strings decode', (t) => {
  const vectors: [string, string][] = [
    ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
    ['a8eb 1064 9cbf', 'no-cache'],
    ['25a8 49e9 5ba9 7d7f', 'custom-key'],
    ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
    ['6402', '302'],
    ['aec3 771a 4b', 'private'],
    ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
    ['9bd9 ab', 'gzip'],
  ];
  for (const [h, s] of vectors) t.is(huffmanDecode(hex(h)).toString('latin1'), s);
});

test('Huffman: the canonical code from the lengths is RFC 7541 Appendix B (spot checks), and every symbol round-trips', (t) => {
  // From Appendix B: '0' 00000, ' ' 010100, 'a' 00011, EOS 30 ones, 0x00 1111111111000.
  t.deepEqual(huffmanCode(0x30), [0b00000, 5]);
  t.deepEqual(huffmanCode(0x20), [0b010100, 6]);
  t.deepEqual(huffmanCode(0x61), [0b00011, 5]);
  t.deepEqual(huffmanCode(256), [0x3fffffff, 30]);
  t.deepEqual(huffmanCode(0), [0x1ff8, 13]);
  for (let s = 0; s < 256; s++) {
    // Each symbol alone, padded with ones to a byte boundary.
    const [code, len] = huffmanCode(s);
    const pad = (8 - (len % 8)) % 8;
    const bits = (BigInt(code) << BigInt(pad)) | ((1n << BigInt(pad)) - 1n);
    const bytes = Buffer.from(bits.toString(16).padStart(((len + pad) / 8) * 2, '0'), 'hex');
    t.deepEqual([...huffmanDecode(bytes)], [s], `symbol ${s}`);
  }
});

test('Huffman: bad padding, EOS inside and a code past 30 bits are refused', (t) => {
  t.throws(
    () => huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4')),
    { message: /padding/ },
    'cut: padding not all ones',
  );
  t.throws(() => huffmanDecode(hex('ffff ffff')), { message: /EOS inside/ });
  t.throws(() => huffmanDecode(hex('ff')), { message: /padding/ }, '8 bits of padding');
});

test('HPACK: RFC 7541 C.6 responses decode in sequence, with evictions from a 256-byte table', (t) => {
  const d = new HpackDecoder(256);
  t.deepEqual(
    d.decode(
      hex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
           2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`),
    ),
    [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['location', 'https://www.example.com'],
    ],
  );
  t.deepEqual(d.decode(hex('4883 640e ffc1 c0bf')), [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ]);
  t.deepEqual(
    d.decode(
      hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
           77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
           9587 3160 65c0 03ed 4ee5 b106 3d50 07`),
    ),
    [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
    ],
  );
});

test('HPACK: what the encoder writes, the decoder reads', (t) => {
  const fields: [string, string][] = [
    [':path', '/slicenet.agent.v1.Agent/Add'],
    ['grpc-timeout', '10000m'],
    ['x-long', 'v'.repeat(300)], // a length over the 7-bit prefix
  ];
  t.deepEqual(new HpackDecoder().decode(encodeHeaders(fields)), fields);
});

test('HPACK: malformed blocks are refused by name', (t) => {
  const cases: [string, string, RegExp][] = [
    ['index 0', '80', /index 0 is in no table/],
    ['index past both tables', 'ff00', /index 127 is in no table/],
    ['integer cut', 'ff', /ends inside an integer/],
    ['integer too big', 'ffffffffff0f', /over 2\^28/],
    ['string past the block', '0005616263', /runs past the header block/],
    ['no value', '000161', /ends before a string/],
    ['table size over 4096', '3fe21f', /table size/],
  ];
  for (const [name, h, message] of cases)
    t.throws(() => new HpackDecoder().decode(hex(h)), { message }, name);
});

test('frames: settings and pings are acknowledged, a reply split in any chunks is whole, padding and CONTINUATION work', (t) => {
  const headers = encodeHeaders([[':status', '200']]);
  const trailers = encodeHeaders([['grpc-status', '0']]);
  const padded = Buffer.concat([Buffer.from([3]), Buffer.from('hello'), Buffer.alloc(3)]);
  const bytes = Buffer.concat([
    frame(4, 0, 0, Buffer.alloc(6)),
    frame(6, 0, 0, Buffer.from('12345678')),
    frame(1, 0, 1, headers.subarray(0, 2)), // HEADERS without END_HEADERS…
    frame(9, 4, 1, headers.subarray(2)), // …finished by CONTINUATION
    frame(0, 8, 1, padded),
    frame(8, 0, 0, Buffer.alloc(4)),
    frame(1, 5, 1, trailers),
  ]);
  for (const size of [1, 7, bytes.length]) {
    const r = new ReplyReader();
    const acks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) acks.push(...r.feed(bytes.subarray(i, i + size)));
    t.is(acks.length, 2, `chunks of ${size}: SETTINGS and PING acknowledged`);
    t.is(r.reply?.body.toString(), 'hello');
    t.is(r.reply?.headers.get(':status'), '200');
    t.is(r.reply?.trailers.get('grpc-status'), '0');
  }
});

test('frames: a peer that breaks the protocol ends the call with a named error', (t) => {
  const cases: [string, Buffer, RegExp][] = [
    ['oversize frame', Buffer.from([0x01, 0, 0, 0, 0, 0, 0, 0, 1]), /over the 16384 allowed/],
    ['GOAWAY', frame(7, 0, 0, Buffer.alloc(8)), /GOAWAY/],
    ['RST_STREAM', frame(3, 0, 1, Buffer.from([0, 0, 0, 2])), /reset the call \(RST_STREAM, code 2\)/],
    ['DATA first', frame(0, 1, 1, Buffer.from('x')), /DATA before the response headers/],
    ['HEADERS on another stream', frame(1, 4, 3, Buffer.alloc(0)), /HEADERS on stream 3/],
    ['bad SETTINGS', frame(4, 0, 0, Buffer.alloc(5)), /malformed SETTINGS/],
    ['bad PING', frame(6, 0, 0, Buffer.alloc(3)), /malformed PING/],
    ['lone CONTINUATION', frame(9, 4, 1, Buffer.alloc(0)), /CONTINUATION without its HEADERS/],
    [
      'interrupted header block',
      Buffer.concat([frame(1, 0, 1, Buffer.from([0x88])), frame(6, 0, 0, Buffer.alloc(8))]),
      /interrupted/,
    ],
    ['padding longer than the frame', frame(1, 0x0c, 1, Buffer.from([9, 0x88])), /padding is longer/],
    ['bad HPACK', frame(1, 4, 1, Buffer.from([0x80])), /index 0/],
  ];
  for (const [name, bytes, message] of cases) {
    const err = t.throws(() => new ReplyReader().feed(bytes), { message }, name);
    t.true(err instanceof Error, name);
  }
});

function socketDir(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sn-h2-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a real node:http2 server: headers (Huffman, dynamic table), body and trailers arrive whole, twice', async (t) => {
  const path = join(socketDir(t), 'h2.sock');
  const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
    .join('')
    .trim();
  const server: Http2Server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'x-echo-path': String(headers[':path']),
          'x-all': printable,
        },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'all%20good', 'x-all': printable }),
      );
      stream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(() => server.close());
  for (const body of [Buffer.from('ping'), Buffer.alloc(40_000, 7)]) {
    const reply = await request(
      path,
      [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', '/x/Y'],
        [':authority', 'localhost'],
      ],
      body,
      AbortSignal.timeout(5000),
    );
    t.is(reply.headers.get(':status'), '200');
    t.is(reply.headers.get('x-echo-path'), '/x/Y');
    t.is(reply.headers.get('x-all'), printable);
    t.is(reply.trailers.get('x-all'), printable, 'the second block reuses the dynamic table');
    t.is(reply.trailers.get('grpc-message'), 'all%20good');
    t.true(reply.body.equals(body), `${body.length} bytes echoed`);
  }
});

test('transport failures: no socket, a peer that hangs up, a peer that never answers', async (t) => {
  const dir = socketDir(t);
  const missing = await t.throwsAsync(
    request(join(dir, 'none.sock'), [], Buffer.alloc(0), AbortSignal.timeout(2000)),
  );
  t.true(missing instanceof Http2Error && missing.transport && /ENOENT/.test(missing.message));
  const hangup: Server = createNetServer((s) => s.end());
  const silent: Server = createNetServer(() => undefined);
  await new Promise<void>((r) => hangup.listen(join(dir, 'hangup.sock'), r));
  await new Promise<void>((r) => silent.listen(join(dir, 'silent.sock'), r));
  t.teardown(() => {
    hangup.close();
    silent.close();
  });
  await t.throwsAsync(request(join(dir, 'hangup.sock'), [], Buffer.alloc(0), AbortSignal.timeout(2000)), {
    message: /closed the connection before the call ended/,
  });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('deadline')), 200);
  await t.throwsAsync(request(join(dir, 'silent.sock'), [], Buffer.alloc(0), ac.signal), {
    message: 'deadline',
  });
});
