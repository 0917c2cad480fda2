/**
 * slicenet-gateway: one replica of one slice's gateway in a member cluster (SPEC §6). Stops on
 * SIGTERM or SIGINT: the data path is closed and the Lease released, so the standby takes over
 * at once. Exit codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ProbeServer } from '../lib/http/probes.ts';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { createLogger } from '../lib/log.ts';
import { GatewayConfigError, loadGatewayConfig } from './control/config.ts';
import { GatewayProcess } from './control/gateway.ts';
import { startTunnel } from './control/start.ts';

let config;
try {
  config = loadGatewayConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (
    !(err instanceof GatewayConfigError) &&
    (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
  )
    throw err;
  process.stderr.write(`slicenet-gateway: ${(err as Error).message}\n`);
  process.exit(2);
}

function kubeConfig(path: string): KubeConfig {
  if (path) return loadKubeConfig(path);
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

const log = createLogger('gateway', { slice: config.slice, pod: config.pod });
const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    log.info('stopping');
    root.abort();
  });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const gateway = new GatewayProcess({
  cfg: config,
  kubeConfig: kubeConfig(config.kubeconfig),
  startTunnel,
  registry,
  log,
});
const probes = new ProbeServer({
  host: config.probeHost,
  port: config.probePort,
  metrics: registry,
  notReady: gateway.readiness,
});
try {
  await probes.start(root.signal);
  log.info('started', { node: config.node, probePort: probes.port });
  await gateway.run(root.signal);
  log.info('stopped');
} catch (err) {
  log.error('failed', { err });
  process.exitCode = 1;
} finally {
  await probes.stop();
}
