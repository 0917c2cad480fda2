/**
 * The agent's metrics (SPEC §8), on the process registry:
 *   slicenet_cni_requests_total{command, result}      every call the plugin made
 *   slicenet_cni_request_duration_seconds{command}
 *   slicenet_ipam_free_addresses{slice}                read at scrape time
 *   slicenet_antispoof_dropped_packets_total           frames dropped as spoofed
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AgentMethod } from './server.ts';

export class AgentMetrics {
  private readonly requests: Counter<'command' | 'result'>;
  private readonly duration: Histogram<'command'>;

  constructor(registry: Registry, freeAddresses: () => Map<string, number>, spoofed: () => Promise<number>) {
    this.requests = new Counter({
      name: 'slicenet_cni_requests_total',
      help: 'CNI requests the agent served, by command and result (ok or an agent error code).',
      labelNames: ['command', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'slicenet_cni_request_duration_seconds',
      help: 'Time the agent took to serve a CNI request, by command.',
      labelNames: ['command'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    new Gauge({
      name: 'slicenet_ipam_free_addresses',
      help: "Addresses this node can still hand out per slice: free in its blocks and in the cluster share's unleased blocks.",
      labelNames: ['slice'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [slice, n] of freeAddresses()) this.set({ slice }, n);
      },
    });
    // The kernel keeps the count; exported as the counter it is (a ruleset rebuilt from zero
    // reads as a counter reset, which rate() handles).
    new Counter({
      name: 'slicenet_antispoof_dropped_packets_total',
      help: 'Frames from pod ports dropped because their source MAC or address was not the pod’s.',
      registers: [registry],
      async collect() {
        const n = await spoofed().catch(() => 0);
        this.reset();
        this.inc(Math.max(0, n));
      },
    });
  }

  observe = (method: AgentMethod, result: string, seconds: number): void => {
    const command = method.toUpperCase();
    this.requests.inc({ command, result });
    this.duration.observe({ command }, seconds);
  };
}
