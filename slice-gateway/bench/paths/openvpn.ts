/**
 * (b) OpenVPN configured as KubeSlice's gateway is — userspace, `dev tun` (routed between the
 * pod subnets), UDP, AES-256-CBC with HMAC-SHA256, `tun-mtu 1300` — and (c) the same with
 * AES-256-GCM. A tiny PKI (lab/pki.ts) and a tls-auth key are made for the run. Data-channel offload is off: the kernel
 * module is not installed here and KubeSlice's gateway does not use it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterPki } from '../../../lab/pki.ts';
import { run } from '../../../lib/exec.ts';
import { waitFor } from '../../../lib/wait.ts';
import { logShows } from '../process-log.ts';
import type { Topology } from '../topology.ts';
import type { BenchPath, PathContext } from './path.ts';

const PORT = 11194;

interface Flavour {
  /** `cipher` and `data-ciphers`. */
  cipher: string;
}

interface Files {
  ca: string;
  cert: string;
  key: string;
  ta: string;
  ccd: string;
}

/**
 * KubeSlice's server and client templates (gateway-certs-generator, ovpn/template) with the
 * values its sidecar injects: the server gateway is a one-client OpenVPN server, the client
 * gateway routes the server's pod subnet through the tunnel. Left out: `user`/`group` (no
 * effect on the data path) and a DH file (`dh none`: ECDHE, control channel only).
 */
function config(t: Topology, side: 'a' | 'b', f: Flavour, files: Files): string {
  const common = [
    'dev tun',
    'proto udp',
    'tun-mtu 1300',
    `ca ${files.ca}`,
    `cert ${files.cert}`,
    `key ${files.key}`,
    `cipher ${f.cipher}`,
    `data-ciphers ${f.cipher}`,
    'auth SHA256',
    'persist-key',
    'persist-tun',
    'disable-dco',
    'verb 3',
  ];
  const server = [
    'server 10.8.0.0 255.255.255.0',
    'topology subnet',
    `local ${t.wanIp.a}`,
    `port ${PORT}`,
    'dh none',
    `tls-auth ${files.ta} 0`,
    'keepalive 10 60',
    'txqueuelen 5000',
    'client-to-client',
    `client-config-dir ${files.ccd}`,
    'ccd-exclusive',
    'max-clients 1',
    'route 10.90.2.0 255.255.255.0',
  ];
  const client = [
    'client',
    'nobind',
    `remote ${t.wanIp.a} ${PORT}`,
    'remote-cert-tls server',
    `tls-auth ${files.ta} 1`,
    'route 10.90.1.0 255.255.255.0',
  ];
  return [...(side === 'a' ? server : client), ...common, ''].join('\n');
}

async function up(t: Topology, ctx: PathContext, name: string, f: Flavour): Promise<void> {
  const pki = new ClusterPki(join(ctx.dir, `${name}-pki`));
  await pki.init(name);
  const server = await pki.serving('gw-a', ['gw-a'], [t.wanIp.a]);
  const client = await pki.client('gw-b', { user: 'gw-b' });
  const ta = join(ctx.dir, `${name}-ta.key`);
  await run(['openvpn', '--genkey', 'tls-auth', ta]);
  const ccd = join(ctx.dir, `${name}-ccd`);
  mkdirSync(ccd);
  writeFileSync(join(ccd, 'gw-b'), 'iroute 10.90.2.0 255.255.255.0\n');
  const ids: string[] = [];
  for (const side of ['a', 'b'] as const) {
    const file = join(ctx.dir, `${name}-${side}.conf`);
    writeFileSync(
      file,
      config(t, side, f, { ca: pki.ca.cert, ...(side === 'a' ? server : client), ta, ccd }),
    );
    const id = `${name}-${side}`;
    ctx.procs.start({ id, argv: ['openvpn', '--config', file], netns: side === 'a' ? t.ns.gwA : t.ns.gwB });
    ids.push(id);
  }
  await waitFor(
    () => Promise.resolve(ids.every((id) => logShows(ctx.procs, id, 'Initialization Sequence Completed'))),
    30_000,
    `${name}: both OpenVPN ends to complete initialization (logs in ${ctx.dir})`,
  );
}

export const openvpnKubeslice: BenchPath = {
  name: 'openvpn-kubeslice',
  tag: 'ok',
  label: "OpenVPN as KubeSlice's gateway: tun, AES-256-CBC + HMAC-SHA256, tun-mtu 1300",
  layout: 'routed',
  up: (t, ctx) => up(t, ctx, 'openvpn-kubeslice', { cipher: 'AES-256-CBC' }),
};

export const openvpnGcm: BenchPath = {
  name: 'openvpn-gcm',
  tag: 'og',
  label: "OpenVPN as KubeSlice's gateway, AES-256-GCM",
  layout: 'routed',
  up: (t, ctx) => up(t, ctx, 'openvpn-gcm', { cipher: 'AES-256-GCM' }),
};
