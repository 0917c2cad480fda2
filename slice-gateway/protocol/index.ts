// The public surface of the gateway session protocol.
export { Device, type DeviceOptions } from './device.ts';
export type { Peer } from './peer.ts';
export type { Action, Endpoint, SessionKeys } from './actions.ts';
export type { Clock, Random } from './cookie.ts';
export { CookieChecker, CookieGenerator } from './cookie.ts';
export { HandshakeLimiter, DEFAULT_LIMITS, type LimiterOptions } from './limiter.ts';
export { DROP_REASONS, type DropReason } from './drop-reason.ts';
export { parse, type Message } from './wire.ts';
export { sealTransport, openTransport } from './transport.ts';
export { ReplayWindow, REPLAY_WINDOW, REPLAY_STATE_BYTES } from './replay.ts';
export { generateKeyPair, keyPairFromPrivate, type KeyPair } from './crypto.ts';
export type { Timers, TransportCipher } from './constants.ts';
export { DEFAULT_TIMERS } from './constants.ts';
export * as constants from './constants.ts';
