/**
 * slicenet-controller: `--mode hub` runs the hub controller, `--mode worker` a member cluster's
 * worker. Stops on SIGTERM or SIGINT. Exit codes: 0 after a clean stop, 1 on failure, 2 for a
 * bad setting.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ProbeServer } from '../lib/http/probes.ts';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { ReconcileMetrics } from '../lib/kube/metrics.ts';
import { createLogger } from '../lib/log.ts';
import { ConfigError, loadConfig } from './config.ts';
import { runHub } from './hub/controller.ts';
import { DEFAULT_GATEWAY_POD } from './worker/gateways.ts';
import { runWorker } from './worker/worker.ts';

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError) && (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    throw err;
  process.stderr.write(`slicenet-controller: ${(err as Error).message}\n`);
  process.exit(2);
}

function ownCluster(path: string): KubeConfig {
  if (path) return loadKubeConfig(path);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

const log = createLogger(
  config.mode === 'hub' ? 'controller' : 'worker',
  config.mode === 'worker' ? { cluster: config.cluster } : {},
);
const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    log.info('stopping');
    root.abort();
  });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
// A standby replica is ready: it serves by being there to take over.
let notReady: string | undefined;
const probes = new ProbeServer({
  host: config.probeHost,
  port: config.probePort,
  metrics: registry,
  notReady: () => notReady,
});
const shared = {
  workers: config.workers,
  log,
  metrics: new ReconcileMetrics(registry),
  readiness: (why: string | undefined) => (notReady = why),
};
try {
  await probes.start(root.signal);
  if (config.mode === 'hub') {
    await runHub(
      {
        kubeConfig: ownCluster(config.kubeconfig),
        hubNamespace: config.hubNamespace,
        ...shared,
      },
      root.signal,
    );
  } else {
    const opts = {
      cluster: config.cluster,
      hub: loadKubeConfig(config.hubKubeconfig),
      local: ownCluster(config.kubeconfig),
      gatewayPod: {
        image: config.gatewayImage || DEFAULT_GATEWAY_POD.image,
        command: config.gatewayCommand.length ? config.gatewayCommand : DEFAULT_GATEWAY_POD.command,
        ...(config.gatewayKubeconfig ? { kubeconfig: config.gatewayKubeconfig } : {}),
      },
      registry,
      ...shared,
    };
    await runWorker(opts, root.signal);
  }
  log.info('stopped');
} catch (err) {
  log.error('failed', { err });
  process.exitCode = 1;
} finally {
  await probes.stop();
}
