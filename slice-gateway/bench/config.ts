/**
 * The one config of `npm run bench:gateway`, from `SLICENET_BENCH_*` variables with the defaults
 * of the full run; short debug runs shrink it (e.g. SLICENET_BENCH_SECONDS=2
 * SLICENET_BENCH_PATHS=veth,vxlan). Validated at start: a bad value is refused by name.
 */
import { SlicenetError } from '../../lib/errors.ts';

/** Every path the bench knows, in the order it measures them. */
export const PATH_NAMES = [
  'slicenet-chacha20-poly1305',
  'slicenet-aes-256-gcm',
  'openvpn-kubeslice',
  'openvpn-gcm',
  'vxlan',
  'veth',
] as const;

export type PathName = (typeof PATH_NAMES)[number];

export interface BenchConfig {
  /** iperf3 -t of every throughput run (one more second is omitted as warm-up). */
  seconds: number;
  /** Rounds; each measures every path once, paths interleaved so load from others hits all alike. */
  runs: number;
  /** Pings per path and round, at 10 ms intervals. */
  pings: number;
  paths: PathName[];
}

const DEFAULTS: BenchConfig = { seconds: 5, runs: 3, pings: 1000, paths: [...PATH_NAMES] };

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max: number, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new SlicenetError('BAD_CONFIG', `${name} "${raw}": must be an integer from ${min} to ${max}`);
  return n;
}

function paths(env: NodeJS.ProcessEnv): PathName[] {
  const raw = env.SLICENET_BENCH_PATHS;
  if (raw === undefined || raw === '') return DEFAULTS.paths;
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names)
    if (!(PATH_NAMES as readonly string[]).includes(n))
      throw new SlicenetError(
        'BAD_CONFIG',
        `SLICENET_BENCH_PATHS: unknown path "${n}"; use a comma-separated list of ${PATH_NAMES.join(', ')}`,
      );
  return PATH_NAMES.filter((p) => names.includes(p));
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  return {
    seconds: integer(env, 'SLICENET_BENCH_SECONDS', 1, 60, DEFAULTS.seconds),
    runs: integer(env, 'SLICENET_BENCH_RUNS', 1, 10, DEFAULTS.runs),
    pings: integer(env, 'SLICENET_BENCH_PINGS', 10, 2000, DEFAULTS.pings),
    paths: paths(env),
  };
}
