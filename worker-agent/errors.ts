/**
 * The agent's error codes. A backend throws `AgentError`; the gRPC server maps the code to a
 * gRPC status once (`agent/status.ts`) and also sends the code itself as trailing metadata,
 * so the CNI plugin can tell apart failures that share a gRPC status (an unknown slice and an
 * unknown container are both NOT_FOUND). This module loads nothing, so the plugin can import
 * it without paying for gRPC.
 */
import { SlicenetError } from '../lib/errors.ts';

export const AGENT_ERROR_CODES = [
  /** The request names a slice this node does not know. */
  'UNKNOWN_SLICE',
  /** The pod's namespace has not joined the slice (SPEC §5: refused even with an annotation). */
  'NOT_JOINED',
  /** No free address in the cluster's share of the slice subnet. */
  'POOL_EXHAUSTED',
  /** A request field the agent refuses; the message names it. */
  'INVALID_REQUEST',
  /** No such attachment (Check of something never added). */
  'NOT_FOUND',
  /** The attachment exists but is not as Add left it (Check). */
  'CHECK_FAILED',
  /** The agent is starting, or lost a dependency: try again later. */
  'NOT_READY',
  /** A bug or an unexpected failure. */
  'INTERNAL',
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];

/** The trailing-metadata key that carries an `AgentErrorCode` next to the gRPC status. */
export const AGENT_ERROR_METADATA_KEY = 'slicenet-error-code';

export const isAgentErrorCode = (s: string): s is AgentErrorCode =>
  (AGENT_ERROR_CODES as readonly string[]).includes(s);

export class AgentError extends SlicenetError {
  declare readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
