/**
 * The one place agent errors become gRPC status (STYLE §5). The CNI plugin maps them on to
 * CNI error codes (`cni/errors.ts`); the proto's header comment states the whole chain.
 */
import { Metadata, status } from '@grpc/grpc-js';
import { AGENT_ERROR_METADATA_KEY, AgentError, type AgentErrorCode } from '../errors.ts';

export const GRPC_STATUS: Record<AgentErrorCode, status> = {
  UNKNOWN_SLICE: status.NOT_FOUND,
  NOT_FOUND: status.NOT_FOUND,
  NOT_JOINED: status.FAILED_PRECONDITION,
  POOL_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  CHECK_FAILED: status.FAILED_PRECONDITION,
  NOT_READY: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

export interface AgentStatus {
  code: status;
  details: string;
  metadata: Metadata;
  agentCode: AgentErrorCode;
}

/** Anything a backend throws, as the status a gRPC handler passes to its callback. */
export function toStatus(err: unknown): AgentStatus {
  const agentCode: AgentErrorCode = err instanceof AgentError ? err.code : 'INTERNAL';
  const metadata = new Metadata();
  metadata.set(AGENT_ERROR_METADATA_KEY, agentCode);
  const details = err instanceof Error ? err.message : String(err);
  return { code: GRPC_STATUS[agentCode], details, metadata, agentCode };
}
