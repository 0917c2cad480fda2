/**
 * What one serving process runs: the record store, its source, the DNS sockets and their
 * metrics. main.ts runs it in-process (one worker) or in each cluster worker (supervisor.ts).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';
import type { DnsConfig } from './config.ts';
import { FileSource } from './file-source.ts';
import { DnsMetrics } from './metrics.ts';
import { RecordStore } from './records.ts';
import { DnsServer } from './server.ts';

export interface Serving {
  server: DnsServer;
  store: RecordStore;
}

/**
 * Loads the records (throwing if the file cannot be read; for the API server, waiting until
 * both lists arrive), then serves until `signal`.
 */
export async function serveDns(
  config: DnsConfig,
  registry: Registry,
  log: Logger,
  signal: AbortSignal,
): Promise<Serving> {
  const store = new RecordStore({ zone: config.zone, ttl: config.ttl });
  const metrics = new DnsMetrics(registry, store);
  if (config.source === 'kube') {
    // Loaded only here: client-node costs seconds of start-up CPU the file source does not need.
    const { startKubeSource } = await import('./kube-source.ts');
    await startKubeSource(config.kubeconfig, store, log, signal);
  }
  if (config.source === 'file') {
    const source = new FileSource({
      path: config.recordsFile,
      store,
      log,
      onError: () => metrics.reloadErrors.inc(),
    });
    await source.start(signal);
  }
  const server = new DnsServer({
    host: config.host,
    port: config.port,
    store,
    log,
    metrics,
    tcpMaxConnections: config.tcpMaxConnections,
    tcpIdleMs: config.tcpIdleSeconds * 1000,
  });
  await server.start(signal);
  return { server, store };
}
