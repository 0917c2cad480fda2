/**
 * What the QoS engine shapes: one class per slice gateway on a node's uplink, identified by
 * the gateway's UDP port. The port is also the class's minor number (classid 1:<port in hex>)
 * and the filters' preference, so the kernel's own state says which class is whose: a restarted
 * netop reads `tc` and finds every slice's class without any file of its own.
 */
import type { Dscp } from '../../controller/api/types.ts';
import { SlicenetError } from '../../lib/errors.ts';

export interface SliceQos {
  slice: string;
  /** The slice gateway's UDP port on this node. */
  port: number;
  guaranteedKbit: number;
  ceilingKbit: number;
  /** 0 highest – 7 lowest. */
  priority: number;
  dscp: Dscp;
}

export interface QosDeviceConfig {
  /** The uplink, e.g. eth0. */
  device: string;
  /** Its rate: the parent class's rate and ceiling, and every slice's ceiling at most. */
  linkKbit: number;
  /** Also shape what arrives on the uplink, through an ifb device. */
  ingress: boolean;
}

export class QosError extends SlicenetError {
  constructor(message: string) {
    super('QOS_INVALID', message);
  }
}

/** Minor numbers 1 and 2 are the parent and default classes; ports below 3 cannot be slices. */
export const PARENT_MINOR = 1;
export const DEFAULT_MINOR = 2;
export const MIN_PORT = 3;

export const classId = (minor: number): string => `1:${minor.toString(16)}`;

/** DSCP codepoints (RFC 2474, 2597, 3246) of the classes a slice may carry. */
export const DSCP_CODEPOINTS: Readonly<Record<Dscp, number>> = {
  Default: 0,
  AF11: 10,
  AF12: 12,
  AF13: 14,
  AF21: 18,
  AF22: 20,
  AF23: 22,
  AF31: 26,
  AF32: 28,
  AF33: 30,
  AF41: 34,
  AF42: 36,
  AF43: 38,
  CS1: 8,
  CS2: 16,
  CS3: 24,
  CS4: 32,
  CS5: 40,
  CS6: 48,
  CS7: 56,
  EF: 46,
};

/** Checks a node's slice list; each error names the slice and the field. */
export function validateQos(slices: SliceQos[], cfg: QosDeviceConfig): void {
  const ports = new Map<number, string>();
  let guaranteed = 0;
  for (const s of slices) {
    const at = `slice ${s.slice}`;
    if (!Number.isInteger(s.port) || s.port < MIN_PORT || s.port > 65535)
      throw new QosError(`${at}: gateway port ${s.port} must be a whole number from ${MIN_PORT} to 65535`);
    const other = ports.get(s.port);
    if (other) throw new QosError(`${at}: gateway port ${s.port} is also slice ${other}'s on this node`);
    ports.set(s.port, s.slice);
    if (!(s.guaranteedKbit > 0) || !(s.ceilingKbit >= s.guaranteedKbit))
      throw new QosError(
        `${at}: qos needs 0 < guaranteedKbps <= ceilingKbps (got ${s.guaranteedKbit}, ${s.ceilingKbit})`,
      );
    if (!Number.isInteger(s.priority) || s.priority < 0 || s.priority > 7)
      throw new QosError(`${at}: qos.priority ${s.priority} must be 0 (highest) to 7`);
    if (!(s.dscp in DSCP_CODEPOINTS)) throw new QosError(`${at}: qos.dscp "${s.dscp}" is not a DSCP class`);
    guaranteed += s.guaranteedKbit;
  }
  if (guaranteed > cfg.linkKbit)
    throw new QosError(
      `the slices' guarantees add up to ${guaranteed} kbit/s, more than ${cfg.device}'s ${cfg.linkKbit}: lower a guarantee or raise the link rate`,
    );
}
