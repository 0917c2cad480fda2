/**
 * slicenet-controller's one typed config: a flag (`--mode hub` or `--mode=hub`) or its
 * SLICENET_* variable, flag first, else the default; validated at start, each error naming
 * the flag and the variable.
 */
import { parseArgs } from 'node:util';
import { SlicenetError } from '../lib/errors.ts';
import { SYSTEM_NAMESPACE } from './api/names.ts';

export interface ControllerConfig {
  mode: 'hub' | 'worker';
  /** This process's own cluster (the hub, in hub mode); empty: in-cluster or $KUBECONFIG. */
  kubeconfig: string;
  /** Worker mode: the credential `kubectl slice register` printed. */
  hubKubeconfig: string;
  /** Worker mode: the member cluster's registered name. */
  cluster: string;
  /** Hub mode: where SliceConfigs, Clusters and the leader Lease live. */
  hubNamespace: string;
  workers: number;
  /** /healthz, /readyz and /metrics over plain HTTP; port 0 picks a free one. */
  probeHost: string;
  probePort: number;
  /** Worker mode: how slice gateway pods run; empty keeps the released image and command. */
  gatewayImage: string;
  /** A JSON array of strings. */
  gatewayCommand: string[];
  /** A kubeconfig path handed to gateway pods (labs without service-account tokens). */
  gatewayKubeconfig: string;
}

/** Defaults differ so that a hub that is also a member can run both on one host network. */
export const DEFAULT_PROBE_PORT = { hub: 8082, worker: 8083 } as const;

export class ConfigError extends SlicenetError {
  constructor(flag: string, message: string) {
    super('CONFIG_INVALID', `--${flag} (${envName(flag)}) ${message}`);
  }
}

const FLAGS = [
  'mode',
  'kubeconfig',
  'hub-kubeconfig',
  'cluster',
  'hub-namespace',
  'workers',
  'probe-host',
  'probe-port',
  'gateway-image',
  'gateway-command',
  'gateway-kubeconfig',
] as const;

function envName(flag: string): string {
  return `SLICENET_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): ControllerConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
    strict: true,
  });
  const get = (f: (typeof FLAGS)[number], def: string): string => values[f] ?? env[envName(f)] ?? def;
  const mode = get('mode', 'hub');
  if (mode !== 'hub' && mode !== 'worker')
    throw new ConfigError('mode', `must be hub or worker, not "${mode}"`);
  const workers = Number(get('workers', '4'));
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new ConfigError('workers', 'must be a whole number from 1 to 64');
  const probePort = Number(get('probe-port', String(DEFAULT_PROBE_PORT[mode])));
  if (!Number.isInteger(probePort) || probePort < 0 || probePort > 65535)
    throw new ConfigError('probe-port', 'must be a port number from 0 to 65535');
  const cfg: ControllerConfig = {
    mode,
    kubeconfig: get('kubeconfig', ''),
    hubKubeconfig: get('hub-kubeconfig', ''),
    cluster: get('cluster', ''),
    hubNamespace: get('hub-namespace', SYSTEM_NAMESPACE),
    workers,
    probeHost: get('probe-host', '0.0.0.0'),
    probePort,
    gatewayImage: get('gateway-image', ''),
    gatewayCommand: parseCommand(get('gateway-command', '[]')),
    gatewayKubeconfig: get('gateway-kubeconfig', ''),
  };
  if (mode === 'worker') {
    if (!/^[a-z0-9]([-a-z0-9]{0,44}[a-z0-9])?$/.test(cfg.cluster))
      throw new ConfigError(
        'cluster',
        'must name this member cluster as registered (a DNS label, at most 46)',
      );
    if (!cfg.hubKubeconfig)
      throw new ConfigError(
        'hub-kubeconfig',
        "must name the hub credential file (from 'kubectl slice register')",
      );
  }
  return cfg;
}

function parseCommand(text: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new ConfigError('gateway-command', 'must be a JSON array of strings, e.g. ["slicenet-gateway"]');
  return v;
}
