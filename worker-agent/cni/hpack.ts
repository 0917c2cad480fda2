/**
 * HPACK (RFC 7541) for the plugin's one gRPC call: an encoder that writes every field as a
 * literal (no table, no Huffman: the request is five short headers), and a complete decoder
 * for the agent's responses — static and dynamic table, table size updates, Huffman strings.
 *
 * Why here: node:http2 costs the plugin ~10 ms of CPU per pod just to load and set up
 * (README.md "Start-up"), and a unary call needs this and http2.ts only.
 * Every malformed input throws an Error naming what was wrong; nothing reads past its buffer.
 */

/** RFC 7541 Appendix A: index 1..61. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * RFC 7541 Appendix B: the code length of each symbol 0..255, then EOS (256). The code is
 * canonical — within a length, codes are consecutive in symbol order, and each length starts
 * where the shorter ones ended, shifted — so the lengths alone define it.
 */
// prettier-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;
const MAX_CODE = 30;

/** Canonical decoding tables: per length, the first code, how many codes, where their symbols start. */
interface Canonical {
  first: number[];
  count: number[];
  offset: number[];
  symbols: number[];
}

let canonical: Canonical | undefined;

function tables(): Canonical {
  if (canonical) return canonical;
  const count = new Array<number>(MAX_CODE + 1).fill(0);
  for (const l of CODE_LENGTHS) count[l]!++;
  const symbols = CODE_LENGTHS.map((l, s) => [l, s] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([, s]) => s);
  const first = new Array<number>(MAX_CODE + 1).fill(0);
  const offset = new Array<number>(MAX_CODE + 1).fill(0);
  let code = 0;
  let at = 0;
  for (let len = 1; len <= MAX_CODE; len++) {
    code = (code + count[len - 1]!) << 1;
    first[len] = code;
    offset[len] = at;
    at += count[len]!;
  }
  canonical = { first, count, offset, symbols };
  return canonical;
}

/** Canonical code of `symbol`, for tests: [code, length]. */
export function huffmanCode(symbol: number): [number, number] {
  const t = tables();
  const len = CODE_LENGTHS[symbol]!;
  const rank = t.symbols.indexOf(symbol) - t.offset[len]!;
  return [t.first[len]! + rank, len];
}

/** Decodes a Huffman-coded string (RFC 7541 §5.2): padding must be ≤ 7 one-bits; EOS inside is an error. */
export function huffmanDecode(src: Uint8Array): Buffer {
  const t = tables();
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (const byte of src) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const i = code - t.first[len]!;
      if (i >= 0 && i < t.count[len]!) {
        const symbol = t.symbols[t.offset[len]! + i]!;
        if (symbol === EOS) throw new Error('HPACK: EOS inside a Huffman string');
        out.push(symbol);
        code = 0;
        len = 0;
      } else if (len === MAX_CODE) {
        throw new Error('HPACK: not a Huffman code');
      }
    }
  }
  if (len > 7 || code !== (1 << len) - 1) throw new Error('HPACK: Huffman padding is not a prefix of EOS');
  return Buffer.from(out);
}

/** A prefixed integer (§5.1) at `buf[at]`, whose first byte keeps `bits` low bits: [value, next]. */
function readInt(buf: Uint8Array, at: number, bits: number): [number, number] {
  if (at >= buf.length) throw new Error('HPACK: the header block ends inside an integer');
  const max = (1 << bits) - 1;
  let v = buf[at]! & max;
  let i = at + 1;
  if (v < max) return [v, i];
  for (let shift = 0; ; shift += 7) {
    if (i >= buf.length) throw new Error('HPACK: the header block ends inside an integer');
    if (shift > 21) throw new Error('HPACK: an integer over 2^28');
    const b = buf[i++]!;
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [v, i];
  }
}

function writeInt(out: number[], first: number, bits: number, v: number): void {
  const max = (1 << bits) - 1;
  if (v < max) {
    out.push(first | v);
    return;
  }
  out.push(first | max);
  for (v -= max; v >= 0x80; v = Math.floor(v / 0x80)) out.push((v % 0x80) | 0x80);
  out.push(v);
}

/** Encodes fields as literals without indexing, new names, no Huffman (§6.2.2). */
export function encodeHeaders(fields: [string, string][]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    out.push(0);
    for (const s of [name, value]) {
      const b = Buffer.from(s, 'latin1');
      writeInt(out, 0, 7, b.length);
      for (const x of b) out.push(x);
    }
  }
  return Buffer.from(out);
}

/** One connection's decoding context: the dynamic table persists across header blocks. */
export class HpackDecoder {
  private dynamic: [string, string][] = [];
  private size = 0;

  constructor(private maxSize = 4096) {}

  /** Decodes one complete header block into [name, value] pairs, in order. */
  decode(block: Uint8Array): (readonly [string, string])[] {
    const out: (readonly [string, string])[] = [];
    let at = 0;
    while (at < block.length) {
      const b = block[at]!;
      if (b & 0x80) {
        const [index, next] = readInt(block, at, 7);
        out.push(this.entry(index));
        at = next;
      } else if ((b & 0xe0) === 0x20) {
        const [size, next] = readInt(block, at, 5);
        if (size > 4096) throw new Error(`HPACK: table size ${size} over the 4096 we allow`);
        this.maxSize = size;
        this.evict(0);
        at = next;
      } else {
        const indexed = (b & 0xc0) === 0x40;
        const [index, next] = readInt(block, at, indexed ? 6 : 4);
        at = next;
        let name: string;
        if (index === 0) [name, at] = this.string(block, at);
        else name = this.entry(index)[0];
        let value: string;
        [value, at] = this.string(block, at);
        out.push([name, value]);
        if (indexed) this.add(name, value);
      }
    }
    return out;
  }

  private string(buf: Uint8Array, at: number): [string, number] {
    if (at >= buf.length) throw new Error('HPACK: the header block ends before a string');
    const huffman = (buf[at]! & 0x80) !== 0;
    const [len, start] = readInt(buf, at, 7);
    if (start + len > buf.length) throw new Error('HPACK: a string runs past the header block');
    const raw = buf.subarray(start, start + len);
    const bytes = huffman ? huffmanDecode(raw) : Buffer.from(raw);
    return [bytes.toString('latin1'), start + len];
  }

  private entry(index: number): readonly [string, string] {
    if (index >= 1 && index <= STATIC.length) return STATIC[index - 1]!;
    const d = this.dynamic[index - STATIC.length - 1];
    if (!d) throw new Error(`HPACK: index ${index} is in no table`);
    return d;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size <= this.maxSize) {
      this.dynamic.unshift([name, value]);
      this.size += size;
    }
  }

  /** Evicts oldest entries until `room` more bytes fit (all of them if it never can, §4.4). */
  private evict(room: number): void {
    while (this.dynamic.length && this.size + room > this.maxSize) {
      const [n, v] = this.dynamic.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
}
