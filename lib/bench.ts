/**
 * What every `npm run bench:<name>` shares: medians and percentiles, goals whose `met` is
 * computed from the measured value, and the summary that must be the last stdout line:
 *   {"bench": "<name>", "figures": {...}, "goals": [{"name", "value", "goal", "met"}]}
 */
import { readFileSync } from 'node:fs';

export const median = (xs: number[]): number => {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Nearest-rank percentile: the smallest value with at least p % of values at or below it. */
export const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) throw new Error('percentile of no values');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export interface Goal {
  name: string;
  value: number;
  /** A human reading of the goal, e.g. "<= 5". */
  goal: string;
  met: boolean;
}

/** A goal that `value` must not exceed. */
export const atMost = (name: string, value: number, limit: number): Goal => ({
  name,
  value,
  goal: `<= ${limit}`,
  met: value <= limit,
});

/** A goal that `value` must reach. */
export const atLeast = (name: string, value: number, floor: number): Goal => ({
  name,
  value,
  goal: `>= ${floor}`,
  met: value >= floor,
});

/** Busy and total jiffies (1/100 s) of the whole machine, from the first line of /proc/stat. */
export function machineJiffies(): { busy: number; total: number } {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = f.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

export const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Prints the summary line; call it last. */
export function report(bench: string, figures: Record<string, number | string>, goals: Goal[]): void {
  process.stdout.write(JSON.stringify({ bench, figures, goals }) + '\n');
}

/** Runs a bench's main, printing a failure on stderr with exit code 1. */
export function runBench(bench: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:${bench}: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
