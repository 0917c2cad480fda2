/**
 * Structured logging: one JSON object per line on stderr. The message is a constant; what
 * varies goes in fields. Two levels plus errors; debug is on when SLICENET_DEBUG=1.
 */
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

export function createLogger(component: string, base: Fields = {}): Logger {
  const debugOn = process.env.SLICENET_DEBUG === '1';
  const write = (level: string, msg: string, fields?: Fields): void => {
    const line = { time: new Date().toISOString(), level, component, msg, ...base, ...fields };
    process.stderr.write(JSON.stringify(line, errorReplacer) + '\n');
  };
  return {
    info: (msg, fields) => write('info', msg, fields),
    debug: (msg, fields) => (debugOn ? write('debug', msg, fields) : undefined),
    error: (msg, fields) => write('error', msg, fields),
    with: (fields) => createLogger(component, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
