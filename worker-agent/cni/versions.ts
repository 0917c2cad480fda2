/**
 * The CNI spec versions the plugin speaks, and which command each version has: CHECK came
 * with 0.4.0, STATUS and GC with 1.1.0. A command the config's version does not have is
 * refused with code 1, as libcni's skel does.
 */
export const SUPPORTED_VERSIONS = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type Command = (typeof COMMANDS)[number];

const SINCE: Record<Command, CniVersion> = {
  ADD: '0.3.1',
  DEL: '0.3.1',
  VERSION: '0.3.1',
  CHECK: '0.4.0',
  STATUS: '1.1.0',
  GC: '1.1.0',
};

export const isSupported = (v: unknown): v is CniVersion =>
  typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);

const rank = (v: CniVersion): number => SUPPORTED_VERSIONS.indexOf(v);

/** The first version that has `command`, if `version` is older; else undefined. */
export const missingCommand = (version: CniVersion, command: Command): CniVersion | undefined =>
  rank(version) < rank(SINCE[command]) ? SINCE[command] : undefined;

/** The highest version in `list` the plugin supports (a 1.1.0 `cniVersions` list), if any. */
export function highestSupported(list: unknown[]): CniVersion | undefined {
  const ours = list.filter(isSupported);
  return ours.sort((a, b) => rank(b) - rank(a))[0];
}

/** Versions whose result's `ips` entries carry `"version": "4"|"6"` (dropped in 1.0.0). */
export const hasIpVersionField = (v: CniVersion): boolean => v === '0.3.1' || v === '0.4.0';
