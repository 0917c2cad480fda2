// A typed loader for noise-c.wasm (rweather/noise-c compiled to WebAssembly), the reference
// Noise implementation the interop tests run against. It ships no types, so this file
// declares the part of its API the tests use.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

export interface NoiseCipherState {
  EncryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  DecryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  free(): void;
}

export interface NoiseHandshakeState {
  Initialize(prologue: Uint8Array | null, s: Uint8Array | null, rs: Uint8Array | null, psk: null): void;
  WriteMessage(payload?: Uint8Array): Uint8Array;
  ReadMessage(message: Uint8Array, payloadNeeded?: boolean): Uint8Array;
  GetHandshakeHash(): Uint8Array;
  GetRemotePublicKey(): Uint8Array;
  Split(): [NoiseCipherState, NoiseCipherState];
  free(): void;
}

export interface NoiseC {
  constants: Record<string, number>;
  HandshakeState: (protocol: string, role: number) => NoiseHandshakeState;
}

type Factory = (options: object, callback: (lib: NoiseC) => void) => void;

export function loadNoiseC(): Promise<NoiseC> {
  const require = createRequire(import.meta.url);
  const create = require('noise-c.wasm') as Factory;
  // Handing over the binary keeps Emscripten from trying fetch() on a file path first.
  const wasmBinary = readFileSync(require.resolve('noise-c.wasm/src/noise-c.wasm'));
  return new Promise((resolve) => create({ wasmBinary }, resolve));
}
