/** Errors the wrappers raise themselves (the addon's own errors are built in src/common.c). */
import { constants } from 'node:os';

const names = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/**
 * An Error shaped like Node's system errors and the addon's: `code` is the errno name
 * (`ENODEV`, …) and `errno` its negated number. Used for errors a reader reports
 * asynchronously, which arrive as a bare errno.
 */
export function errnoError(what: string, errno: number): NodeJS.ErrnoException {
  const code = names.get(errno) ?? `ERRNO_${errno}`;
  const err: NodeJS.ErrnoException = new Error(`${what}: ${code}`);
  err.errno = -errno;
  err.code = code;
  return err;
}
