/**
 * The network namespace of a pod is named from the lab and the pod's UID alone, so that the
 * kubelet, a restarted kubelet and the lab's test API all find it without asking each other.
 */
import { existsSync } from 'node:fs';
import { SlicenetError } from '../../lib/errors.ts';
import { run, runRaw } from '../../lib/exec.ts';

export function podNetnsName(labName: string, uid: string): string {
  return `${labName}-p-${uid.replace(/-/g, '').slice(0, 16)}`;
}

export const netnsPath = (name: string): string => `/run/netns/${name}`;

export const netnsExists = (name: string): boolean => existsSync(netnsPath(name));

/** A fresh namespace with loopback up; one left by an earlier attempt is replaced. */
export async function createPodNetns(name: string): Promise<void> {
  await deletePodNetns(name);
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
}

/**
 * Names the kubelet's own namespace (the node's) for a hostNetwork pod, so that the same
 * name reaches the pod's network whether or not it has its own. Deleting the name later
 * only unmounts it; the node's namespace lives on.
 */
export async function attachNodeNetns(name: string): Promise<void> {
  await deletePodNetns(name);
  await run(['ip', 'netns', 'attach', name, String(process.pid)]);
}

/** Removes the name (and the namespace, if nothing else holds it); gone already is fine. */
export async function deletePodNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  const r = await runRaw(['ip', 'netns', 'del', name]);
  if (r.exitCode !== 0 && netnsExists(name)) {
    throw new SlicenetError('NETNS_DELETE_FAILED', `ip netns del ${name}: ${r.stderr.trim()}`);
  }
}
