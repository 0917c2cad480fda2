/**
 * npm run bench:dns — slicenet-dns against Debian's dnsmasq serving the same records from files,
 * on loopback, in one run: dnsperf at a fixed number of queries in flight for a bounded time
 * against each server in turn (dnsmasq, slicenet-dns as by default with one process, and with
 * `--workers auto`), three rounds interleaved so that the machine's other load falls on all alike;
 * medians. Before measuring, both servers must give the same answers to sample names.
 * Every process is started here and stopped by its PID, also on failure.
 * Last stdout line: the JSON summary; goal: slicenet-dns's QPS at least half of dnsmasq's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atLeast, median, report, round, runBench } from '../../lib/bench.ts';
import { run, toolEnv } from '../../lib/exec.ts';
import { waitFor } from '../../lib/wait.ts';
import { autoWorkers } from '../config.ts';
import { dnsperf, type LoadResult } from './dnsperf.ts';
import { writeBenchZone, type BenchZone } from './zone.ts';

const ROUNDS = 3;
const SECONDS = Number(process.env.BENCH_DNS_SECONDS ?? 5);
const IN_FLIGHT = 100;
const CLIENTS = 4;

interface Server {
  name: string;
  port: number;
  child: ChildProcess;
}

const log = (msg: string): void => void process.stderr.write(`[bench:dns] ${msg}\n`);

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const port = udp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => tcp.close(() => resolve(true)));
    });
    udp.close();
    if (ok) return port;
  }
}

function stop(s: { child: ChildProcess }): Promise<void> {
  const { child } = s;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startDnsmasq(zone: BenchZone, dir: string, servers: Server[]): Promise<void> {
  const port = await freePort();
  const child = spawn(
    'dnsmasq',
    [
      '--no-daemon',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      `--addn-hosts=${zone.hostsFile}`,
      `--conf-file=${zone.dnsmasqConf}`,
      '--local=/slice.local/',
      '--local-ttl=2',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      '--log-facility=-',
    ],
    { env: toolEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  servers.push({ name: 'dnsmasq', port, child });
  await waitFor(
    async () => (await dig(port, 'svc0.bench.svc.slice.local', 'A')).length > 0,
    20_000,
    'dnsmasq',
  );
}

/** Starts slicenet-dns and adds it to `servers` at once, so that a failed start is stopped too. */
async function startSlicenetDns(zone: BenchZone, workers: number, servers: Server[]): Promise<void> {
  const main = join(import.meta.dirname, '..', 'main.ts');
  const args = ['--import', 'tsx', main, '--host', '127.0.0.1', '--port', '0', '--probe-host', '127.0.0.1'];
  args.push('--probe-port', '0', '--workers', String(workers), '--records-file', zone.recordsFile);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const server = { name: `slicenet-dns x${workers}`, port: 0, child };
  servers.push(server);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`slicenet-dns did not start in 120 s: ${err}`)), 120_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"msg":"started","port":(\d+)/.exec(err);
      if (m && !server.port) {
        server.port = Number(m[1]);
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`slicenet-dns exited with ${code}: ${err}`)));
  });
}

async function dig(port: number, name: string, type: string): Promise<string[]> {
  const out = await run([
    'dig',
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+tries=2',
    '+time=2',
    name,
    type,
  ]);
  return out.trim().split('\n').filter(Boolean).sort();
}

async function sameAnswers(zone: BenchZone, a: Server, b: Server): Promise<void> {
  for (const [name, type] of zone.samples) {
    const [x, y] = [await dig(a.port, name, type), await dig(b.port, name, type)];
    if (JSON.stringify(x) !== JSON.stringify(y))
      throw new Error(
        `${a.name} and ${b.name} differ on ${name} ${type}: ${x.join(', ')} vs ${y.join(', ')}`,
      );
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dns-'));
  const servers: Server[] = [];
  try {
    const zone = writeBenchZone(dir);
    const workers = autoWorkers();
    await startDnsmasq(zone, dir, servers);
    await startSlicenetDns(zone, 1, servers);
    if (workers > 1) await startSlicenetDns(zone, workers, servers);
    for (const s of servers.slice(1)) await sameAnswers(zone, servers[0]!, s);
    log(`servers agree on ${zone.samples.length} sample names; warming up`);
    const load = (s: Server, seconds = SECONDS): Promise<LoadResult> =>
      dnsperf({
        port: s.port,
        queriesFile: zone.queriesFile,
        seconds,
        inFlight: IN_FLIGHT,
        clients: CLIENTS,
      });
    for (const s of servers) await load(s, 1);
    const results = new Map<string, LoadResult[]>(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of servers) {
        const r = await load(s);
        results.get(s.name)!.push(r);
        log(
          `round ${round} ${s.name}: ${Math.round(r.qps)} qps, p99 ${r.p99Ms.toFixed(2)} ms, lost ${r.lostPercent}%`,
        );
      }
    }
    const qps = (name: string): number => median(results.get(name)!.map((r) => r.qps));
    const p99 = (name: string): number => median(results.get(name)!.map((r) => r.p99Ms));
    // The goal is on the default configuration, one process.
    const ours = 'slicenet-dns x1';
    const ratio = qps(ours) / qps('dnsmasq');
    const figures: Record<string, number | string> = {
      seconds_per_run: SECONDS,
      queries_in_flight: IN_FLIGHT,
      auto_workers: workers,
      dnsmasq_qps: round(qps('dnsmasq'), 0),
      dnsmasq_p99_ms: round(p99('dnsmasq'), 2),
    };
    for (const s of servers.slice(1)) {
      const key = s.name.replace('slicenet-dns x', 'slicenet_dns_w');
      figures[`${key}_qps`] = round(qps(s.name), 0);
      figures[`${key}_p99_ms`] = round(p99(s.name), 2);
      figures[`${key}_qps_ratio`] = round(qps(s.name) / qps('dnsmasq'), 2);
    }
    figures.p99_ratio = round(p99(ours) / p99('dnsmasq'), 2);
    report('dns', figures, [atLeast('qps vs dnsmasq', round(ratio, 2), 0.5)]);
  } finally {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench('dns', main);
