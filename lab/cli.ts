/**
 * `lab up | down | status`: the lab from the command line (also reached as `npm run lab`).
 * Exit codes: 0 done, 1 the lab failed, 2 the request was wrong.
 */
import { parseArgs } from 'node:util';
import { Lab, labsOnMachine } from './lab.ts';
import { LabRequestError, type LabRequest } from './plan.ts';
import { runDemo } from './demo.ts';
import { runSliceDemo } from './slice-demo.ts';
import { installSlicenet } from './slicenet.ts';

const USAGE = `usage:
  lab up [--name NAME] [--clusters N|NAME,NAME...] [--nodes N] [--pod-cidrs overlap|distinct] [--demo]
  lab down [--name NAME | --all]
  lab status [--name NAME]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      name: { type: 'string' },
      clusters: { type: 'string' },
      nodes: { type: 'string' },
      'pod-cidrs': { type: 'string' },
      demo: { type: 'boolean' },
      all: { type: 'boolean' },
    },
  });
  switch (command) {
    case 'up': {
      const name = values.name ?? 'lab';
      const req: LabRequest = { name };
      if (values.clusters !== undefined) req.clusters = parseClusters(values.clusters);
      if (values.nodes !== undefined) req.nodes = parseCount('--nodes', values.nodes);
      if (values['pod-cidrs'] !== undefined) req.podCidrs = values['pod-cidrs'] as LabRequest['podCidrs'];
      const print = (line: string): boolean => process.stdout.write(line + '\n');
      // Ctrl-C while the lab comes up or the demo runs takes everything down again.
      let lab: Lab | undefined;
      const interrupt = (): void => {
        print('\ninterrupted: taking the lab down');
        void Lab.down(name).finally(() => process.exit(130));
      };
      process.once('SIGINT', interrupt);
      try {
        lab = await Lab.up(req);
        printAccess(lab);
        if (!values.demo) return 0;
        const ok = await runDemo(lab, print);
        const { hub } = await installSlicenet(lab, { progress: (line) => print(`slicenet: ${line}`) });
        const sliceOk = await runSliceDemo(lab, hub, print);
        printNextSteps(lab);
        return ok && sliceOk ? 0 : 1;
      } finally {
        process.off('SIGINT', interrupt);
      }
    }
    case 'down': {
      const names = values.all ? labsOnMachine() : [values.name ?? 'lab'];
      for (const name of names) {
        await Lab.down(name);
        process.stdout.write(`lab ${name}: down\n`);
      }
      return 0;
    }
    case 'status': {
      const names = values.name ? [values.name] : labsOnMachine();
      if (names.length === 0) process.stdout.write('no lab is up\n');
      for (const name of names) {
        const lab = Lab.open(name);
        printAccess(lab);
        for (const p of lab.processes.list()) {
          process.stdout.write(
            `  ${p.id.padEnd(34)} pid ${String(p.pid).padEnd(8)} ${lab.processes.isRunning(p.id) ? 'running' : 'STOPPED'}\n`,
          );
        }
      }
      return 0;
    }
    default:
      throw new LabRequestError('command', `"${command ?? ''}" is not a lab command\n${USAGE}`);
  }
}

function printNextSteps(lab: Lab): void {
  const p = lab.plan;
  process.stdout.write(
    [
      '',
      'the lab stays up. Try:',
      `  export KUBECONFIG=${lab.paths.kubeconfig}`,
      `  kubectl --context ${p.clusters[0]?.name} get sliceconfigs,clusters -A`,
      `  kubectl --context ${p.clusters[0]?.name} get slices,sliceipblocks`,
      `  kubectl slice get --context ${p.clusters[0]?.name}          # after npm run install:cli`,
      `  node --import tsx lab/cli.ts status --name ${p.name}         # its processes`,
      `take it down: npm run lab:down`,
      '',
    ].join('\n'),
  );
}

function printAccess(lab: Lab): void {
  const p = lab.plan;
  process.stdout.write(
    `lab ${p.name}: ${p.clusters.length} clusters × ${p.clusters[0]?.nodes.length} nodes\n`,
  );
  process.stdout.write(
    `  export KUBECONFIG=${lab.paths.kubeconfig}   # contexts: ${p.clusters.map((c) => c.name).join(', ')}\n`,
  );
}

function parseCount(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new LabRequestError(flag, `"${v}" is not a whole number`);
  return Number(v);
}

function parseClusters(v: string): number | string[] {
  return /^\d+$/.test(v) ? Number(v) : v.split(',').map((s) => s.trim());
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage =
      err instanceof LabRequestError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) process.stderr.write(USAGE + '\n');
    process.exit(usage ? 2 : 1);
  },
);
