/**
 * deploy/monitoring against the real thing: the alert rules pass `promtool check rules` and their
 * own `promtool test rules` cases (Debian's prometheus package, which lab/setup.sh installs: no
 * skipping), and the rules, the Grafana dashboard and docs/metrics.md name only metrics that
 * Slicenet's processes register, every one of which docs/metrics.md describes.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DnsMetrics } from '../../../dns/metrics.ts';
import type { RecordStore } from '../../../dns/records.ts';
import { ReconcileMetrics } from '../../../lib/kube/metrics.ts';
import { runRaw } from '../../../lib/exec.ts';
import { NetopMetrics } from '../../../netop/metrics.ts';
import { GatewayMetrics } from '../../../slice-gateway/control/metrics.ts';
import { WebhookMetrics } from '../../../webhooks/metrics.ts';
import { AgentMetrics } from '../../../worker-agent/agent/metrics.ts';

const here = join(import.meta.dirname, '..');
const repo = join(here, '..', '..');
const rules = readFileSync(join(here, 'slicenet-rules.yaml'), 'utf8');
const dashboard = readFileSync(join(here, 'slicenet-dashboard.json'), 'utf8');
const docs = readFileSync(join(repo, 'docs', 'metrics.md'), 'utf8');

/** Every slicenet_ metric a process registers, by the same classes the processes use. */
async function registered(): Promise<Set<string>> {
  const registries = [new Registry(), new WebhookMetrics().registry];
  const r = registries[0]!;
  new AgentMetrics(
    r,
    () => new Map(),
    () => Promise.resolve(0),
  );
  new GatewayMetrics(r, 'demo');
  new NetopMetrics(
    r,
    () => Promise.resolve([]),
    () => Promise.resolve(new Map<string, never>()),
  );
  new ReconcileMetrics(r);
  new DnsMetrics(r, { zone: { records: 0, serial: 0 } } as unknown as RecordStore);
  const names = new Set<string>();
  for (const reg of registries) for (const m of await reg.getMetricsAsJSON()) names.add(m.name);
  return names;
}

/** slicenet_ names in a text, histogram series mapped to their metric. */
const named = (text: string): Set<string> =>
  new Set([...text.matchAll(/\bslicenet_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));

async function promtool(args: string[]): Promise<{ exitCode: number; out: string }> {
  const r = await runRaw(['promtool', ...args], { timeoutMs: 60_000 }).catch((err: Error) => {
    throw new Error(
      `promtool could not run (${err.message}): run lab/setup.sh, which installs Debian's prometheus`,
    );
  });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

test('promtool check rules: the alert rules are valid', async (t) => {
  const r = await promtool(['check', 'rules', join(here, 'slicenet-rules.yaml')]);
  t.is(r.exitCode, 0, r.out);
  t.regex(r.out, /SUCCESS: 8 rules found/);
});

test('promtool test rules: every alert fires when it should and only then', async (t) => {
  const r = await promtool(['test', 'rules', join(here, 'slicenet-rules.test.yaml')]);
  t.is(r.exitCode, 0, r.out);
  const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
  const tests = readFileSync(join(here, 'slicenet-rules.test.yaml'), 'utf8');
  for (const a of alerts) t.true(tests.includes(`alertname="${a}"`), `${a} has a test case`);
});

test('the rules, the dashboard and the docs name only metrics that exist', async (t) => {
  const exists = await registered();
  for (const [what, text] of [
    ['slicenet-rules.yaml', rules],
    ['slicenet-dashboard.json', dashboard],
    ['docs/metrics.md', docs],
  ] as const) {
    const unknown = [...named(text)].filter((n) => !exists.has(n));
    t.deepEqual(unknown, [], `${what} names metrics no process registers`);
  }
});

test('docs/metrics.md describes every metric and every alert', async (t) => {
  const documented = named(docs);
  const missing = [...(await registered())].filter((n) => !documented.has(n));
  t.deepEqual(missing, []);
  for (const m of rules.matchAll(/- alert: (\w+)/g))
    t.true(docs.includes(m[1]!), `${m[1]} in docs/metrics.md`);
});

test('the dashboard is a Grafana dashboard with a Prometheus datasource variable and unique panel ids', (t) => {
  const d = JSON.parse(dashboard) as {
    uid: string;
    templating: { list: { type: string; query: unknown }[] };
    panels: { id: number; type: string; targets?: { expr: string }[] }[];
  };
  t.is(d.uid, 'slicenet-overview');
  t.true(d.templating.list.some((v) => v.type === 'datasource' && v.query === 'prometheus'));
  const ids = d.panels.map((p) => p.id);
  t.is(new Set(ids).size, ids.length);
  const queries = d.panels.filter((p) => p.type !== 'row');
  t.true(queries.length >= 10);
  for (const p of queries) t.true((p.targets ?? []).length > 0 && p.targets!.every((q) => q.expr.length > 0));
});
