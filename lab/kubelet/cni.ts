/**
 * The container-runtime side of CNI, as libcni (containerd, CRI-O) does it: a network config
 * list is run plugin by plugin, each plugin's binary found in CNI_PATH and given its own
 * config on stdin with the list's `name` and `cniVersion` injected, the previous plugin's
 * result as `prevResult` on ADD, and the cached ADD result as `prevResult` on DEL (plugins
 * in reverse order). A single-plugin `.conf` is first turned into a one-plugin list, as
 * libcni's ConfListFromConf does. Capability args (`runtimeConfig`) are not passed: the
 * lab's Multus config declares none.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SlicenetError } from '../../lib/errors.ts';
import { runRaw } from '../../lib/exec.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** What the runtime knows about the attachment (libcni's RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  /** Path of the network namespace, e.g. /run/netns/<name>. */
  netns: string;
  ifName: string;
  /** CNI_ARGS, in order. */
  args: [string, string][];
}

export interface NetworkConfigList {
  name: string;
  cniVersion: string;
  plugins: Record<string, unknown>[];
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: unknown[];
  dns?: unknown;
}

export class CniError extends SlicenetError {
  constructor(
    readonly plugin: string,
    readonly network: string,
    readonly command: CniCommand,
    readonly cniCode: number | undefined,
    readonly msg: string,
    readonly details: string,
  ) {
    super(
      'CNI_FAILED',
      `plugin type="${plugin}" name="${network}" failed (${command.toLowerCase()}): ${msg}${details ? `: ${details}` : ''}`,
    );
  }
}

/** A `.conf` (one plugin) or `.conflist`, parsed, as a config list. */
export function toConfList(conf: Record<string, unknown>): NetworkConfigList {
  const name = conf.name;
  const cniVersion = conf.cniVersion;
  if (typeof name !== 'string' || typeof cniVersion !== 'string') {
    throw new SlicenetError('CNI_BAD_CONFIG', 'CNI config needs a string "name" and "cniVersion"');
  }
  if (Array.isArray(conf.plugins))
    return { name, cniVersion, plugins: conf.plugins as Record<string, unknown>[] };
  return { name, cniVersion, plugins: [conf] };
}

/** The CNI_ARGS a Kubernetes runtime passes for a pod sandbox. */
export function podCniArgs(
  pod: { namespace: string; name: string; uid: string },
  sandboxId: string,
): [string, string][] {
  return [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', pod.namespace],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', sandboxId],
    ['K8S_POD_UID', pod.uid],
  ];
}

export function cniEnv(command: CniCommand, rt: RuntimeConf, cniPath: string): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_ARGS: rt.args.map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: cniPath,
  };
}

/** One plugin's stdin: its own config plus what the list contributes. */
export function pluginStdin(
  list: NetworkConfigList,
  plugin: Record<string, unknown>,
  prevResult?: unknown,
): string {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return JSON.stringify(conf);
}

/** Runs ADD through the list; resolves with the last plugin's result. */
export async function cniAdd(list: NetworkConfigList, rt: RuntimeConf, cniPath: string): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of list.plugins) {
    result = (await execPlugin('ADD', list, plugin, rt, cniPath, result)) as CniResult;
  }
  return result ?? {};
}

/** Runs DEL through the list in reverse; `cached` is the ADD result, if the runtime kept it. */
export async function cniDel(
  list: NetworkConfigList,
  rt: RuntimeConf,
  cniPath: string,
  cached?: CniResult,
): Promise<void> {
  for (const plugin of [...list.plugins].reverse()) {
    await execPlugin('DEL', list, plugin, rt, cniPath, cached);
  }
}

async function execPlugin(
  command: CniCommand,
  list: NetworkConfigList,
  plugin: Record<string, unknown>,
  rt: RuntimeConf,
  cniPath: string,
  prevResult: unknown,
): Promise<unknown> {
  const type = typeof plugin.type === 'string' ? plugin.type : '';
  const binary = cniPath
    .split(':')
    .map((dir) => join(dir, type))
    .find((p) => type !== '' && existsSync(p));
  if (!binary)
    throw new CniError(
      type,
      list.name,
      command,
      undefined,
      `failed to find plugin "${type}" in path [${cniPath}]`,
      '',
    );
  const r = await runRaw([binary], {
    input: pluginStdin(list, plugin, prevResult),
    env: { ...process.env, ...cniEnv(command, rt, cniPath) },
    timeoutMs: 120_000,
  });
  if (r.exitCode !== 0) {
    const err = parseJson(r.stdout) as { code?: number; msg?: string; details?: string } | undefined;
    throw new CniError(
      type,
      list.name,
      command,
      err?.code,
      err?.msg ?? (r.stderr.trim() || `exited with ${r.exitCode}`),
      err?.details ?? '',
    );
  }
  return command === 'ADD' ? (parseJson(r.stdout) ?? {}) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The pod's addresses from a result: those on `ifName` inside the sandbox, IPv4 first.
 * Addresses that name no interface count too, as CNI allows.
 */
export function podIpsFromResult(result: CniResult, ifName = 'eth0'): string[] {
  const ifaces = result.interfaces ?? [];
  const ips = (result.ips ?? [])
    .filter((ip) => {
      if (ip.interface === undefined) return true;
      const iface = ifaces[ip.interface];
      return iface !== undefined && iface.name === ifName && Boolean(iface.sandbox);
    })
    .map((ip) => ip.address.split('/')[0]!);
  return [...ips.filter((a) => !a.includes(':')), ...ips.filter((a) => a.includes(':'))];
}
