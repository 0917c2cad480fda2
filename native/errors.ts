/** Errors the wrappers raise themselves (the addon's own errors are built in src/common.c). */
import { getSystemErrorName } from 'node:util';

/**
 * An Error shaped like Node's system errors and the addon's: `code` is the errno name
 * (`ENODEV`, …) and `errno` its negated number. Used for errors a reader reports
 * asynchronously, which arrive as a bare errno.
 */
export function errnoError(what: string, errno: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `ERRNO_${errno}`;
  }
  const err: NodeJS.ErrnoException = new Error(`${what}: ${code}`);
  err.errno = -errno;
  err.code = code;
  return err;
}
