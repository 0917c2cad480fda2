/** What every command file exports: its name, help, flags, and a run that throws on failure. */
import type { FlagSpec, Parsed } from './args.ts';
import type { Write } from './output.ts';

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The usage line and flag help, printed by --help. */
  help: string;
  flags: FlagSpec;
  run(p: Parsed, out: Write): Promise<void>;
}
