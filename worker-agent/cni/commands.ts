/**
 * The six CNI commands. Each turns the environment and the netconf into one agent call and
 * the reply into what goes on stdout; failures are thrown and mapped in main.ts. The agent
 * keeps all state: the plugin holds none between calls.
 */
import { existsSync } from 'node:fs';
import type { AttachRequest, AttachResult, GcRequest } from '../api.ts';
import { ATTACH_REQUEST, ATTACH_RESULT, EMPTY, GC_REQUEST, type Schema } from './codec.ts';
import { podIdentity, type CniEnv } from './env.ts';
import { AgentCallError, CniError } from './errors.ts';
import { agentSocketPath, decodeStdin, parseNetConf, type NetConf } from './netconf.ts';
import { addResult, listsInterface } from './result.ts';
import { LATEST_VERSION, SUPPORTED_VERSIONS, isSupported, type Command } from './versions.ts';

export interface Invocation {
  env: CniEnv;
  stdin: string;
  /** The process environment, for SLICENET_AGENT_SOCKET. */
  vars: NodeJS.ProcessEnv;
}

/**
 * Deadlines per command. ADD's bounds how long a pod waits for an agent that is up but stuck;
 * a runtime retries an 11 anyway, so waiting longer buys nothing.
 */
const TIMEOUT_MS: Record<Exclude<Command, 'VERSION'>, number> = {
  ADD: 10_000,
  DEL: 10_000,
  CHECK: 5_000,
  STATUS: 3_000,
  GC: 10_000,
};

export async function cmdAdd(inv: Invocation): Promise<string> {
  const conf = parseNetConf(inv.stdin, 'ADD');
  const reply = await call(inv, conf, 'Add', attachRequest(inv, conf, true), ATTACH_REQUEST, ATTACH_RESULT);
  return JSON.stringify(addResult(conf.cniVersion, inv.env.netns, reply as unknown as AttachResult));
}

/** Idempotent: an attachment the agent does not know is already deleted. */
export async function cmdDel(inv: Invocation): Promise<string> {
  const conf = parseNetConf(inv.stdin, 'DEL');
  try {
    await call(inv, conf, 'Del', attachRequest(inv, conf, false), ATTACH_REQUEST, EMPTY);
  } catch (e) {
    if (!(e instanceof AgentCallError && e.agentCode === 'NOT_FOUND')) throw e;
  }
  return '';
}

export async function cmdCheck(inv: Invocation): Promise<string> {
  const conf = parseNetConf(inv.stdin, 'CHECK');
  if (!listsInterface(conf.prevResult ?? {}, inv.env.ifname, inv.env.netns)) {
    throw new CniError(
      'INVALID_NETWORK_CONFIG',
      `prevResult: lists no interface "${inv.env.ifname}" with sandbox "${inv.env.netns}"; CHECK needs this container's ADD result`,
    );
  }
  await call(inv, conf, 'Check', attachRequest(inv, conf, true), ATTACH_REQUEST, EMPTY);
  return '';
}

export async function cmdStatus(inv: Invocation): Promise<string> {
  const conf = parseNetConf(inv.stdin, 'STATUS');
  await call(inv, conf, 'Status', {}, EMPTY, EMPTY);
  return '';
}

export async function cmdGc(inv: Invocation): Promise<string> {
  const conf = parseNetConf(inv.stdin, 'GC');
  const req: GcRequest = { networkName: conf.name, slice: conf.slice, valid: conf.validAttachments };
  await call(inv, conf, 'Gc', req, GC_REQUEST, EMPTY);
  return '';
}

/** Answers in the version the runtime asked in, when it is one of ours. */
export function cmdVersion(inv: Invocation): Promise<string> {
  let asked: unknown;
  try {
    asked = decodeStdin(inv.stdin).cniVersion;
  } catch {
    // VERSION must answer even to a runtime that sends no config.
  }
  const cniVersion = isSupported(asked) ? asked : LATEST_VERSION;
  return Promise.resolve(JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_VERSIONS }));
}

function attachRequest(inv: Invocation, conf: NetConf, podRequired: boolean): AttachRequest {
  const pod = podIdentity(inv.env, podRequired);
  return {
    containerId: inv.env.containerId,
    netns: inv.env.netns,
    ifname: inv.env.ifname,
    slice: conf.slice,
    networkName: conf.name,
    podNamespace: pod.namespace,
    podName: pod.name,
    podUid: pod.uid,
    cniVersion: conf.cniVersion,
  };
}

async function call(
  inv: Invocation,
  conf: NetConf,
  method: 'Add' | 'Del' | 'Check' | 'Status' | 'Gc',
  request: object,
  requestSchema: Schema,
  responseSchema: Schema,
): Promise<Record<string, unknown>> {
  const command = inv.env.command as Exclude<Command, 'VERSION'>;
  const socket = agentSocketPath(conf, inv.vars);
  // Checked before loading gRPC: an absent agent is the common failure, and answering it
  // costs nothing this way.
  if (!existsSync(socket)) {
    throw new AgentCallError(
      command,
      socket,
      'UNAVAILABLE',
      undefined,
      `no agent socket at ${socket}: is slicenet-agent running on this node?`,
    );
  }
  const { callAgent } = await import('./client.ts');
  return callAgent({
    command,
    socket,
    method,
    request,
    requestSchema,
    responseSchema,
    timeoutMs: TIMEOUT_MS[command],
  });
}
