/**
 * The agent socket's file: claimed at start (a stale file from a crashed agent is removed,
 * a live agent's is not), restricted to its owner (the plugin runs as root, nothing else may
 * attach pods), and removed at close only if it is still ours.
 */
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { SlicenetError } from '../../lib/errors.ts';

/** Removes a stale socket file at `path`; refuses if something answers there or it is not a socket. */
export async function claimSocketPath(path: string): Promise<void> {
  // 0700: between bind and chmod the socket has the umask's mode; its directory closes that gap.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return;
  if (!st.isSocket()) {
    throw new SlicenetError(
      'SOCKET_PATH_IN_USE',
      `${path} exists and is not a socket; remove it or choose another path`,
    );
  }
  if (await answers(path)) {
    throw new SlicenetError('SOCKET_PATH_IN_USE', `another process is serving on ${path}; stop it first`);
  }
  await rm(path, { force: true });
}

/** Makes the bound socket owner-only and returns its inode, to recognise it at close. */
export async function restrictSocket(path: string): Promise<number> {
  await chmod(path, 0o600);
  return (await lstat(path)).ino;
}

/** Removes the socket file if it is the one we bound (a successor may already own the path). */
export async function releaseSocketPath(path: string, ino: number): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.ino === ino) await rm(path, { force: true });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    // A hung agent still accepts into its backlog; no answer in time means "in use" too.
    const timer = setTimeout(() => done(true), 500);
    const done = (alive: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(alive);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false)); // ECONNREFUSED: nobody listens, the file is stale
  });
}
