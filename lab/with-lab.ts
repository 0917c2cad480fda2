/**
 * Runs a command with a shared one-cluster lab up, for tests that need a real apiserver but
 * not a lab of their own (CRD validation, leader election, server-side apply):
 *
 *   node --import tsx lab/with-lab.ts -- ava [args]
 *
 * The command sees SLICENET_TEST_KUBECONFIG (the cluster's admin kubeconfig) and
 * SLICENET_TEST_LAB (the lab's name). The lab is torn down whatever the command does, and its
 * exit code is passed on. So is every lab the command made and left behind: a test file's own
 * lab goes in its `after.always` hook, which a worker stopped by a signal never runs. The
 * command's labs are told apart by SLICENET_TEST_RUN, which Lab.up records in each lab it makes,
 * so that labs of other runs on the same machine are left alone.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Lab, labsOfTestRun } from './lab.ts';
import { testLabName } from './test/leftovers.ts';

async function main(argv: string[]): Promise<number> {
  const command = argv[0] === '--' ? argv.slice(1) : argv;
  if (command.length === 0) {
    process.stderr.write('usage: with-lab.ts -- <command> [args...]\n');
    return 2;
  }
  const run = randomUUID();
  const lab = await Lab.up({ name: testLabName('s'), clusters: 1, nodes: 1 });
  try {
    const child = spawn(command[0]!, command.slice(1), {
      stdio: 'inherit',
      env: {
        ...process.env,
        SLICENET_TEST_KUBECONFIG: lab.kubeconfig('c1'),
        SLICENET_TEST_LAB: lab.plan.name,
        SLICENET_TEST_RUN: run,
      },
    });
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await lab.down();
    for (const name of labsOfTestRun(run)) {
      process.stderr.write(`with-lab: removing lab ${name}, left behind by the command\n`);
      await Lab.down(name);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`with-lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
