/**
 * What a lab may leave behind on the machine, looked up from the kernel and /proc rather
 * than from the lab's own records: tests assert this is empty after teardown.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { LabPaths } from '../paths.ts';
import { labNamespaces } from '../topology.ts';

export interface Leftovers {
  namespaces: string[];
  mounts: string[];
  processes: string[];
  stateDir: boolean;
}

export function leftovers(labName: string): Leftovers {
  const dir = new LabPaths(labName).dir;
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/run/netns/${labName}-`) || l.includes(dir + '/'));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir + '/') || cmdline.includes(`/run/netns/${labName}-`))
        processes.push(`${pid} ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return { namespaces: labNamespaces(labName), mounts, processes, stateDir: existsSync(dir) };
}

export const NOTHING: Leftovers = { namespaces: [], mounts: [], processes: [], stateDir: false };

export function testLabName(prefix = 't'): string {
  return `${prefix}${Math.random().toString(36).slice(2, 6)}`.replace(/[^a-z0-9]/g, 'x');
}
