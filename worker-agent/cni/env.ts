/**
 * The CNI_* environment, checked the way libcni's skel checks it: which variables each
 * command needs, container ID and interface name syntax, and CNI_ARGS as KEY=VALUE pairs.
 * Every refusal is code 4 and names the variable and what the runtime must set.
 */
import { isContainerId, isIfname } from '../api.ts';
import { CniError } from './errors.ts';
import { COMMANDS, type Command } from './versions.ts';

export interface CniEnv {
  command: Command;
  containerId: string;
  /** Empty on DEL when the runtime no longer has the netns, and on STATUS/GC/VERSION. */
  netns: string;
  ifname: string;
  /** CNI_ARGS, parsed. */
  args: Record<string, string>;
}

const REQUIRED: Record<Command, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  STATUS: [],
  GC: [],
  VERSION: [],
};

const HINT: Record<string, string> = {
  CNI_CONTAINERID: "the container's ID",
  CNI_NETNS: "the path of the pod's network namespace, e.g. /var/run/netns/<name>",
  CNI_IFNAME: 'the interface to create in the pod, e.g. slice0',
};

const invalid = (msg: string): CniError => new CniError('INVALID_ENVIRONMENT', msg);

export function readEnv(vars: NodeJS.ProcessEnv): CniEnv {
  const command = vars.CNI_COMMAND ?? '';
  if (!command)
    throw invalid(`CNI_COMMAND is not set; the runtime must set it to one of ${COMMANDS.join(', ')}`);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalid(`CNI_COMMAND "${command}" is not one of ${COMMANDS.join(', ')}`);
  }
  const cmd = command as Command;
  const missing = REQUIRED[cmd].filter((name) => !vars[name]);
  if (missing.length > 0) {
    const what = missing.map((m) => `${m} (${HINT[m]})`).join(', ');
    throw invalid(`${cmd} needs ${what}; the runtime did not set ${missing.length > 1 ? 'them' : 'it'}`);
  }
  const env: CniEnv = {
    command: cmd,
    containerId: vars.CNI_CONTAINERID ?? '',
    netns: vars.CNI_NETNS ?? '',
    ifname: vars.CNI_IFNAME ?? '',
    args: parseArgs(vars.CNI_ARGS ?? ''),
  };
  if (env.containerId && !isContainerId(env.containerId)) {
    throw invalid(
      `CNI_CONTAINERID "${env.containerId}" must start with a letter or digit, then letters, digits, _ . -`,
    );
  }
  if (env.ifname && !isIfname(env.ifname)) {
    throw invalid(
      `CNI_IFNAME "${env.ifname}" is not a Linux interface name: 1-15 bytes, no / : or whitespace`,
    );
  }
  return env;
}

/** "K=V;K2=V2"; empty segments are skipped, a segment without a key and '=' is refused. */
export function parseArgs(raw: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw invalid(
        `CNI_ARGS: "${pair}" is not KEY=VALUE; expected pairs separated by ';', e.g. K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0`,
      );
    }
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

/** The pod from CNI_ARGS; `required` on ADD and CHECK, where slice membership is decided. */
export function podIdentity(env: CniEnv, required: boolean): PodIdentity {
  const pod = {
    namespace: env.args.K8S_POD_NAMESPACE ?? '',
    name: env.args.K8S_POD_NAME ?? '',
    uid: env.args.K8S_POD_UID ?? '',
  };
  if (required) {
    const missing = ['K8S_POD_NAMESPACE', 'K8S_POD_NAME'].filter((k) => !env.args[k]);
    if (missing.length > 0) {
      throw invalid(
        `CNI_ARGS has no ${missing.join(' or ')}: the pod's namespace decides slice membership; ` +
          'run slicenet through Multus, or pass CNI_ARGS=K8S_POD_NAMESPACE=<ns>;K8S_POD_NAME=<pod>',
      );
    }
  }
  return pod;
}
