/**
 * kubectl-slice: the Slicenet kubectl plugin (SPEC §9). Only wiring: pick the command, parse
 * its flags, run it, and map what it throws to an exit code (errors.ts) and a message on stderr.
 */
import { parse } from './args.ts';
import type { Command } from './command.ts';
import { bench } from './commands/bench.ts';
import { create } from './commands/create.ts';
import { del } from './commands/delete.ts';
import { describe } from './commands/describe.ts';
import { diagnose } from './commands/diagnose.ts';
import { exportService, unexportService } from './commands/export.ts';
import { get } from './commands/get.ts';
import { install } from './commands/install.ts';
import { join } from './commands/join.ts';
import { leave } from './commands/leave.ts';
import { register } from './commands/register.ts';
import { status } from './commands/status.ts';
import { EXIT, UsageError, exitCodeOf } from './errors.ts';

const COMMANDS: Command[] = [
  create,
  get,
  describe,
  status,
  diagnose,
  bench,
  del,
  join,
  leave,
  exportService,
  unexportService,
  register,
  install,
];

const GLOBAL_HELP = `Global flags (every command):
  --kubeconfig FILE      kubeconfig to use (default: $KUBECONFIG, then ~/.kube/config)
  --context NAME         kubeconfig context to use
  -n, --namespace NS     the hub namespace holding SliceConfigs (same as --hub-namespace)
  --hub-namespace NS     default slicenet-system
  -o, --output FORMAT    table (default), wide, json or yaml
  --request-timeout D    give up on an API call after D (30s, 2m, 0 = never; default 30s)
  -h, --help             help for a command
`;

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'kubectl slice: manage Slicenet slices\n',
    'Usage: kubectl slice <command> [flags]\n',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    '',
    GLOBAL_HELP,
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 not found.',
    '',
  ].join('\n');
}

const out = (text: string): void => void process.stdout.write(text);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? process.stderr : process.stdout).write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    const command = COMMANDS.find((c) => c.name === name);
    if (!command)
      throw new UsageError(
        `unknown command '${name}': one of ${COMMANDS.map((c) => c.name).join(', ')}; see 'kubectl slice --help'`,
      );
    const parsed = parse(command.name, rest, command.flags);
    if (parsed.values.help) {
      out(command.help + '\n' + GLOBAL_HELP);
      return EXIT.ok;
    }
    await command.run(parsed, out);
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeOf(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A request abandoned after --request-timeout may still hold a socket: never let it keep
    // the process alive once the command is done.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = EXIT.failure;
  },
);
