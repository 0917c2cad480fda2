/**
 * One gateway from a JSON config, until SIGTERM or SIGINT: for tests, labs and the gateway
 * benchmark. The config has the shape of GatewayOptions (config.ts) with keys in base64:
 *
 *   node --import tsx slice-gateway/gateway/standalone.ts --config gw.json [--status status.json]
 *
 * Prints one JSON line on stdout when traffic can flow: {"ready":true,"publicKey","port"}.
 * With --status, rewrites that file (atomically) every 200 ms and at exit with
 * {"peers": peerStatus(), "drops": drops(), "io": io()}. Logs (JSON lines) go to stderr. Exit codes:
 * 0 after a signal, 2 for a bad config or command line (the message names the field), 1 for
 * anything else.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SlicenetError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { parseConfig } from './config.ts';
import { startGateway, type RunningGateway } from './gateway.ts';

const STATUS_MS = 200;
const log = createLogger('slicenet-gateway');

function readConfig(): { config: ReturnType<typeof parseConfig>; status?: string } {
  let values;
  try {
    ({ values } = parseArgs({ options: { config: { type: 'string' }, status: { type: 'string' } } }));
  } catch (err) {
    throw new SlicenetError(
      'BAD_CONFIG',
      `${(err as Error).message}; usage: standalone.ts --config file.json [--status file.json]`,
    );
  }
  if (!values.config)
    throw new SlicenetError('BAD_CONFIG', '--config: required (a JSON file, see slice-gateway/README.md)');
  let text: string;
  try {
    text = readFileSync(values.config, 'utf8');
  } catch (err) {
    throw new SlicenetError(
      'BAD_CONFIG',
      `--config ${values.config}: cannot read it (${(err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SlicenetError('BAD_CONFIG', `--config ${values.config}: not JSON (${(err as Error).message})`);
  }
  return { config: parseConfig(json), ...(values.status ? { status: values.status } : {}) };
}

function writeStatus(gw: RunningGateway, path: string): void {
  writeFileSync(`${path}.tmp`, JSON.stringify({ peers: gw.peerStatus(), drops: gw.drops(), io: gw.io() }));
  renameSync(`${path}.tmp`, path);
}

async function main(): Promise<void> {
  const { config, status } = readConfig();
  const gw = await startGateway({ ...config, onEvent: (e) => log.info('peer event', e) });
  log.info('gateway started', { publicKey: gw.publicKey, port: gw.port, tap: config.tap.name });
  process.stdout.write(JSON.stringify({ ready: true, publicKey: gw.publicKey, port: gw.port }) + '\n');
  const timer = status ? setInterval(() => writeStatus(gw, status), STATUS_MS) : undefined;
  const stop = (signal: string): void => {
    clearInterval(timer);
    if (status) writeStatus(gw, status);
    log.info('gateway stopping', { signal, drops: gw.drops() });
    void gw.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  const bad = err instanceof SlicenetError && (err.code === 'BAD_CONFIG' || err.code === 'BAD_MTU');
  log.error(bad ? 'bad configuration' : 'gateway failed', { error: err });
  if (bad) process.stderr.write(`slicenet-gateway: ${(err as Error).message}\n`);
  process.exit(bad ? 2 : 1);
});
