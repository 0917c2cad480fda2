import type { PathName } from '../config.ts';
import { veth, vxlan } from './kernel.ts';
import { openvpnGcm, openvpnKubeslice } from './openvpn.ts';
import type { BenchPath } from './path.ts';
import { slicenetAes, slicenetChacha } from './slicenet.ts';

export const PATHS: Record<PathName, BenchPath> = {
  'slicenet-chacha20-poly1305': slicenetChacha,
  'slicenet-aes-256-gcm': slicenetAes,
  'openvpn-kubeslice': openvpnKubeslice,
  'openvpn-gcm': openvpnGcm,
  vxlan,
  veth,
};
