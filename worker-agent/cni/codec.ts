/**
 * Protobuf (proto3) encoding of agent.proto's messages, by hand. The plugin is a fresh
 * process per pod: loading protobufjs to parse the .proto (or a JSON descriptor) costs about
 * 40 ms of a ~200 ms start, for five small messages. The schemas below mirror agent.proto
 * field by field; `test/codec.test.ts` round-trips every message through protobufjs, which
 * the agent's server uses, so a drift fails there.
 *
 * Only what agent.proto uses: string, uint32, and (repeated) message fields.
 */

export type Field =
  | { no: number; name: string; kind: 'string' }
  | { no: number; name: string; kind: 'uint32' }
  | { no: number; name: string; kind: 'message'; schema: Schema; repeated: boolean };
export type Schema = readonly Field[];

const s = (no: number, name: string): Field => ({ no, name, kind: 'string' });

export const EMPTY: Schema = [];
export const ATTACH_REQUEST: Schema = [
  s(1, 'containerId'),
  s(2, 'netns'),
  s(3, 'ifname'),
  s(4, 'slice'),
  s(5, 'networkName'),
  s(6, 'podNamespace'),
  s(7, 'podName'),
  s(8, 'podUid'),
  s(9, 'cniVersion'),
];
export const ROUTE: Schema = [s(1, 'dst'), s(2, 'gw')];
export const ATTACH_RESULT: Schema = [
  s(1, 'ifname'),
  s(2, 'mac'),
  s(3, 'address'),
  { no: 4, name: 'routes', kind: 'message', schema: ROUTE, repeated: true },
  { no: 5, name: 'mtu', kind: 'uint32' },
  s(6, 'hostIfname'),
  s(7, 'hostMac'),
];
export const ATTACHMENT: Schema = [s(1, 'containerId'), s(2, 'ifname')];
export const GC_REQUEST: Schema = [
  s(1, 'networkName'),
  s(2, 'slice'),
  { no: 3, name: 'valid', kind: 'message', schema: ATTACHMENT, repeated: true },
];

const VARINT = 0;
const LEN = 2;

function varint(out: number[], v: number): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function bytes(out: number[], no: number, b: Uint8Array): void {
  varint(out, (no << 3) | LEN);
  varint(out, b.length);
  for (const x of b) out.push(x);
}

/** proto3: fields at their default ('' / 0) are not written. */
export function encode(schema: Schema, msg: object): Buffer {
  const out: number[] = [];
  const m = msg as Record<string, unknown>;
  for (const f of schema) {
    const v = m[f.name];
    if (f.kind === 'string') {
      if (typeof v === 'string' && v !== '') bytes(out, f.no, Buffer.from(v, 'utf8'));
    } else if (f.kind === 'uint32') {
      if (typeof v === 'number' && v !== 0) {
        varint(out, (f.no << 3) | VARINT);
        varint(out, v >>> 0);
      }
    } else {
      const items = f.repeated ? ((v as object[] | undefined) ?? []) : v === undefined ? [] : [v as object];
      for (const item of items) bytes(out, f.no, encode(f.schema, item));
    }
  }
  return Buffer.from(out);
}

/** Every schema field is present in the result, at its default when absent on the wire. */
export function decode(schema: Schema, buf: Uint8Array): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  for (const f of schema) {
    msg[f.name] = f.kind === 'string' ? '' : f.kind === 'uint32' ? 0 : f.repeated ? [] : undefined;
  }
  const byNo = new Map(schema.map((f) => [f.no, f]));
  let pos = 0;
  const readVarint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('protobuf: truncated varint');
      const b = buf[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const tag = readVarint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = byNo.get(no);
    if (wire === LEN) {
      const len = readVarint();
      if (pos + len > buf.length) throw new Error('protobuf: truncated field');
      const chunk = buf.subarray(pos, pos + len);
      pos += len;
      if (f?.kind === 'string') msg[f.name] = Buffer.from(chunk).toString('utf8');
      else if (f?.kind === 'message') {
        const sub = decode(f.schema, chunk);
        if (f.repeated) (msg[f.name] as unknown[]).push(sub);
        else msg[f.name] = sub;
      }
    } else if (wire === VARINT) {
      const v = readVarint();
      if (f?.kind === 'uint32') msg[f.name] = v % 2 ** 32;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`protobuf: wire type ${wire} not supported`);
  }
  return msg;
}
