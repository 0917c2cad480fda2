/**
 * The lab kubelet: one per node, started by the lab inside the node's network namespace as
 *   node --import tsx lab/kubelet/main.ts --config <stateDir>/kubelet.json
 * This file only wires the parts together. On SIGTERM it stops watching and exits, leaving
 * pods running, as a real kubelet does; the next one adopts them.
 */
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../lib/kube/client.ts';
import { createLogger } from '../../lib/log.ts';
import { KubeletConfigError, loadConfig } from './config.ts';
import { writeNetconf } from './netconf.ts';
import { NodeAgent } from './node.ts';
import { PodManager } from './pods.ts';
import { RouteKeeper } from './routes.ts';
import { Sandboxes } from './sandbox.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  if (!values.config) throw new KubeletConfigError('--config', 'is required');
  const cfg = loadConfig(values.config);
  const log = createLogger('lab-kubelet', { node: cfg.nodeName });
  const kubeConfig = loadKubeConfig(cfg.kubeconfig);
  const netKubeConfig = loadKubeConfig(cfg.multusKubeconfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);

  const root = new AbortController();
  // Every pod worker and informer waits on this one signal; more than Node's default 10.
  setMaxListeners(100, root.signal);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => root.abort());

  // Pods on this node are routed through it; the sysctl is per network namespace.
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');

  const node = new NodeAgent(cfg, kubeConfig, core, kubeConfig.makeApiClient(CoordinationV1Api), log);
  const routes = new RouteKeeper(cfg.nodeName, netKubeConfig, netKubeConfig.makeApiClient(CoreV1Api), log);
  const pods = new PodManager(cfg, kubeConfig, core, new Sandboxes(cfg), log);
  log.info('kubelet starting', { pid: process.pid, stateDir: cfg.stateDir });

  void node.start(root.signal);
  void routes.start();
  void pods.start(root.signal);
  void node.podCidr.then((podCidr) => {
    if (root.signal.aborted) return;
    writeNetconf(cfg, podCidr);
    log.info('network ready', { podCidr });
    node.setNetworkReady();
    pods.networkReady();
  });

  await new Promise((r) => root.signal.addEventListener('abort', r, { once: true }));
  log.info('kubelet stopping; pods keep running');
  // A sync may be inside a slow CNI call; it is not worth holding the exit for.
  const stopped = Promise.all([node.stop(), routes.stop(), pods.stop()]);
  await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000))]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    createLogger('lab-kubelet').error('kubelet failed', { err, code: (err as { code?: string }).code });
    process.exit(1);
  },
);
