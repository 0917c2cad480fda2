import test from 'ava';
import { summarize, type PathRuns, type WanCheck } from '../summary.ts';

const runs = (tcp1: number, tcp4: number, p50: number, p99: number): PathRuns => ({
  tcp1: [tcp1 * 0.9, tcp1, tcp1 * 1.2],
  tcp4: [tcp4, tcp4, tcp4 * 2],
  rttP50: [p50, p50, p50],
  rttP99: [p99 * 3, p99, p99],
});

const clean: WanCheck = {
  counters: { packets: 1000, over: 0, fragments: 0 },
  capture: { packets: 500, over: 0, fragments: 0, droppedByKernel: 0 },
};

const all = {
  'slicenet-chacha20-poly1305': runs(2, 3, 0.3, 0.5),
  'slicenet-aes-256-gcm': runs(1, 1.5, 0.3, 1.2),
  'openvpn-kubeslice': runs(0.4, 0.5, 0.6, 1),
  'openvpn-gcm': runs(0.6, 0.8, 0.4, 0.8),
  vxlan: runs(10, 12, 0.1, 0.2),
  veth: runs(12, 14, 0.08, 0.15),
};

test('figures are medians of the runs, ratios and shares computed from them', (t) => {
  const { figures } = summarize(all, {});
  t.is(figures['slicenet-chacha20-poly1305.tcp1_gbps'], 2);
  t.is(figures['slicenet-chacha20-poly1305.rtt_p99_ms'], 0.5);
  t.is(figures['ratio.slicenet-chacha20-poly1305/openvpn-kubeslice.tcp1'], 5);
  t.is(figures['ratio.slicenet-aes-256-gcm/openvpn-gcm.tcp4'], 1.88);
  t.is(figures['ratio.slicenet-chacha20-poly1305/veth.rtt_p99'], 3.33);
  t.is(figures['slicenet-chacha20-poly1305.share_of_vxlan_tcp1'], 0.2);
  t.is(figures['veth.share_of_vxlan_tcp1'], 1.2);
  t.false('vxlan.share_of_vxlan_tcp1' in figures);
  t.false(
    'ratio.slicenet-chacha20-poly1305/slicenet-aes-256-gcm.tcp1' in figures,
    'no cipher-to-cipher ratio',
  );
});

test('goals per cipher with met computed', (t) => {
  const { goals } = summarize(all, { 'slicenet-chacha20-poly1305': clean, 'slicenet-aes-256-gcm': clean });
  const by = Object.fromEntries(goals.map((g) => [g.name, g]));
  t.deepEqual(by['single-stream vs openvpn-kubeslice [chacha20-poly1305]'], {
    name: 'single-stream vs openvpn-kubeslice [chacha20-poly1305]',
    value: 5,
    goal: '>= 4',
    met: true,
  });
  t.false(by['single-stream vs openvpn-kubeslice [aes-256-gcm]']!.met, '2.5 < 4');
  t.true(by['single-stream vs openvpn-gcm [chacha20-poly1305]']!.met);
  t.false(by['single-stream vs openvpn-gcm [aes-256-gcm]']!.met, '1.67 < 2');
  t.true(by['rtt p99 vs openvpn-kubeslice [chacha20-poly1305]']!.met);
  t.false(by['rtt p99 vs openvpn-kubeslice [aes-256-gcm]']!.met, '1.2 > 1');
  t.deepEqual(by['wan datagrams over 1500'], {
    name: 'wan datagrams over 1500',
    value: 0,
    goal: '<= 0',
    met: true,
  });
  t.is(goals.length, 7);
});

test('an oversize datagram or a fragment anywhere fails the WAN goal', (t) => {
  const bad: WanCheck = { ...clean, capture: { ...clean.capture, fragments: 2 } };
  const worse: WanCheck = { ...clean, counters: { ...clean.counters, over: 1 } };
  const { goals, figures } = summarize(all, {
    'slicenet-chacha20-poly1305': bad,
    'slicenet-aes-256-gcm': worse,
  });
  const wan = goals.find((g) => g.name === 'wan datagrams over 1500')!;
  t.is(wan.value, 3);
  t.false(wan.met);
  t.is(figures['slicenet-chacha20-poly1305.capture_fragments'], 2);
  t.is(figures['slicenet-aes-256-gcm.wan_over_1500'], 1);
});

test('a subset of paths gives only the goals it can judge', (t) => {
  const { goals, figures } = summarize({ vxlan: all.vxlan, veth: all.veth }, {});
  t.deepEqual(goals, []);
  t.is(figures['veth.tcp4_gbps'], 14);
  const partial = summarize(
    { 'slicenet-aes-256-gcm': all['slicenet-aes-256-gcm'], 'openvpn-gcm': all['openvpn-gcm'] },
    {},
  );
  t.deepEqual(
    partial.goals.map((g) => g.name),
    ['single-stream vs openvpn-gcm [aes-256-gcm]'],
  );
});
