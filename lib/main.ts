/**
 * The `main` of a long-running Slicenet process: load its settings (a bad one exits 2 with
 * the message), log under its component name, stop on SIGTERM or SIGINT through one root
 * AbortSignal, and exit 0 after a clean stop or 1 on failure.
 */
import { createLogger, type Logger } from './log.ts';

export interface ProcessMain<C> {
  /** The program name in messages, e.g. `slicenet-agent`. */
  program: string;
  /** The logger's component name. */
  component: string;
  /** Parses argv and env; throws for a bad setting. */
  load(argv: string[], env: NodeJS.ProcessEnv): C;
  /** Whether an error thrown by `load` is a bad setting (exit 2) rather than a bug. */
  isConfigError(err: unknown): boolean;
  /** Fields every log line carries. */
  logFields?(config: C): Record<string, unknown>;
  run(config: C, log: Logger, signal: AbortSignal): Promise<void>;
}

export async function runProcess<C>(m: ProcessMain<C>): Promise<void> {
  let config: C;
  try {
    config = m.load(process.argv.slice(2), process.env);
  } catch (err) {
    // node:util parseArgs refuses unknown options and missing values with ERR_PARSE_ARGS_* codes.
    const parseArgsError = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_') ?? false;
    if (!m.isConfigError(err) && !parseArgsError) throw err;
    process.stderr.write(`${m.program}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(m.component, m.logFields?.(config));
  const root = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => {
      log.info('stopping');
      root.abort();
    });
  try {
    await m.run(config, log, root.signal);
    log.info('stopped');
  } catch (err) {
    log.error('failed', { err });
    process.exitCode = 1;
  }
}
