/**
 * One DNS message in, at most one out: the protocol rules of slicenet-dns, apart from sockets.
 * The wire format is dns-packet's; this file decides what to answer.
 *
 *   bytes ─ header checks ─ dns-packet decode ─ question/EDNS checks ─ Zone.lookup ─ encode ─ fit
 *             (cheap: size, QR, opcode, counts)                                           (TC on UDP)
 *
 * Nothing here throws on any input: a message too short to carry an ID, or itself a response,
 * is dropped (answering a response invites loops); everything else that is wrong gets FORMERR,
 * NOTIMP, REFUSED or BADVERS with the query's ID. Each refusal carries a reason the server
 * counts. Cost: one decode and one encode per query, no allocation beyond them.
 */
import dnsPacket, { type Answer as WireRecord, type DecodedPacket, type OptAnswer } from 'dns-packet';
import type { LookupResult, Zone } from './records.ts';

export type Transport = 'udp' | 'tcp';

/** Why a query was refused or dropped; the label of slicenet_dns_bad_queries_total. */
export type BadReason =
  | 'short_header'
  | 'response'
  | 'oversized'
  | 'opcode'
  | 'question_count'
  | 'unexpected_records'
  | 'truncated'
  | 'bad_pointer'
  | 'bad_label'
  | 'name_too_long'
  | 'trailing_bytes'
  | 'bad_name'
  | 'bad_class'
  | 'bad_type'
  | 'bad_edns'
  | 'edns_version'
  | 'internal';

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED' | 'FORMERR' | 'NOTIMP' | 'SERVFAIL' | 'BADVERS';

export interface Outcome {
  /** Undefined: drop the query. */
  response?: Buffer;
  rcode?: Rcode;
  bad?: BadReason;
  /** The UDP answer did not fit and was cut to its question (TC set). */
  truncated?: boolean;
}

/** No legitimate query comes near this: a name of 255, an OPT with a cookie and padding. */
export const MAX_QUERY_BYTES = 1232;
/** Our EDNS UDP payload size (the 2020 DNS flag day's value, no fragmentation). */
export const EDNS_UDP_SIZE = 1232;
const CLASSIC_UDP_SIZE = 512;
const TCP_SIZE = 65535;

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const RD = 0x0100;
const CD = 0x0010;
const RCODE_NUM: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
};

export function respond(query: Buffer, transport: Transport, zone: Zone): Outcome {
  if (query.length < 12) return { bad: 'short_header' };
  const flags = query.readUInt16BE(2);
  if (flags & QR) return { bad: 'response' };
  try {
    const cache = cacheOf(zone);
    // Everything after the ID decides the answer: flags, question as spelt, OPT.
    const key = transport + query.toString('latin1', 2);
    const hit = cache.get(key);
    if (hit) return withId(hit, query);
    const outcome = answer(query, flags, transport, zone);
    if (!outcome.bad && outcome.response) {
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(key, outcome);
    }
    return outcome;
  } catch {
    return headerOnly(query, flags, 'SERVFAIL', 'internal');
  }
}

/**
 * Encoded answers of the zone being served, by query bytes after the ID: dns-packet's encoder
 * costs tens of microseconds, a copy well under one. A new zone starts an empty cache, so an
 * answer never outlives the records it came from.
 */
const CACHE_ENTRIES = 10_000;
let cached: { zone: Zone; answers: Map<string, Outcome> } | undefined;

function cacheOf(zone: Zone): Map<string, Outcome> {
  if (cached?.zone !== zone) cached = { zone, answers: new Map() };
  return cached.answers;
}

function withId(outcome: Outcome, query: Buffer): Outcome {
  const response = Buffer.allocUnsafe(outcome.response!.length);
  outcome.response!.copy(response);
  response[0] = query[0]!;
  response[1] = query[1]!;
  return { ...outcome, response };
}

