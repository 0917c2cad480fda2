// Protocol constants in one place, so the README, the state machine and the tests agree.
// Timer values are WireGuard's (whitepaper §6.1): they are tuned for the same job.

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';
// Bumped when the wire format or the key schedule changes; part of the prologue, so peers
// running different versions fail the handshake instead of misreading each other.
export const PROTOCOL_VERSION = 1;

export const KEY_LEN = 32;
export const TAG_LEN = 16;
export const MAC_LEN = 16;
export const TIMESTAMP_LEN = 12;
export const COOKIE_NONCE_LEN = 24;

export const MSG_INITIATION = 1;
export const MSG_RESPONSE = 2;
export const MSG_COOKIE_REPLY = 3;
export const MSG_TRANSPORT = 4;

export const INITIATION_LEN = 4 + 4 + KEY_LEN + (KEY_LEN + TAG_LEN) + (TIMESTAMP_LEN + TAG_LEN) + 2 * MAC_LEN; // 148
export const RESPONSE_LEN = 4 + 4 + 4 + KEY_LEN + TAG_LEN + 2 * MAC_LEN; // 92
export const COOKIE_REPLY_LEN = 4 + 4 + COOKIE_NONCE_LEN + MAC_LEN + TAG_LEN; // 64
export const TRANSPORT_HEADER_LEN = 16;
export const TRANSPORT_MIN_LEN = TRANSPORT_HEADER_LEN + TAG_LEN; // 32, an empty keepalive

/** Bytes a transport datagram adds to a frame (header + tag); the UDP/IP headers come on top. */
export const TRANSPORT_OVERHEAD = TRANSPORT_MIN_LEN;

// Labels of the keys derived from the responder's static public key (WireGuard's names).
export const LABEL_MAC1 = 'mac1----';
export const LABEL_COOKIE = 'cookie--';

export const REKEY_AFTER_MESSAGES = 1n << 60n;
export const REJECT_AFTER_MESSAGES = (1n << 64n) - (1n << 13n) - 1n;

export const SECOND = 1000;
export const REKEY_AFTER_TIME = 120 * SECOND;
export const REJECT_AFTER_TIME = 180 * SECOND;
export const REKEY_ATTEMPT_TIME = 90 * SECOND;
export const REKEY_TIMEOUT = 5 * SECOND;
export const REKEY_TIMEOUT_JITTER = 333;
export const KEEPALIVE_TIMEOUT = 10 * SECOND;
export const COOKIE_REFRESH_TIME = 120 * SECOND;
/**
 * The session timers a Device runs on. Production uses DEFAULT_TIMERS (WireGuard's values);
 * tests and labs shorten them (e.g. a rekey every few seconds) through DeviceOptions.timers.
 */
export interface Timers {
  /** The initiator of a session replaces it after this long (jittered down by up to 1/24). */
  rekeyAfterTime: number;
  /** A session neither sends nor receives after this long; must exceed rekeyAfterTime. */
  rejectAfterTime: number;
  /** A handshake that has not completed after this long gives up (`handshake-failed`). */
  rekeyAttemptTime: number;
  /** Handshake retry interval; also part of the new-handshake and renew-on-receive timers. */
  rekeyTimeout: number;
  /** Received data and sent nothing for this long: send a keepalive. */
  keepaliveTimeout: number;
}

export const DEFAULT_TIMERS: Readonly<Timers> = {
  rekeyAfterTime: REKEY_AFTER_TIME,
  rejectAfterTime: REJECT_AFTER_TIME,
  rekeyAttemptTime: REKEY_ATTEMPT_TIME,
  rekeyTimeout: REKEY_TIMEOUT,
  keepaliveTimeout: KEEPALIVE_TIMEOUT,
};

/** The transport AEAD: ChaCha20-Poly1305 by default (the Noise suite), or AES-256-GCM. */
export type TransportCipher = 'chacha20-poly1305' | 'aes-256-gcm';

/** A peer's initiations closer together than this are dropped (a replayed or flooding initiator). */
export const INITIATION_MIN_INTERVAL = 20;
/** Frames queued per peer while a handshake is in flight; older ones are dropped first. */
export const MAX_STAGED_FRAMES = 128;
