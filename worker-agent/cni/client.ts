/**
 * One unary call to the agent over its unix socket. Loaded only by commands that talk to
 * the agent (`import()` in commands.ts): grpc-js is most of the plugin's start-up cost, and
 * VERSION must not pay it.
 */
import { Client, Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
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

export function callAgent(c: Call): Promise<Record<string, unknown>> {
  const client = new Client(`unix:${c.socket}`, credentials.createInsecure());
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    client.makeUnaryRequest(
      `/slicenet.agent.v1.Agent/${c.method}`,
      (msg: object) => encode(c.requestSchema, msg),
      (buf: Buffer) => decode(c.responseSchema, buf),
      c.request,
      new Metadata(),
      { deadline: Date.now() + c.timeoutMs },
      (err: ServiceError | null, res?: Record<string, unknown>) => {
        if (!err) return resolve(res ?? {});
        const agentCode = err.metadata?.get(AGENT_ERROR_METADATA_KEY)[0];
        const name = status[err.code] ?? String(err.code);
        reject(
          new AgentCallError(c.command, c.socket, name, agentCode?.toString(), err.details || err.message),
        );
      },
    );
  }).finally(() => client.close());
}
