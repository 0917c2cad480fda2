// The IK handshake in our datagrams: Noise messages (noise.ts) placed in type-1 and type-2
// frames (wire.ts), the timestamp payload, and the prologue that binds both sides to one
// slice and one protocol version, so a gateway of another slice (or of an incompatible
// release) fails the handshake instead of exchanging frames with us.
import { PROTOCOL_VERSION, TIMESTAMP_LEN, type TransportCipher } from './constants.ts';
import type { KeyPair } from './crypto.ts';
import type { DropReason } from './drop-reason.ts';
import {
  ikReadInitiation,
  ikReadResponse,
  ikWriteInitiation,
  ikWriteResponse,
  type IkInitiator,
  type IkResponder,
  type IkSetup,
  type Transport,
} from './noise.ts';
import { buildInitiation, buildResponse, type Initiation, type Response } from './wire.ts';

export function prologue(slice: string, cipher: TransportCipher = 'chacha20-poly1305'): Buffer {
  const suffix = cipher === 'chacha20-poly1305' ? '' : ` cipher=${cipher}`;
  return Buffer.from(`slicenet/${PROTOCOL_VERSION} slice=${slice}${suffix}`);
}

export function createInitiation(
  setup: IkSetup,
  remoteStatic: Buffer,
  ss: Buffer,
  senderIndex: number,
  ephemeral: KeyPair,
  timestamp: Buffer,
): { datagram: Buffer; initiator: IkInitiator } | null {
  const w = ikWriteInitiation(setup, remoteStatic, ephemeral, timestamp, ss);
  return w && { datagram: buildInitiation(senderIndex, w.message), initiator: w.initiator };
}

export interface ConsumedInitiation {
  responder: IkResponder;
  timestamp: Buffer;
}

export function consumeInitiation(
  setup: IkSetup,
  msg: Initiation,
  ssFor: (remoteStatic: Buffer) => Buffer | undefined,
): ConsumedInitiation | DropReason {
  const r = ikReadInitiation(setup, msg.noise, ssFor);
  if (typeof r === 'string') return r;
  if (r.payload.length !== TIMESTAMP_LEN) return 'decrypt_failed';
  return { responder: r, timestamp: r.payload };
}

export function createResponse(
  responder: IkResponder,
  senderIndex: number,
  receiverIndex: number,
  ephemeral: KeyPair,
): { datagram: Buffer; transport: Transport } | null {
  const w = ikWriteResponse(responder, ephemeral, Buffer.alloc(0));
  return w && { datagram: buildResponse(senderIndex, receiverIndex, w.message), transport: w.transport };
}

export function consumeResponse(initiator: IkInitiator, msg: Response): Transport | DropReason {
  const r = ikReadResponse(initiator, msg.noise);
  if (typeof r === 'string') return r;
  return r.payload.length === 0 ? r.transport : 'decrypt_failed';
}
