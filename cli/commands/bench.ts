/** `kubectl slice bench <slice>`: ping and iperf3 between slice pods of two member clusters. */
import { dumpYaml } from '@kubernetes/client-node';
import { int, output, sliceArg, str } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { connect, hubNamespace } from '../kube.ts';
import { table } from '../output.ts';
import { bench as run, type BenchResult } from '../diagnose/bench.ts';
import { SlicenetError } from '../../lib/errors.ts';
import { membersOf } from '../diagnose/members.ts';

export function render(r: BenchResult): string {
  const rtt = r.ping.rttMs;
  const gbit = r.iperf3 ? `${(r.iperf3.bitsPerSecond / 1e9).toFixed(2)} Gbit/s` : `FAILED: ${r.iperf3Error}`;
  return table(
    ['FROM', 'TO', 'PING (MIN/AVG/MAX)', 'LOSS', 'THROUGHPUT', 'RETRANSMITS'],
    [
      [
        `${r.from.pod} (${r.from.ip})`,
        `${r.to.pod} (${r.to.ip})`,
        rtt ? `${rtt.min.toFixed(3)}/${rtt.avg.toFixed(3)}/${rtt.max.toFixed(3)} ms` : '-',
        `${r.ping.lossPercent}%`,
        gbit,
        r.iperf3?.retransmits !== undefined ? String(r.iperf3.retransmits) : '-',
      ],
    ],
  );
}

export const bench: Command = {
  name: 'bench',
  summary: 'Measure latency and throughput between slice pods of two clusters',
  help: `Usage: kubectl slice bench <slice> [--from CLUSTER] [--to CLUSTER] [--duration SECONDS] [-o table|json|yaml]

Picks a running slice pod in each of two member clusters (the first two that have one, or
those named), pings 10 times 0.2 s apart over slice0, then runs one iperf3 TCP test for
--duration seconds, and prints the latency and the throughput. The pods need ping and iperf3;
lab pods are entered through their network namespace on this machine, others by kubectl exec.

Flags:
  --from CLUSTER       the client's cluster
  --to CLUSTER         the server's cluster
  --duration SECONDS   iperf3's run, 1 to 60 (default 5)
  --port N             the iperf3 server's port in the target pod (default 5201)
`,
  flags: {
    from: { type: 'string' },
    to: { type: 'string' },
    duration: { type: 'string' },
    port: { type: 'string' },
  },
  async run(p, out) {
    const slice = sliceArg('bench', p);
    const fmt = output(p.values);
    const durationS = int(p.values, 'duration', 1, 60) ?? 5;
    const port = int(p.values, 'port', 1, 65535) ?? 5201;
    const from = str(p.values, 'from');
    const to = str(p.values, 'to');
    if (from !== undefined && from === to)
      throw new UsageError('--from and --to name the same cluster: bench measures between two clusters');
    const hub = hubNamespace(p.values);
    const kube = connect(p.values);
    const r = await run(kube, membersOf(p.values, kube), {
      slice,
      hubNamespace: hub,
      from,
      to,
      durationS,
      port,
    });
    if (fmt === 'json') out(JSON.stringify(r, null, 2) + '\n');
    else if (fmt === 'yaml') out(dumpYaml(r));
    else out(render(r));
    if (!r.iperf3 || r.ping.received === 0)
      throw new SlicenetError(
        'BENCH_FAILED',
        r.ping.received === 0
          ? `no ping from ${r.from.pod} reached ${r.to.pod}: run kubectl slice diagnose ${slice}`
          : `iperf3 failed: ${r.iperf3Error}`,
      );
  },
};
