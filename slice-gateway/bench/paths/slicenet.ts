/**
 * (a) Slicenet's gateway, one per side, each a `standalone.ts` process in its gateway
 * namespace: its TAP `sgw0` on the pod bridge `br0` (an L2 slice), one UDP socket on the WAN
 * address, the other gateway its only peer. Fresh X25519 keys per run, from the protocol's
 * generateKeyPair(). The config is the gateway's own JSON (slice-gateway/gateway/config.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processArgv } from '../../../lib/bundle.ts';
import { waitFor } from '../../../lib/wait.ts';
import type { TransportCipher } from '../../protocol/index.ts';
import { generateKeyPair } from '../../protocol/index.ts';
import { logShows } from '../process-log.ts';
import { POD_MTU, WAN_MTU, type Topology } from '../topology.ts';
import type { BenchPath, PathContext } from './path.ts';

const PORT = 51820;

/**
 * SLICENET_BENCH_OFFLOADS=1|0 and SLICENET_BENCH_FASTPATH=1|0: the gateways' TAP offloads and
 * native fast path (unset: the gateway's defaults, both on).
 */
function switches(): { offloads?: boolean; fastPath?: boolean } {
  const out: { offloads?: boolean; fastPath?: boolean } = {};
  for (const [env, key] of [
    ['SLICENET_BENCH_OFFLOADS', 'offloads'],
    ['SLICENET_BENCH_FASTPATH', 'fastPath'],
  ] as const) {
    const v = process.env[env];
    if (v === undefined || v === '') continue;
    if (v !== '0' && v !== '1') throw new Error(`${env} "${v}": must be 0 or 1`);
    out[key] = v === '1';
  }
  return out;
}

async function up(t: Topology, ctx: PathContext, name: string, cipher: TransportCipher): Promise<void> {
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const ids: string[] = [];
  for (const side of ['a', 'b'] as const) {
    const other = side === 'a' ? 'b' : 'a';
    const config = {
      privateKey: keys[side].privateKey.toString('base64'),
      slice: 'bench',
      listen: { address: t.wanIp[side], port: PORT },
      tap: { name: 'sgw0', bridge: 'br0' },
      sliceMtu: POD_MTU,
      wanMtu: WAN_MTU,
      cipher,
      ...switches(),
      peers: [
        {
          cluster: `gw-${other}`,
          publicKey: keys[other].publicKey.toString('base64'),
          endpoints: [`${t.wanIp[other]}:${PORT}`],
        },
      ],
    };
    const file = join(ctx.dir, `${name}-${side}.json`);
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const id = `${name}-${side}`;
    ctx.procs.start({
      id,
      argv: [...processArgv('slicenet-gateway-standalone'), '--config', file],
      netns: side === 'a' ? t.ns.gwA : t.ns.gwB,
      cwd: ctx.repo,
    });
    ids.push(id);
  }
  await waitFor(
    () => Promise.resolve(ids.every((id) => logShows(ctx.procs, id, '"ready":true'))),
    30_000,
    `${name}: both gateways ready`,
  );
}

export const slicenetChacha: BenchPath = {
  name: 'slicenet-chacha20-poly1305',
  tag: 'sc',
  label: 'Slicenet gateway, ChaCha20-Poly1305',
  layout: 'l2',
  up: (t, ctx) => up(t, ctx, 'slicenet-chacha20-poly1305', 'chacha20-poly1305'),
};

export const slicenetAes: BenchPath = {
  name: 'slicenet-aes-256-gcm',
  tag: 'sa',
  label: 'Slicenet gateway, AES-256-GCM',
  layout: 'l2',
  up: (t, ctx) => up(t, ctx, 'slicenet-aes-256-gcm', 'aes-256-gcm'),
};
