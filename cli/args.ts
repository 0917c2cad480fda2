/**
 * Command-line parsing on node:util parseArgs, strict, with its errors turned into
 * UsageErrors that name the flag. Global flags (kubectl plugin conventions) are accepted by
 * every command and come first in each command's table.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export const OUTPUTS = ['table', 'wide', 'json', 'yaml'] as const;
export type Output = (typeof OUTPUTS)[number];

export const GLOBAL_FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'hub-namespace': { type: 'string' },
  output: { type: 'string', short: 'o' },
  'request-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpec;

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A kubectl-style duration flag, in ms: `30s`, `2m`, `500ms`, `1h`, or plain seconds; `0` means
 * no limit (Infinity). Anything else is a UsageError naming the flag.
 */
export function duration(values: Values, name: string, fallbackMs: number): number {
  const v = str(values, name);
  if (v === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m)
    throw new UsageError(`--${name}: '${v}' is not a duration: use e.g. 30s, 2m, 500ms, or 0 for no limit`);
  const ms = Number(m[1]) * DURATION_UNITS_MS[m[2] ?? 's']!;
  return ms === 0 ? Infinity : ms;
}

export interface Parsed {
  values: Values;
  positionals: string[];
}

/** Parses `argv` for `command`; unknown flags, missing values and strays are UsageErrors. */
export function parse(command: string, argv: string[], flags: FlagSpec): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...GLOBAL_FLAGS, ...flags },
      allowPositionals: true,
      strict: true,
    });
    return { values: values, positionals };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const flag = /'(-[^']*)'/.exec(e.message)?.[1];
    const hint = `see 'kubectl slice ${command} --help'`;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`unknown flag ${flag ?? ''} for '${command}': ${hint}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new UsageError(
        `flag ${flag?.split(/[ ,]/)[0] ?? ''} ${e.message.includes('argument missing') ? 'needs a value' : 'takes no value'}: ${hint}`,
      );
    throw new UsageError(`${e.message}: ${hint}`);
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A comma-separated list flag; empty items are a usage error. */
export function list(values: Values, name: string): string[] | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw new UsageError(`--${name}: give a comma-separated list without empty items, e.g. --${name} a,b`);
  return items;
}

/** An integer flag within [min, max]. */
export function int(values: Values, name: string, min: number, max: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got '${v}'`);
  return n;
}

/** A flag whose value must be one of `choices`. */
export function oneOf<T extends string>(values: Values, name: string, choices: readonly T[]): T | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v))
    throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

export function output(values: Values, fallback: Output = 'table'): Output {
  return oneOf(values, 'output', OUTPUTS) ?? fallback;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-label name argument of at most `max` characters (`what` names it in the message). */
export function dnsLabel(value: string, what: string, max = 63): string {
  if (!DNS_LABEL.test(value) || value.length > max)
    throw new UsageError(
      `${what} '${value}' is not valid: use lower-case letters, digits and '-', at most ${max} characters`,
    );
  return value;
}

/** The slice a command names: its one argument, a SliceConfig name (a DNS label of at most 40). */
export function sliceArg(command: string, p: Parsed): string {
  return dnsLabel(onePositional(command, p, 'slice'), 'slice name', 40);
}

/** The slice a command may name (get, status): at most one, checked as sliceArg checks it. */
export function optionalSliceArg(command: string, p: Parsed): string | undefined {
  if (p.positionals.length > 1)
    throw new UsageError(
      `unexpected argument '${p.positionals[1]}': kubectl slice ${command} takes at most one slice`,
    );
  const name = p.positionals[0];
  return name === undefined ? undefined : dnsLabel(name, 'slice name', 40);
}

/** The one positional argument a command needs; `what` names it in the message. */
export function onePositional(command: string, p: Parsed, what: string): string {
  if (p.positionals.length === 0)
    throw new UsageError(`missing the ${what} name: kubectl slice ${command} <${what}>`);
  if (p.positionals.length > 1)
    throw new UsageError(
      `unexpected argument '${p.positionals[1]}': kubectl slice ${command} takes one ${what}`,
    );
  return p.positionals[0]!;
}
