/**
 * One unary gRPC call to the agent over its unix socket, on the plugin's own small HTTP/2
 * client (http2.ts, hpack.ts) over `node:net`. Loaded only by commands that talk to the agent
 * (`import()` in commands.ts).
 *
 * Why not grpc-js, nor node:http2: the plugin is a fresh process per pod, and loading and
 * initialising grpc-js was most of its start-up, and node:http2 still ~10 ms of CPU of it
 * (measured: see README.md "Start-up"), while one unary call needs very little of either
 * protocol. What this speaks is plain gRPC over HTTP/2, the same as grpc-js's client (the
 * agent's server stays grpc-js, and test/server.test.ts talks to it with grpc-js's client):
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
import { AGENT_ERROR_METADATA_KEY } from '../errors.ts';
import { decode, encode, type Schema } from './codec.ts';
import { AgentCallError } from './errors.ts';
import { Http2Error, request } from './http2.ts';
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

function decodeMessage(raw: string | undefined): string {
  if (!raw) return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export async function callAgent(c: Call): Promise<Record<string, unknown>> {
  const fail = (status: string, details: string, agentCode?: string): AgentCallError =>
    new AgentCallError(c.command, c.socket, status, agentCode, details);
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(fail('DEADLINE_EXCEEDED', `no answer from the agent within ${c.timeoutMs} ms`)),
    c.timeoutMs,
  );
  let reply;
  try {
    reply = await request(
      c.socket,
      [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', `/slicenet.agent.v1.Agent/${c.method}`],
        [':authority', 'localhost'],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
        ['grpc-timeout', `${c.timeoutMs}m`],
      ],
      frame(encode(c.requestSchema, c.request)),
      deadline.signal,
    );
  } catch (e) {
    if (e instanceof AgentCallError) throw e;
    // A refused or absent socket, a reset: the agent is not there, as grpc-js reports it.
    const what =
      e instanceof Http2Error && e.transport ? 'cannot reach the agent' : 'the call to the agent failed';
    throw fail('UNAVAILABLE', `${what}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  // Trailers-only responses carry the status in the headers.
  const all = (key: string): string | undefined => reply.trailers.get(key) ?? reply.headers.get(key);
  const code = all('grpc-status');
  if (code === undefined)
    throw fail(
      'UNAVAILABLE',
      `the agent closed the call without a gRPC status (HTTP ${reply.headers.get(':status') ?? 'none'})`,
    );
  const name = STATUS_NAMES[Number(code)] ?? code;
  if (name !== 'OK')
    throw fail(name, decodeMessage(all('grpc-message')) || name, all(AGENT_ERROR_METADATA_KEY));
  try {
    return decode(c.responseSchema, unframe(reply.body) ?? Buffer.alloc(0));
  } catch (e) {
    throw fail('INTERNAL', `cannot decode the agent's reply: ${(e as Error).message}`);
  }
}
