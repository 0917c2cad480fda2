/**
 * The `slicenet` CNI plugin's entry point: reads the CNI_* environment and the netconf on
 * stdin, runs the command, writes the result or the CNI error JSON on stdout, and exits
 * non-zero on error. Built into one file by `npm run build:cni` (see README.md).
 */
import { readFileSync } from 'node:fs';
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus, cmdVersion, type Invocation } from './commands.ts';
import { readEnv } from './env.ts';
import { CniError, errorJson } from './errors.ts';
import { LATEST_VERSION, isSupported, type Command } from './versions.ts';

const COMMANDS: Record<Command, (inv: Invocation) => Promise<string>> = {
  ADD: cmdAdd,
  DEL: cmdDel,
  CHECK: cmdCheck,
  STATUS: cmdStatus,
  GC: cmdGc,
  VERSION: cmdVersion,
};

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    throw new CniError(
      'IO_FAILURE',
      `cannot read the network configuration from stdin: ${(e as Error).message}`,
    );
  }
}

/** The config's version if it is one of ours, so the runtime decodes the error as it expects. */
function errorVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return isSupported(v) ? v : LATEST_VERSION;
  } catch {
    return LATEST_VERSION;
  }
}

async function main(): Promise<void> {
  let stdin = '';
  try {
    // stdin first, so that an error about the environment is in the config's version.
    stdin = readStdin();
    const env = readEnv(process.env);
    process.stdout.write(await COMMANDS[env.command]({ env, stdin, vars: process.env }));
  } catch (err) {
    process.stdout.write(errorJson(err, errorVersion(stdin)));
    process.exitCode = 1;
  }
}

// Not top-level await: the bundle is CommonJS, which loads faster than ESM and needs no
// package.json beside it in the CNI bin dir.
void main();
