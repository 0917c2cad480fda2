/**
 * README command one, end to end and non-interactive: `lab up --demo` builds two clusters,
 * installs Slicenet, makes a slice across them, and reports pods reaching each other over
 * slice0 across clusters; `lab down` then leaves nothing on the machine.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Lab } from '../lab.ts';
import { leftovers, NOTHING, testLabName } from './leftovers.ts';
import type { SliceReport } from '../../cli/commands/status.ts';
import { cli as kubectlSlice } from '../../cli/test/run.ts';

const cli = join(import.meta.dirname, '..', 'cli.ts');

test('lab up --demo: Slicenet installed, a slice across two clusters, every pod reaches every other; lab down leaves nothing', async (t) => {
  t.timeout(900_000);
  const name = testLabName('dm');
  t.teardown(() => Lab.down(name));
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'up', '--name', name, '--demo'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), 840_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  t.is(code, 0, `lab up --demo failed:\n${stdout}\n${stderr.split('\n').slice(-30).join('\n')}`);
  t.regex(stdout, /Slicenet installed: hub c1, 2 member clusters, 4 agents and netops ready/);
  t.regex(stdout, /ping c1\/demo-a → c2\/demo-a \(other cluster\): ok/);
  t.regex(stdout, /iperf3 c1\/demo-a → c2\/demo-a over slice0, 3 s: [\d.]+ Gbit\/s/);
  t.regex(stdout, /slice demo: every pod reaches every other over slice0/);
  // The slice's QoS as netop enforces it on each cluster's active gateway node (issue 7's report).
  for (const c of ['c1', 'c2'])
    t.regex(
      stdout,
      new RegExp(
        `QoS ${c}: guarantee .*, ceiling .*, priority \\d+, DSCP \\w+: shaped on ${c}-n\\d+ eth0 \\(egress`,
      ),
    );
  t.regex(stdout, /take it down: npm run lab:down/);

  // What a user types next: the slice's tunnels, from the hub and the members' own Slices.
  const status = await kubectlSlice([
    'status',
    'demo',
    '-o',
    'json',
    '--kubeconfig',
    Lab.open(name).paths.kubeconfig,
    '--context',
    'c1',
  ]);
  t.is(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as SliceReport;
  t.deepEqual(
    report.clusters.map((c) => [
      c.cluster,
      c.peers.map((p) => `${p.cluster}:${p.connected ? 'up' : 'down'}`),
    ]),
    [
      ['c1', ['c2:up']],
      ['c2', ['c1:up']],
    ],
  );
  t.true(
    report.clusters.every((c) => c.peers.every((p) => (p.txBytes ?? 0) > 0)),
    'bytes from the members',
  );

  await Lab.down(name);
  t.deepEqual(leftovers(name), NOTHING);
});
