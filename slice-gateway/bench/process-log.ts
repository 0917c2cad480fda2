import { readFileSync } from 'node:fs';
import type { ProcessTable } from '../../lab/process.ts';

/** The log a ProcessTable process has written so far; '' before it exists. */
export function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether process `id`'s log shows `marker` yet; throws with the log's tail if it has exited. */
export function logShows(procs: ProcessTable, id: string, marker: string): boolean {
  const log = readLog(procs.logPath(id));
  if (log.includes(marker)) return true;
  if (!procs.isRunning(id)) throw new Error(`${id} exited before "${marker}":\n${log.slice(-2000)}`);
  return false;
}