function answer(query: Buffer, flags: number, transport: Transport, zone: Zone): Outcome {
  if (query.length > MAX_QUERY_BYTES) return headerOnly(query, flags, 'FORMERR', 'oversized');
  if (flags & OPCODE_MASK) return headerOnly(query, flags, 'NOTIMP', 'opcode');
  if (query.readUInt16BE(4) !== 1) return headerOnly(query, flags, 'FORMERR', 'question_count');
  // A query carries no answers or authorities; its additional section at most an OPT.
  if (query.readUInt16BE(6) || query.readUInt16BE(8) || query.readUInt16BE(10) > 1)
    return headerOnly(query, flags, 'FORMERR', 'unexpected_records');
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(query);
  } catch (err) {
    return headerOnly(query, flags, 'FORMERR', decodeReason(err));
  }
  if (dnsPacket.decode.bytes !== query.length) return headerOnly(query, flags, 'FORMERR', 'trailing_bytes');
  const question = packet.questions![0]!;
  // The reply echoes the question as dns-packet re-encodes it; a name that does not come back
  // byte for byte (a dot inside a label, bytes that are not UTF-8, a pointer) would not match.
  const echoed = dnsPacket.encode({ questions: [question] }).subarray(12, -4);
  if (!echoed.equals(query.subarray(12, 12 + echoed.length)))
    return headerOnly(query, flags, 'FORMERR', 'bad_name');
  const extra = packet.additionals?.[0];
  if (extra && (extra.type !== 'OPT' || extra.name !== '.'))
    return headerOnly(query, flags, 'FORMERR', extra.type === 'OPT' ? 'bad_edns' : 'unexpected_records');
  const opt = extra;
  const reply = (rcode: Rcode, result: Partial<LookupResult>, bad?: BadReason): Outcome =>
    fit({ packet, flags, opt, rcode, result, transport, ...(bad ? { bad } : {}) });
  if (opt && opt.ednsVersion !== 0) return reply('BADVERS', {}, 'edns_version');
  // Not echoed: dns-packet would re-encode a class it does not know as 0.
  if (question.class !== 'IN') return headerOnly(query, flags, 'REFUSED', 'bad_class');
  const type = question.type as typeof question.type | 'ANY';
  if (type === 'OPT' || type.startsWith('UNKNOWN_')) return reply('NOTIMP', {}, 'bad_type');
  if (type === 'AXFR' || type === 'IXFR') return reply('REFUSED', {}, 'bad_type');
  const result = zone.lookup(question.name, type);
  return reply(result.rcode, result);
}

interface FitInput {
  packet: DecodedPacket;
  flags: number;
  opt: OptAnswer | undefined;
  rcode: Rcode;
  result: Partial<LookupResult>;
  transport: Transport;
  bad?: BadReason;
}

/** Encodes the reply; on UDP, one too large for the client's buffer goes out cut, with TC. */
function fit(r: FitInput): Outcome {
  const code = RCODE_NUM[r.rcode];
  const aa = r.rcode === 'REFUSED' || r.bad ? 0 : dnsPacket.AUTHORITATIVE_ANSWER;
  const additionals: WireRecord[] = [...(r.result.additionals ?? [])];
  if (r.opt) {
    additionals.push({
      name: '.',
      type: 'OPT',
      udpPayloadSize: EDNS_UDP_SIZE,
      extendedRcode: code >> 4,
      ednsVersion: 0,
      flags: r.opt.flag_do ? dnsPacket.DNSSEC_OK : 0,
      flag_do: r.opt.flag_do,
      options: [],
    });
  }
  const base = {
    id: r.packet.id ?? 0,
    type: 'response' as const,
    flags: aa | (r.flags & (RD | CD)) | (code & 0xf),
    questions: r.packet.questions,
  };
  const full = dnsPacket.encode({
    ...base,
    answers: r.result.answers ?? [],
    authorities: r.result.authorities ?? [],
    additionals,
  });
  const limit =
    r.transport === 'tcp'
      ? TCP_SIZE
      : r.opt
        ? Math.min(EDNS_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, r.opt.udpPayloadSize))
        : CLASSIC_UDP_SIZE;
  const outcome: Outcome = { rcode: r.rcode, ...(r.bad ? { bad: r.bad } : {}) };
  if (full.length <= limit) return { ...outcome, response: full };
  const cut = dnsPacket.encode({
    ...base,
    flags: base.flags | dnsPacket.TRUNCATED_RESPONSE,
    additionals: additionals.filter((a) => a.type === 'OPT'),
  });
  return { ...outcome, response: cut, truncated: true };
}

/** An error reply with the query's ID and no question, for queries we could not read. */
function headerOnly(query: Buffer, flags: number, rcode: Rcode, bad: BadReason): Outcome {
  const response = dnsPacket.encode({
    id: query.readUInt16BE(0),
    type: 'response',
    flags: (flags & (OPCODE_MASK | RD | CD)) | RCODE_NUM[rcode],
  });
  return { response, rcode, bad };
}

function decodeReason(err: unknown): BadReason {
  const msg = err instanceof Error ? err.message : '';
  if (msg.includes('bad pointer')) return 'bad_pointer';
  if (msg.includes('bad label')) return 'bad_label';
  if (msg.includes('name too long')) return 'name_too_long';
  return 'truncated';
}
