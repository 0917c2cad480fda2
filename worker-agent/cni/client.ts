/**
 * One unary gRPC call to the agent over its unix socket, on Node's own `node:http2`.
 * Loaded only by commands that talk to the agent (`import()` in commands.ts).
 *
 * Why not grpc-js: the plugin is a fresh process per pod, and loading and initialising
 * grpc-js was most of its start-up (measured: see README.md "Start-up"), while one unary call
 * needs very little of the protocol. What this speaks is plain gRPC over HTTP/2, the same as
 * grpc-js's client (the agent's server stays grpc-js, and test/server.test.ts talks to it
 * with grpc-js's client):
 *
 *   POST /slicenet.agent.v1.Agent/<Method>   content-type: application/grpc, te: trailers,
 *                                            grpc-timeout: <ms>m
 *   request:  one length-prefixed message    (flag 0 = not compressed, u32 big-endian length)
 *   response: one length-prefixed message, then trailers grpc-status, grpc-message
 *             (percent-encoded) and the agent's code in `slicenet-error-code`; an error
 *             may come as headers alone ("trailers-only")
 *
 * No compression, no retries, no keepalive: one call, then the process exits.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createConnection } from 'node:net';
import { AGENT_ERROR_METADATA_KEY } from '../errors.ts';
import { decode, encode, type Schema } from './codec.ts';
import { AgentCallError } from './errors.ts';
import type { Command } from './versions.ts';

export interface Call {
  command: Command;
  socket: string;
  method: 'Add' | 'Del' | 'Check' | 'Status' | 'Gc';
  request: object;
  requestSchema: Schema;
  responseSchema: Schema;
  timeoutMs: number;
}

/** gRPC status codes by number, as grpc-js names them (errors.ts maps the names). */
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The 5-byte gRPC message prefix and the message. */
export function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** The one message of a unary response; undefined when the body holds none. */
export function unframe(body: Buffer): Buffer | undefined {
  if (body.length < 5) return undefined;
  if (body[0] !== 0)
    throw new Error('the agent sent a compressed message, which the plugin does not ask for');
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len)
    throw new Error(`the agent's reply was cut short (${body.length - 5} of ${len} bytes)`);
  return body.subarray(5, 5 + len);
}

const header = (h: IncomingHttpHeaders, key: string): string | undefined => {
  const v = h[key];
  return Array.isArray(v) ? v[0] : v;
};

function decodeMessage(raw: string | undefined): string {
  if (!raw) return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export function callAgent(c: Call): Promise<Record<string, unknown>> {
  const fail = (status: string, details: string, agentCode?: string): AgentCallError =>
    new AgentCallError(c.command, c.socket, status, agentCode, details);
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    let settled = false;
    const session: ClientHttp2Session = connect('http://localhost', {
      createConnection: () => createConnection(c.socket),
    });
    const finish = (err: AgentCallError | undefined, res?: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      if (err) reject(err);
      else resolve(res ?? {});
    };
    const timer = setTimeout(
      () => finish(fail('DEADLINE_EXCEEDED', `no answer from the agent within ${c.timeoutMs} ms`)),
      c.timeoutMs,
    );
    // A refused or absent socket, a reset: the agent is not there, as grpc-js reports it.
    session.on('error', (e: Error) => finish(fail('UNAVAILABLE', `cannot reach the agent: ${e.message}`)));
    const req = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: `/slicenet.agent.v1.Agent/${c.method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${c.timeoutMs}m`,
    });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h: IncomingHttpHeaders) => (headers = h));
    req.on('trailers', (t: IncomingHttpHeaders) => (trailers = t));
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('error', (e: Error) => finish(fail('UNAVAILABLE', `the call to the agent failed: ${e.message}`)));
    req.on('close', () => {
      // Trailers-only responses carry the status in the headers.
      const all = { ...headers, ...trailers };
      const code = header(all, 'grpc-status');
      if (code === undefined) {
        const http = header(headers, constants.HTTP2_HEADER_STATUS);
        return finish(
          fail('UNAVAILABLE', `the agent closed the call without a gRPC status (HTTP ${http ?? 'none'})`),
        );
      }
      const name = STATUS_NAMES[Number(code)] ?? code;
      if (name !== 'OK')
        return finish(
          fail(
            name,
            decodeMessage(header(all, 'grpc-message')) || name,
            header(all, AGENT_ERROR_METADATA_KEY),
          ),
        );
      try {
        const msg = unframe(Buffer.concat(chunks));
        finish(undefined, decode(c.responseSchema, msg ?? Buffer.alloc(0)));
      } catch (e) {
        finish(fail('INTERNAL', `cannot decode the agent's reply: ${(e as Error).message}`));
      }
    });
    req.end(frame(encode(c.requestSchema, c.request)));
  });
}
