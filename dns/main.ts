/**
 * slicenet-dns: answers `slice.local` over UDP and TCP from the records of imported services.
 * With `--workers 1` one process does everything; with more, the primary supervises cluster
 * workers that serve (supervisor.ts) and serves the probes itself. Stops on SIGTERM or SIGINT.
 * Exit codes: 0 after a clean stop, 1 on failure, 2 for a bad setting.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import { ProbeServer } from '../lib/http/probes.ts';
import { createLogger } from '../lib/log.ts';
import { ConfigError, loadConfig } from './config.ts';
import { serveDns } from './serve.ts';
import { Supervisor, type ReadyMessage } from './supervisor.ts';

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError) && (err as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    throw err;
  process.stderr.write(`slicenet-dns: ${(err as Error).message}\n`);
  process.exit(2);
}

const log = createLogger('dns', cluster.isWorker ? { worker: cluster.worker!.id } : {});
const root = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.once(sig, () => {
    if (!cluster.isWorker) log.info('stopping');
    root.abort();
  });
const stopped = new Promise<void>((resolve) =>
  root.signal.addEventListener('abort', () => resolve(), { once: true }),
);

try {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (cluster.isWorker) {
    // Constructing one is what makes a worker answer the primary's metrics requests.
    AggregatorRegistry.setRegistries([registry]);
    new AggregatorRegistry();
    const { server } = await serveDns(config, registry, log, root.signal);
    process.send!({ type: 'dns-ready', port: server.port } satisfies ReadyMessage);
    await stopped;
    await server.stop();
    process.exit(0);
  }
  let notReady: () => string | undefined = () => 'starting';
  let metrics: Pick<Registry, 'metrics' | 'contentType'> = registry;
  if (config.workers > 1) {
    const aggregate = new AggregatorRegistry();
    metrics = { metrics: () => aggregate.clusterMetrics(), contentType: registry.contentType };
  }
  const probes = new ProbeServer({
    host: config.probeHost,
    port: config.probePort,
    metrics: metrics as Registry,
    notReady: () => notReady(),
  });
  await probes.start(root.signal);
  let port: number;
  let supervisor: Supervisor | undefined;
  if (config.workers > 1) {
    const workers = new Supervisor(config.workers, log);
    supervisor = workers;
    await workers.start(root.signal);
    notReady = () => workers.notReady();
    port = workers.port;
  } else {
    const { server } = await serveDns(config, registry, log, root.signal);
    notReady = () => undefined;
    port = server.port;
  }
  log.info('started', { port, probePort: probes.port, zone: config.zone, workers: config.workers });
  await stopped;
  await supervisor?.stop();
  await probes.stop();
} catch (err) {
  log.error('failed', { err });
  process.exit(1);
}
