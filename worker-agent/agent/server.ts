/**
 * The agent's gRPC server on a unix socket: the CNI plugin's only way in. It validates each
 * request (INVALID_ARGUMENT naming the field), calls the backend with a signal that aborts
 * when the caller's deadline passes or it hangs up, and maps what the backend throws to gRPC
 * status in one place (`status.ts`). Calls are independent; the backend does its own
 * per-attachment serialisation.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../lib/log.ts';
import type { AgentBackend, AttachRequest, GcRequest } from '../api.ts';
import { claimSocketPath, releaseSocketPath, restrictSocket } from './socket.ts';
import { toStatus } from './status.ts';
import { validateAttach, validateGc } from './validate.ts';

export type AgentMethod = 'Add' | 'Del' | 'Check' | 'Status' | 'Gc';

export interface ServeOptions {
  log?: Logger;
  /** Called once per call: `result` is `ok` or the agent error code; for the metrics registry. */
  observe?: (method: AgentMethod, result: string, seconds: number) => void;
  /** Where agent.proto is; default: next to this folder. */
  protoPath?: string;
}

export interface AgentServer {
  /** Stops taking calls, lets running ones finish (2 s at most), removes the socket file. */
  close(): Promise<void>;
}

const PROTO = fileURLToPath(new URL('../proto/agent.proto', import.meta.url));
const SHUTDOWN_GRACE_MS = 2000;

export async function serveAgent(
  socketPath: string,
  backend: AgentBackend,
  signal: AbortSignal,
  opts: ServeOptions = {},
): Promise<AgentServer> {
  const def = loadSync(opts.protoPath ?? PROTO, {
    keepCase: false,
    longs: Number,
    defaults: true,
    arrays: true,
  });
  const service = def['slicenet.agent.v1.Agent'] as grpc.ServiceDefinition;
  const server = new grpc.Server();
  const handle = handler(opts);
  server.addService(service, {
    Add: handle('Add', async (req: AttachRequest, s) => {
      validateAttach('Add', req);
      return backend.add(req, s);
    }),
    Del: handle('Del', async (req: AttachRequest, s) => {
      validateAttach('Del', req);
      await backend.del(req, s);
      return {};
    }),
    Check: handle('Check', async (req: AttachRequest, s) => {
      validateAttach('Check', req);
      await backend.check(req, s);
      return {};
    }),
    Status: handle('Status', async (_req: object, s) => {
      await backend.status(s);
      return {};
    }),
    Gc: handle('Gc', async (req: GcRequest, s) => {
      validateGc(req);
      await backend.gc(req, s);
      return {};
    }),
  });

  await claimSocketPath(socketPath);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  const ino = await restrictSocket(socketPath);
  opts.log?.info('agent socket listening', { socket: socketPath });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => (server.forceShutdown(), resolve()), SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => (clearTimeout(force), resolve()));
      });
      await releaseSocketPath(socketPath, ino);
      opts.log?.info('agent socket closed', { socket: socketPath });
    })());
  signal.addEventListener('abort', () => void close(), { once: true });
  if (signal.aborted) await close();
  return { close };
}

/** Wraps a method body: abort on cancel, observe, map errors once. */
function handler(opts: ServeOptions) {
  return <Req, Res>(
      method: AgentMethod,
      body: (req: Req, signal: AbortSignal) => Promise<Res>,
    ): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      const started = process.hrtime.bigint();
      const abort = new AbortController();
      call.once('cancelled', () => abort.abort(new Error(`${method} cancelled by the caller`)));
      const done = (result: string): void =>
        opts.observe?.(method, result, Number(process.hrtime.bigint() - started) / 1e9);
      body(call.request, abort.signal).then(
        (res) => {
          done('ok');
          callback(null, res);
        },
        (err: unknown) => {
          const st = toStatus(err);
          done(st.agentCode);
          if (st.agentCode === 'INTERNAL') opts.log?.error('agent call failed', { method, err });
          else opts.log?.debug('agent call refused', { method, code: st.agentCode, details: st.details });
          callback({ code: st.code, details: st.details, metadata: st.metadata });
        },
      );
    };
}
