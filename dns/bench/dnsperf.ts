/**
 * One dnsperf run against a server on 127.0.0.1: UDP, a fixed number of queries in flight,
 * bounded in time. `-v` reports every query's latency, from which the p99 is taken (dnsperf
 * itself reports only the mean); it costs the generator the same for every server measured.
 */
import { runRaw } from '../../lib/exec.ts';
import { percentile } from '../../lib/bench.ts';

export interface LoadOptions {
  port: number;
  queriesFile: string;
  seconds: number;
  /** Queries in flight. */
  inFlight: number;
  clients: number;
}

export interface LoadResult {
  qps: number;
  p99Ms: number;
  lostPercent: number;
  /** Response codes seen, by name. */
  rcodes: Record<string, number>;
}

export async function dnsperf(o: LoadOptions): Promise<LoadResult> {
  const argv = ['dnsperf', '-s', '127.0.0.1', '-p', String(o.port), '-d', o.queriesFile];
  argv.push('-l', String(o.seconds), '-c', String(o.clients), '-q', String(o.inFlight), '-t', '2', '-v');
  const r = await runRaw(argv, { timeoutMs: (o.seconds + 30) * 1000 });
  const qps = /Queries per second:\s+([\d.]+)/.exec(r.stdout);
  if (r.exitCode !== 0 || !qps)
    throw new Error(`dnsperf exited with ${r.exitCode}: ${r.stderr.trim() || r.stdout.slice(-500)}`);
  const latencies: number[] = [];
  const rcodes: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^> (\w+) \S+ \S+ ([\d.]+)$/.exec(line);
    if (!m) continue;
    latencies.push(Number(m[2]) * 1000);
    rcodes[m[1]!] = (rcodes[m[1]!] ?? 0) + 1;
  }
  if (latencies.length === 0) throw new Error('dnsperf reported no answered query');
  return {
    qps: Number(qps[1]),
    p99Ms: percentile(latencies, 99),
    lostPercent: Number(/Queries lost:\s+\d+ \(([\d.]+)%\)/.exec(r.stdout)?.[1] ?? 0),
    rcodes,
  };
}
