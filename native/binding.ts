/**
 * Loads the compiled addon (build/Release/slicenet_native.node) and declares its raw
 * functions. The rest of native/ wraps these in typed objects; only they call the binding.
 * Argument order and meaning are those of the C sources in src/, which check every argument
 * again (types, ranges, offsets inside buffers) before they touch memory or the kernel.
 */
import { createRequire } from 'node:module';
import { SlicenetError } from '../lib/errors.ts';

/** The native reader object (src/reader.c); see TapReader and UdpReader for the contract. */
export interface NativeReader {
  start(): void;
  stop(): void;
  close(): void;
  counters(): { wakeups: number; items: number; truncated: number; errors: number; fast: number };
  setFast(fastPath: NativeFastPath | null): void;
}

/** The native fast path (src/fastpath.c); see FastPath in fastpath.ts for the contract. */
export interface NativeFastPath {
  setRx(
    index: number,
    slot: number,
    key: NativeAeadKey,
    addr: number,
    port: number,
    until: number,
    replayState: Uint8Array,
  ): void;
  deleteRx(index: number): void;
  setTx(
    slot: number,
    key: NativeAeadKey,
    addr: number,
    port: number,
    until: number,
    remoteIndex: number,
    limit: bigint,
  ): void;
  deleteTx(slot: number): void;
  setMac(mac: number, slot: number): boolean;
  deleteMac(mac: number): void;
  macSeen(mac: number): number;
  macSlot(mac: number): number;
  clear(): void;
}

export interface NativeAeadKey {
  destroy(): void;
}

export interface NativeBinding {
  opensslVersion: string;
  opensslFrom: string;
  tapOpen(name: string, vnetHdr: boolean, offloads: number): { fd: number; name: string; vnetHdrLen: number };
  closeFd(fd: number): void;
  writeFrames(
    fd: number,
    vnetHdrLen: number,
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    start: number,
    end: number,
    ctl: Int32Array,
  ): number;
  udpOpen(
    address: string,
    port: number,
    gso: boolean,
    gro: boolean,
    bufBytes: number,
  ): { fd: number; port: number; gso: boolean; gro: boolean };
  sendBatch(
    fd: number,
    ctl: Int32Array,
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    start: number,
    end: number,
    addrs: Uint32Array,
    ports: Uint16Array,
  ): number;
  Reader: new (
    kind: 0 | 1,
    fd: number,
    onBatch: (count: number, errno: number) => void,
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    addrs: Uint32Array | undefined,
    ports: Uint16Array | undefined,
    maxBatch: number,
    slotSize: number,
    vnetHdrLen: number,
  ) => NativeReader;
  FastPath: new (
    tapFd: number,
    vnetHdrLen: number,
    tapHdrFlags: number,
    udpFd: number,
    maxFrame: number,
    stats: Float64Array,
    counters: BigUint64Array,
  ) => NativeFastPath;
  fastNow(): number;
  replayAccept(replayState: Uint8Array, counter: bigint): boolean;
  groCoalesce(
    src: Uint8Array,
    srcOffsets: Uint32Array,
    srcLengths: Uint32Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstOffsets: Uint32Array,
    dstLengths: Uint32Array,
    ctl: Int32Array,
  ): number;
  gsoSplit(
    src: Uint8Array,
    srcOffsets: Uint32Array,
    srcLengths: Uint32Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstOffsets: Uint32Array,
    dstLengths: Uint32Array,
    first: Uint32Array,
    maxFrame: number,
    ctl: Int32Array,
  ): number;
  AeadKey: new (alg: string, key: Uint8Array) => NativeAeadKey;
  sealBatch(
    key: NativeAeadKey,
    receiverIndex: number,
    firstCounter: bigint,
    src: Uint8Array,
    srcOffsets: Uint32Array,
    srcLengths: Uint32Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstStart: number,
    dstOffsets: Uint32Array,
    dstLengths: Uint32Array,
  ): number;
  openBatch(
    key: NativeAeadKey,
    src: Uint8Array,
    srcOffsets: Uint32Array,
    srcLengths: Uint32Array,
    start: number,
    end: number,
    dst: Uint8Array,
    dstStart: number,
    dstOffsets: Uint32Array,
    dstLengths: Uint32Array,
    counters: BigUint64Array,
    status: Uint8Array,
  ): number;
  netlinkOpen(nsPath: string, protocol: number): number;
  netlinkCall(fd: number, request: Uint8Array): Buffer[];
  netlinkCallAsync(fd: number, request: Uint8Array): Promise<Buffer[]>;
  netnsWriteFile(nsPath: string, path: string, text: string): void;
}

/** Where the build puts the addon; `npm run build:native` (native/build.sh) makes it. */
export const addonPath = new URL('./build/Release/slicenet_native.node', import.meta.url).pathname;
let binding: NativeBinding | undefined;

/**
 * Loads the addon once and returns it. Throws SlicenetError `NATIVE_NOT_BUILT` when the .node
 * file is missing, and passes on the addon's own refusals: `ERR_OPENSSL_MISMATCH` (Node's
 * OpenSSL is not the major version of the headers it was built with) and `ERR_OPENSSL_NOT_NODE`
 * (the EVP functions resolved to some library other than the Node binary). Every wrapper
 * calls it on first use, so importing native/ never fails; a process may call it at start
 * to fail early.
 */
export function loadNative(): NativeBinding {
  if (binding) return binding;
  try {
    binding = createRequire(import.meta.url)(addonPath) as NativeBinding;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND')
      throw new SlicenetError(
        'NATIVE_NOT_BUILT',
        `the native addon is not built (${addonPath} is missing): run \`npm run build:native\``,
        { cause: err },
      );
    throw err;
  }
  return binding;
}
