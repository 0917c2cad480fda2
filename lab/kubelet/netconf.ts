/**
 * The node's CNI configuration, as a cluster's network add-on would install it: Multus (the
 * thin plugin) is the node's one CNI network, and it delegates the pod's eth0 to the primary
 * network, a bridge with host-local IPAM on the node's podCIDR (flannel's host-gw backend
 * does the same, routes between nodes included; see routes.ts).
 *
 * All nodes share one filesystem, so everything a plugin keeps on disk — Multus's delegate
 * cache, host-local's leases — is pointed into this node's stateDir; the defaults under
 * /var/lib/cni would have every node hand out the same addresses.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KubeletConfig } from './config.ts';

export const CNI_VERSION = '1.0.0';
export const MULTUS_NETWORK = 'multus-cni-network';
export const PRIMARY_NETWORK = 'lab-pod-network';

export const netconfPaths = (stateDir: string) => ({
  multus: join(stateDir, 'net.d', '00-multus.conf'),
  primary: join(stateDir, 'net.d', 'primary', '10-lab.conflist'),
});

/** The Multus thin-plugin config (keys as read by multus-cni v4 pkg/types.NetConf). */
export function multusConf(cfg: KubeletConfig): Record<string, unknown> {
  const paths = netconfPaths(cfg.stateDir);
  return {
    cniVersion: CNI_VERSION,
    name: MULTUS_NETWORK,
    type: 'multus',
    kubeconfig: cfg.multusKubeconfig,
    // The directory, not the .conflist in it: Multus v4.2.3 loads a .conflist path through a
    // lossy struct (plugins keep only type and ipam.type), caches that for DEL, and the
    // bridge's DEL then fails with "no IP ranges specified". From a directory it keeps the
    // file's bytes as they are.
    clusterNetwork: dirname(paths.primary),
    // Where Multus looks up networks named by a NAD-less name: keep it off the host's /etc.
    confDir: dirname(paths.primary),
    cniDir: join(cfg.stateDir, 'multus'),
    binDir: cfg.cniBinDir,
    logFile: join(cfg.stateDir, 'multus.log'),
    logLevel: 'verbose',
    logToStderr: false,
  };
}

/** The primary network: eth0 of every pod, on the bridge cni0 that is the pods' gateway. */
export function primaryConflist(cfg: KubeletConfig, podCidr: string): Record<string, unknown> {
  return {
    cniVersion: CNI_VERSION,
    name: PRIMARY_NETWORK,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        // Pod addresses are routed between nodes, never hidden behind the node's.
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: join(cfg.stateDir, 'cni-ipam'),
        },
      },
    ],
  };
}

/** Writes both files; the Multus one last, since its presence means "network ready". */
export function writeNetconf(cfg: KubeletConfig, podCidr: string): void {
  const paths = netconfPaths(cfg.stateDir);
  writeAtomic(paths.primary, JSON.stringify(primaryConflist(cfg, podCidr), null, 2));
  writeAtomic(paths.multus, JSON.stringify(multusConf(cfg), null, 2));
}

export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
