/**
 * The HTTP/2 (RFC 9113) of one unary gRPC call, over a `node:net` unix socket: what the plugin
 * needs and nothing more.
 *
 *   client: preface, SETTINGS (push off, 1 MiB stream window), WINDOW_UPDATE (connection),
 *           HEADERS stream 1 (END_HEADERS), DATA stream 1 (END_STREAM)
 *   server: SETTINGS → ACK; PING → ACK; WINDOW_UPDATE, PRIORITY → ignored;
 *           HEADERS/CONTINUATION stream 1 → response headers, then trailers (END_STREAM);
 *           DATA stream 1 → body; RST_STREAM / GOAWAY before the end → an error
 *
 * Why not node:http2: loading it and setting up a session is ~10 ms of CPU, a fifth of the
 * plugin's per-pod cost (README.md "Start-up"). The request and every reply fit the default
 * windows and frame size many times over, so no flow control is needed beyond the opening
 * window grant (a request body must fit the peer's 65 535-byte initial window: the plugin's
 * are a few hundred bytes). Malformed frames from the peer end the call with an Error naming the problem.
 */
import { createConnection, type Socket } from 'node:net';
import { encodeHeaders, HpackDecoder } from './hpack.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const T = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
};
const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 };
const STREAM = 1;
const MAX_FRAME = 16_384;
const WINDOW = 1 << 20;

export interface Http2Reply {
  /** Response headers, then trailers, as decoded (names lower-case). */
  headers: Map<string, string>;
  trailers: Map<string, string>;
  body: Buffer;
}

/** An HTTP/2 failure: `transport` when the socket failed, else the peer broke the protocol or reset the call. */
export class Http2Error extends Error {
  constructor(
    message: string,
    readonly transport = false,
  ) {
    super(message);
  }
}

