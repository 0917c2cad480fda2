import test from 'ava';
import { PATH_NAMES, readConfig } from '../config.ts';
import { parseIperf, parsePing } from '../measure.ts';

test('ping: one RTT per reply line', (t) => {
  const out = `PING 10.90.0.2 (10.90.0.2) 56(84) bytes of data.
64 bytes from 10.90.0.2: icmp_seq=1 ttl=64 time=0.123 ms
64 bytes from 10.90.0.2: icmp_seq=2 ttl=64 time=12.5 ms
64 bytes from 10.90.0.2: icmp_seq=3 ttl=64 time=1 ms

--- 10.90.0.2 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 21ms
rtt min/avg/max/mdev = 0.123/4.541/12.500/5.600 ms`;
  t.deepEqual(parsePing(out), [0.123, 12.5, 1]);
  t.deepEqual(parsePing(''), []);
});

test('iperf3: received Gbit/s, or the error iperf3 gave', (t) => {
  t.is(parseIperf(JSON.stringify({ end: { sum_received: { bits_per_second: 2.5e9 } } })), 2.5);
  t.throws(() => parseIperf(JSON.stringify({ error: 'unable to connect to server' })), {
    message: 'iperf3: unable to connect to server',
  });
  t.throws(() => parseIperf('iperf3: error'), { message: /printed no JSON/ });
  t.throws(() => parseIperf('{"end":{}}'), { message: /no end.sum_received/ });
});

test('config: defaults are the full run', (t) => {
  t.deepEqual(readConfig({}), { seconds: 5, runs: 3, pings: 1000, paths: [...PATH_NAMES] });
  t.deepEqual(readConfig({ SLICENET_BENCH_PATHS: 'veth, vxlan', SLICENET_BENCH_SECONDS: '2' }).paths, [
    'vxlan',
    'veth',
  ]);
});

const bad: [Record<string, string>, RegExp][] = [
  [{ SLICENET_BENCH_SECONDS: '0' }, /^SLICENET_BENCH_SECONDS "0": must be an integer from 1 to 60$/],
  [{ SLICENET_BENCH_SECONDS: '2.5' }, /^SLICENET_BENCH_SECONDS "2.5": must be an integer/],
  [{ SLICENET_BENCH_RUNS: '11' }, /^SLICENET_BENCH_RUNS "11": must be an integer from 1 to 10$/],
  [{ SLICENET_BENCH_PINGS: 'many' }, /^SLICENET_BENCH_PINGS "many": must be an integer from 10 to 2000$/],
  [
    { SLICENET_BENCH_PATHS: 'veth,wireguard' },
    /^SLICENET_BENCH_PATHS: unknown path "wireguard"; use .*openvpn-gcm/,
  ],
];
for (const [env, message] of bad)
  test(`config refuses ${JSON.stringify(env)}`, (t) => {
    t.throws(() => readConfig(env), { message, instanceOf: Error });
  });
