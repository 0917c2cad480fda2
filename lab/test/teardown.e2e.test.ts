/**
 * Teardown holds when things go wrong: a test body that throws, a `lab up` killed half-way, a
 * test run that leaves a lab behind, and bad requests that must be refused before anything is
 * built.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, withLab } from '../lab.ts';
import { LabPaths } from '../paths.ts';
import { leftovers, NOTHING, testLabName } from './leftovers.ts';

const cli = join(import.meta.dirname, '..', 'cli.ts');
const runCli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8', timeout: 60_000 });

test('a test body that throws still leaves nothing behind', async (t) => {
  const name = testLabName('f');
  let sawLab = false;
  await t.throwsAsync(
    withLab({ name, clusters: 1, nodes: 1 }, async (lab) => {
      sawLab = (await lab.kubectl('c1', ['get', 'nodes', '-o', 'name'])).includes('node/c1-n1');
      throw new Error('the test failed half-way');
    }),
    { message: 'the test failed half-way' },
  );
  t.true(sawLab);
  t.deepEqual(leftovers(name), NOTHING);
});

test('with-lab removes the labs its command made and left, not others, and passes the exit code on', async (t) => {
  const name = testLabName('w');
  // A lab of another run on the same machine: with-lab must leave it alone.
  const bystander = await Lab.up({ name: testLabName('b'), clusters: 1, nodes: 1 });
  t.teardown(() => bystander.down());
  const dir = mkdtempSync(join(tmpdir(), 'sn-withlab-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // As a test worker stopped by a signal: its lab is up, its after.always never runs.
  const script = join(dir, 'leave.mts');
  writeFileSync(
    script,
    `import { Lab } from ${JSON.stringify(join(import.meta.dirname, '..', 'lab.ts'))};\n` +
      `await Lab.up({ name: ${JSON.stringify(name)}, clusters: 1, nodes: 1 });\nprocess.exit(3);\n`,
  );
  const withLab = join(import.meta.dirname, '..', 'with-lab.ts');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', withLab, '--', process.execPath, '--import', 'tsx', script],
    { encoding: 'utf8', timeout: 240_000 },
  );
  t.is(r.status, 3, r.stderr);
  t.true(r.stderr.includes(`removing lab ${name}`), r.stderr);
  t.deepEqual(leftovers(name), NOTHING);
  t.true(existsSync(bystander.paths.planFile), "the other run's lab is still there");
});

test('lab down cleans up after a `lab up` that was SIGKILLed half-way', async (t) => {
  const name = testLabName('k');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'up', '--name', name, '--clusters', '1', '--nodes', '1'],
    {
      stdio: 'ignore',
    },
  );
  const apiserverRecord = join(new LabPaths(name).dir, 'processes', 'c1-apiserver.json');
  const deadline = Date.now() + 60_000;
  while (!existsSync(apiserverRecord) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const left = leftovers(name);
  t.true(left.namespaces.length > 0 && left.processes.length > 0, 'the killed run left a half-built lab');
  await Lab.down(name);
  t.deepEqual(leftovers(name), NOTHING);
});

const badRequests: [string[], RegExp][] = [
  [['up', '--clusters', '0'], /clusters: 0 clusters is not allowed; allowed: 1 to 16/],
  [['up', '--nodes', '41'], /nodes: 41 nodes per cluster is outside what the lab can hold; allowed: 1 to 40/],
  [['up', '--nodes', 'many'], /--nodes: "many" is not a whole number/],
  [['up', '--gpus', '2'], /Unknown option '--gpus'/],
  [['up', '--pod-cidrs', 'mixed'], /podCidrs: "mixed" is not allowed; use overlap or distinct/],
  [['launch'], /"launch" is not a lab command/],
];

for (const [args, message] of badRequests) {
  test(`lab ${args.join(' ')} is refused with exit code 2`, (t) => {
    const r = runCli(args);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, message);
  });
}