/** One frame: the 9-byte header (length, type, flags, stream) and the payload. */
export function frameOf(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** The bytes a client sends for one request with a body: preface through END_STREAM. */
export function requestBytes(headers: [string, string][], body: Buffer): Buffer {
  const settings = Buffer.alloc(12);
  settings.writeUInt16BE(0x2, 0); // ENABLE_PUSH
  settings.writeUInt32BE(0, 2);
  settings.writeUInt16BE(0x4, 6); // INITIAL_WINDOW_SIZE
  settings.writeUInt32BE(WINDOW, 8);
  const grant = Buffer.alloc(4);
  grant.writeUInt32BE(WINDOW - 65_535, 0);
  const data: Buffer[] = [];
  // The peer's frames may be refused over 16 384 bytes until it says otherwise: cut the body.
  for (let at = 0; at < body.length || data.length === 0; at += MAX_FRAME) {
    const last = at + MAX_FRAME >= body.length;
    data.push(frameOf(T.DATA, last ? F.END_STREAM : 0, STREAM, body.subarray(at, at + MAX_FRAME)));
  }
  return Buffer.concat([
    PREFACE,
    frameOf(T.SETTINGS, 0, 0, settings),
    frameOf(T.WINDOW_UPDATE, 0, 0, grant),
    frameOf(T.HEADERS, F.END_HEADERS, STREAM, encodeHeaders(headers)),
    ...data,
  ]);
}

/** Reads the server's frames for stream 1; `feed` takes socket bytes, `reply` is set at the end. */
export class ReplyReader {
  reply: Http2Reply | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private readonly hpack = new HpackDecoder();
  private block: Buffer[] | undefined;
  private blockEnds = false;
  private blocks = 0;
  private readonly headers = new Map<string, string>();
  private readonly trailers = new Map<string, string>();
  private readonly body: Buffer[] = [];

  /** Consumes bytes; returns frames to send back (ACKs). Throws Http2Error on a protocol error. */
  feed(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 9 && !this.reply) {
      const len = this.pending.readUIntBE(0, 3);
      if (len > MAX_FRAME) throw new Http2Error(`a ${len}-byte frame, over the ${MAX_FRAME} allowed`);
      if (this.pending.length < 9 + len) break;
      const type = this.pending[3]!;
      const flags = this.pending[4]!;
      const stream = this.pending.readUInt32BE(5) & 0x7fff_ffff;
      const payload = this.pending.subarray(9, 9 + len);
      this.pending = this.pending.subarray(9 + len);
      this.frame(type, flags, stream, payload, out);
    }
    return out;
  }

  private frame(type: number, flags: number, stream: number, p: Buffer, out: Buffer[]): void {
    if (this.block && type !== T.CONTINUATION) throw new Http2Error('a header block was interrupted');
    switch (type) {
      case T.SETTINGS:
        if (stream !== 0 || p.length % 6) throw new Http2Error('a malformed SETTINGS frame');
        if (!(flags & F.ACK)) out.push(frameOf(T.SETTINGS, F.ACK, 0, Buffer.alloc(0)));
        return;
      case T.PING:
        if (stream !== 0 || p.length !== 8) throw new Http2Error('a malformed PING frame');
        if (!(flags & F.ACK)) out.push(frameOf(T.PING, F.ACK, 0, p));
        return;
      case T.GOAWAY:
        throw new Http2Error(
          `the agent closed the connection (GOAWAY, code ${p.length >= 8 ? p.readUInt32BE(4) : '?'})`,
        );
      case T.RST_STREAM:
        if (stream === STREAM)
          throw new Http2Error(
            `the agent reset the call (RST_STREAM, code ${p.length === 4 ? p.readUInt32BE(0) : '?'})`,
          );
        return;
      case T.HEADERS: {
        if (stream !== STREAM) throw new Http2Error(`HEADERS on stream ${stream}`);
        const body = unpad(p, flags, flags & F.PRIORITY ? 5 : 0);
        this.block = [body];
        this.blockEnds = (flags & F.END_STREAM) !== 0;
        if (flags & F.END_HEADERS) this.endBlock();
        return;
      }
      case T.CONTINUATION:
        if (!this.block || stream !== STREAM) throw new Http2Error('a CONTINUATION without its HEADERS');
        this.block.push(p);
        if (flags & F.END_HEADERS) this.endBlock();
        return;
      case T.DATA:
        if (stream !== STREAM) throw new Http2Error(`DATA on stream ${stream}`);
        if (this.blocks === 0) throw new Http2Error('DATA before the response headers');
        this.body.push(unpad(p, flags, 0));
        if (flags & F.END_STREAM) this.finish();
        return;
      default:
        return; // WINDOW_UPDATE, PRIORITY, unknown types: nothing to do (§5.5)
    }
  }

  private endBlock(): void {
    const fields = this.hpack.decode(Buffer.concat(this.block!));
    this.block = undefined;
    const into = this.blocks++ === 0 ? this.headers : this.trailers;
    for (const [n, v] of fields) if (!into.has(n)) into.set(n, v);
    if (this.blockEnds) this.finish();
  }

  private finish(): void {
    this.reply = { headers: this.headers, trailers: this.trailers, body: Buffer.concat(this.body) };
  }
}

function unpad(p: Buffer, flags: number, skip: number): Buffer {
  let start = skip;
  let end = p.length;
  if (flags & F.PADDED) {
    if (p.length < 1) throw new Http2Error('a padded frame with no pad length');
    end -= p[0]!;
    start += 1;
  }
  if (start > end) throw new Http2Error('a frame whose padding is longer than itself');
  return p.subarray(start, end);
}

/**
 * Makes one request on a fresh connection to the unix socket `path` and resolves with the
 * reply; rejects with Http2Error (transport: true when the socket could not be used).
 * The caller bounds it in time with `signal`.
 */
export function request(
  path: string,
  headers: [string, string][],
  body: Buffer,
  signal: AbortSignal,
): Promise<Http2Reply> {
  return new Promise((resolve, reject) => {
    const reader = new ReplyReader();
    const sock: Socket = createConnection(path);
    const done = (err: Error | undefined, reply?: Http2Reply): void => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => done(signal.reason as Error);
    signal.addEventListener('abort', onAbort);
    sock.on('connect', () => sock.write(requestBytes(headers, body)));
    sock.on('error', (e) => done(new Http2Error(e.message, true)));
    sock.on('data', (chunk: Buffer) => {
      try {
        for (const f of reader.feed(chunk)) sock.write(f);
      } catch (e) {
        return done(e as Error);
      }
      if (reader.reply) done(undefined, reader.reply);
    });
    sock.on('end', () => done(new Http2Error('the agent closed the connection before the call ended', true)));
  });
}
