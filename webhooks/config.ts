/**
 * slicenet-webhook's one typed config: every setting from a flag (`--port 9443` or
 * `--port=9443`) or its SLICENET_* variable, flag first, else the default; validated at start,
 * each error naming the flag and the variable.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from './errors.ts';

export interface WebhookConfig {
  /** Empty: in-cluster credentials, or $KUBECONFIG. */
  kubeconfig: string;
  /** The webhook's own namespace: its Secret and Service live here. */
  namespace: string;
  /** Where SliceConfigs and Clusters live. */
  hubNamespace: string;
  host: string;
  port: number;
  /** Plain HTTP for /healthz, /readyz, /metrics. */
  probePort: number;
  /** How the API server reaches the webhook: through its Service, or a URL (the lab: no kube-proxy). */
  clientConfig: 'service' | 'url';
  serviceName: string;
  servicePort: number;
  /** The IP or DNS name in the URL (clientConfig url); also put in the generated certificate. */
  urlHost: string;
  /** Operator-supplied certificate and key (both or neither), and the CA for caBundle. */
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaFile: string;
  tlsSecret: string;
  /** Create and patch the webhook configurations (off when e.g. Helm owns them). */
  manageWebhooks: boolean;
  webhookConfigName: string;
  timeoutSeconds: number;
  maxBodyBytes: number;
  resyncSeconds: number;
  certValidityDays: number;
  renewBeforeDays: number;
}

type Setting =
  | { key: keyof WebhookConfig; kind: 'string'; def: string; values?: readonly string[]; help: string }
  | { key: keyof WebhookConfig; kind: 'int'; def: number; min: number; max: number; help: string }
  | { key: keyof WebhookConfig; kind: 'bool'; def: boolean; help: string };

// prettier-ignore
export const SETTINGS: readonly Setting[] = [
  { key: 'kubeconfig', kind: 'string', def: '', help: 'kubeconfig file; empty: in-cluster or $KUBECONFIG' },
  { key: 'namespace', kind: 'string', def: 'slicenet-system', help: "the webhook's namespace (Secret, Service)" },
  { key: 'hubNamespace', kind: 'string', def: 'slicenet-system', help: 'namespace of SliceConfigs and Clusters' },
  { key: 'host', kind: 'string', def: '0.0.0.0', help: 'address to listen on' },
  { key: 'port', kind: 'int', def: 9443, min: 0, max: 65535, help: 'HTTPS admission port' },
  { key: 'probePort', kind: 'int', def: 8081, min: 0, max: 65535, help: 'HTTP port of /healthz, /readyz, /metrics' },
  { key: 'clientConfig', kind: 'string', def: 'service', values: ['service', 'url'], help: 'how the API server reaches the webhook' },
  { key: 'serviceName', kind: 'string', def: 'slicenet-webhook', help: "the webhook's Service" },
  { key: 'servicePort', kind: 'int', def: 443, min: 1, max: 65535, help: "the Service's port" },
  { key: 'urlHost', kind: 'string', def: '', help: 'IP or host name for client-config url' },
  { key: 'tlsCertFile', kind: 'string', def: '', help: 'serving certificate (PEM); unset: generate one' },
  { key: 'tlsKeyFile', kind: 'string', def: '', help: 'its private key (PEM)' },
  { key: 'tlsCaFile', kind: 'string', def: '', help: 'CA written to caBundle; unset with a supplied cert: caBundle left alone' },
  { key: 'tlsSecret', kind: 'string', def: 'slicenet-webhook-tls', help: 'Secret keeping the generated CA and certificate' },
  { key: 'manageWebhooks', kind: 'bool', def: true, help: 'create and patch the webhook configurations' },
  { key: 'webhookConfigName', kind: 'string', def: 'slicenet', help: 'name of both webhook configurations' },
  { key: 'timeoutSeconds', kind: 'int', def: 5, min: 1, max: 30, help: "the API server's timeout for each call" },
  { key: 'maxBodyBytes', kind: 'int', def: 3 * 1024 * 1024, min: 1024, max: 64 * 1024 * 1024, help: 'largest request body accepted' },
  { key: 'resyncSeconds', kind: 'int', def: 300, min: 5, max: 86_400, help: 'how often to recheck the certificate and caBundle' },
  { key: 'certValidityDays', kind: 'int', def: 365, min: 2, max: 3650, help: 'lifetime of a generated serving certificate' },
  { key: 'renewBeforeDays', kind: 'int', def: 30, min: 1, max: 3649, help: 'renew a certificate this long before it expires' },
];

export const flagOf = (key: string): string => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
export const envOf = (key: string): string =>
  'SLICENET_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
const name = (key: string): string => `${flagOf(key)} / ${envOf(key)}`;

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): WebhookConfig {
  const options = Object.fromEntries(
    SETTINGS.map((s) => [flagOf(s.key).slice(2), { type: 'string' as const }]),
  );
  let flags: Record<string, string | undefined>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError('flags', `${(err as Error).message}; see --help`);
  }
  const cfg: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const raw = flags[flagOf(s.key).slice(2)] ?? env[envOf(s.key)];
    cfg[s.key] = raw === undefined ? s.def : parseValue(s, raw);
  }
  return check(cfg as unknown as WebhookConfig);
}

function parseValue(s: Setting, raw: string): unknown {
  if (s.kind === 'bool') {
    if (raw === 'true' || raw === 'false') return raw === 'true';
    throw new ConfigError(name(s.key), `"${raw}" is not true or false`);
  }
  if (s.kind === 'int') {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < s.min || n > s.max) {
      throw new ConfigError(name(s.key), `"${raw}" is not an integer from ${s.min} to ${s.max}`);
    }
    return n;
  }
  if (s.values && !s.values.includes(raw)) {
    throw new ConfigError(name(s.key), `"${raw}" is not one of ${s.values.join(', ')}`);
  }
  return raw;
}

function check(cfg: WebhookConfig): WebhookConfig {
  if (cfg.clientConfig === 'url' && cfg.urlHost === '') {
    throw new ConfigError(
      name('urlHost'),
      'required with --client-config url (the address the API server dials)',
    );
  }
  if ((cfg.tlsCertFile === '') !== (cfg.tlsKeyFile === '')) {
    throw new ConfigError(
      name(cfg.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile'),
      'give the certificate and key together',
    );
  }
  if (cfg.tlsCaFile !== '' && cfg.tlsCertFile === '') {
    throw new ConfigError(name('tlsCaFile'), 'only used with --tls-cert-file and --tls-key-file');
  }
  if (cfg.renewBeforeDays >= cfg.certValidityDays) {
    throw new ConfigError(
      name('renewBeforeDays'),
      `must be less than ${name('certValidityDays')} (${cfg.certValidityDays})`,
    );
  }
  for (const key of ['namespace', 'hubNamespace', 'serviceName', 'webhookConfigName', 'tlsSecret'] as const) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(cfg[key])) {
      throw new ConfigError(name(key), `"${cfg[key]}" is not a DNS-1123 name`);
    }
  }
  return cfg;
}

export function usage(): string {
  const rows = SETTINGS.map(
    (s) =>
      `  ${flagOf(s.key).padEnd(22)} ${envOf(s.key).padEnd(30)} ${s.help} (default ${JSON.stringify(s.def)})`,
  );
  return `usage: slicenet-webhook [flags]\n\n${rows.join('\n')}\n`;
}
