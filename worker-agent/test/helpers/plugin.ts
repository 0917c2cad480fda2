/**
 * The bundled plugin, built once per test file into a temp dir and run as a subprocess the
 * way a runtime runs it: CNI_* variables, netconf on stdin, result or error on stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCniPlugin } from '../../cni/build.ts';

export interface Built {
  bundle: string;
  dir: string;
  cleanup(): Promise<void>;
}

export async function buildPlugin(): Promise<Built> {
  const dir = await mkdtemp(join(tmpdir(), 'slicenet-cni-'));
  const bundle = await buildCniPlugin(join(dir, 'slicenet'));
  return { bundle, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, or undefined when empty. */
  json: Record<string, unknown> | undefined;
  ms: number;
}

export function runPlugin(
  bundle: string,
  env: Record<string, string | undefined>,
  stdin: string,
): Promise<Run> {
  const started = performance.now();
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const child = spawn(bundle, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...clean } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) =>
      resolve({
        exitCode,
        stdout,
        stderr,
        json: stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined,
        ms: performance.now() - started,
      }),
    );
  });
}

/** A well-formed invocation for `command`; tests override what they break. */
export function cniEnv(
  command: string,
  over: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'c0ffee01',
    CNI_NETNS: '/var/run/netns/test-pod',
    CNI_IFNAME: 'slice0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_UID=1234-abcd',
    CNI_PATH: '/opt/cni/bin',
    ...over,
  };
}

export const netconf = (cniVersion: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ cniVersion, name: 'slicenet-payments', type: 'slicenet', slice: 'payments', ...extra });
