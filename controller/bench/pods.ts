/**
 * bench:control's load: pod creates through the real API server, as bare HTTPS on kept-alive
 * connections.
 *
 * Not client-node: its 1.4 makes a new agent, so a new TCP and TLS connection through the
 * lab's forwarder, for every call, and serialises through its ObjectSerializer. Measured in
 * bench:control, that cost this process ~40 % of a core and the API server a TLS handshake per
 * create, on the two cores the webhook shares with them, so the webhook's "added" latency was
 * mostly queueing behind the harness. A controller creating pods keeps its connections, as this
 * does.
 */
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

export class PodPoster {
  private constructor(
    private readonly url: URL,
    private readonly options: RequestOptions,
    private readonly agent: Agent,
  ) {}

  static async of(kc: KubeConfig, maxSockets: number): Promise<PodPoster> {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    const options: RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    const { ca, cert, key } = options;
    const agent = new Agent({ keepAlive: true, maxSockets, ca, cert, key });
    return new PodPoster(new URL(server), { ...options, agent }, agent);
  }

  /** Creates a pod bound to a node that does not exist; resolves with the latency in ms. */
  create(namespace: string, name: string): Promise<number> {
    const body = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { nodeName: 'nowhere', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'] }] },
    });
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.options,
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path: `/api/v1/namespaces/${namespace}/pods`,
          headers: {
            ...this.options.headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const ms = performance.now() - t0;
            if (res.statusCode === 201) return resolve(ms);
            const text = Buffer.concat(chunks).toString();
            reject(new Error(`create pod ${namespace}/${name}: HTTP ${res.statusCode}: ${text}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Create latencies (ms) of `pods` pods in each of `namespaces`, `concurrency` at a time, the
   * namespaces alternating request by request so that the machine's noise falls on all alike.
   */
  async creates(
    namespaces: string[],
    tag: string,
    o: { pods: number; concurrency: number },
  ): Promise<Map<string, number[]>> {
    const latencies = new Map(namespaces.map((ns) => [ns, [] as number[]]));
    const creates = Array.from({ length: o.pods * namespaces.length }, (_, i) => ({
      namespace: namespaces[i % namespaces.length]!,
      name: `${tag}-${Math.floor(i / namespaces.length)}`,
    }));
    await pool(creates, o.concurrency, async ({ namespace, name }) => {
      latencies.get(namespace)!.push(await this.create(namespace, name));
    });
    return latencies;
  }

  close(): void {
    this.agent.destroy();
  }
}
