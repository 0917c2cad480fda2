/**
 * `npm run bench:policy` (issue 6): on network-namespace rigs with netop's real engines,
 *   - slice throughput (iperf3 TCP between two pod namespaces over a slice bridge) with no
 *     policy and with 1000 + 1000 rules over 1000 remote endpoints, interleaved, ROUNDS each;
 *   - policy update → enforced latency, p50 / p99 over 12 flips at that scale;
 *   - QoS accuracy, delivered / configured per slice (guarantee when both send, ceiling alone).
 * Progress on stderr; the last stdout line is the JSON summary. Needs root, iperf3, python3.
 */
import { loadavg } from 'node:os';
import { atLeast, atMost, median, percentile, report, round, runBench } from '../../lib/bench.ts';
import { Cleanups } from '../test/helpers/netns.ts';
import { qosAccuracy, ROUNDS, throughput, updateLatency } from './measure.ts';
import { policyRig, REMOTE, RULES } from './rig.ts';

runBench('policy', async () => {
  if (process.getuid?.() !== 0) throw new Error('bench:policy makes network namespaces: run it as root');
  const load0 = loadavg()[0]!;
  const started = performance.now();
  const cleanups = new Cleanups();
  const stopOnSignal = (): void => void cleanups.run().then(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const rig = await policyRig(cleanups);
    const tp = await throughput(rig);
    const upd = await updateLatency(cleanups, rig);
    await cleanups.run();
    const qos = await qosAccuracy(cleanups);
    await cleanups.run();

    const none = median(tp.none);
    const withPolicy = median(tp.policy);
    const ratio = withPolicy / none;
    const m3 = (xs: number[]): number => round(median(xs), 3);
    const figures = {
      rounds: ROUNDS,
      rules: 2 * RULES,
      remote_endpoints: REMOTE,
      set_elements: tp.setElements,
      throughput_no_policy_gbps: round(none, 2),
      throughput_policy_gbps: round(withPolicy, 2),
      throughput_ratio: round(ratio, 3),
      update_enforced_p50_ms: round(median(upd.enforcedMs), 0),
      update_enforced_p99_ms: round(percentile(upd.enforcedMs, 99), 0),
      update_compile_p50_ms: round(median(upd.compileMs), 0),
      update_nft_p50_ms: round(median(upd.nftMs), 0),
      qos_gold_both_of_guarantee: m3(qos.goldBoth),
      qos_silver_both_of_guarantee: m3(qos.silverBoth),
      qos_gold_alone_of_ceiling: m3(qos.goldAlone),
      qos_silver_alone_of_ceiling: m3(qos.silverAlone),
      loadavg_1m_start: round(load0, 2),
      loadavg_1m_end: round(loadavg()[0]!, 2),
      seconds: round((performance.now() - started) / 1000, 0),
    };
    report('policy', figures, [
      atLeast('throughput with 2000 rules / without', figures.throughput_ratio, 0.9),
      atMost('update → enforced p99 (ms)', figures.update_enforced_p99_ms, 2000),
      atLeast('gold delivered / guarantee, both sending', figures.qos_gold_both_of_guarantee, 0.9),
      atLeast('silver delivered / guarantee, both sending', figures.qos_silver_both_of_guarantee, 0.9),
      atLeast('gold alone delivered / ceiling', figures.qos_gold_alone_of_ceiling, 0.9),
      atMost('gold alone delivered / ceiling', figures.qos_gold_alone_of_ceiling, 1.05),
      atLeast('silver alone delivered / ceiling', figures.qos_silver_alone_of_ceiling, 0.9),
      atMost('silver alone delivered / ceiling', figures.qos_silver_alone_of_ceiling, 1.05),
    ]);
  } finally {
    await cleanups.run();
  }
});
