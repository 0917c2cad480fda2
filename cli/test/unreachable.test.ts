/**
 * Issue 7, acceptance 4: every `kubectl slice` command, run as a subprocess, against API servers
 * it cannot use — a closed port, a TLS server whose certificate the kubeconfig's CA did not sign,
 * a server that answers 401, and one that takes the connection and never answers (with
 * `--request-timeout 2s`) — exits 1 within seconds with one `error:` line that names the
 * server and the kubeconfig context and says what to check; never a stack trace, never a hang.
 * And each command refuses an unknown flag (exit 2) before it contacts anything: that run is
 * also the command's start-up time, against which "within seconds" is judged (tsx takes 2–4 s
 * of CPU to load client-node, much more on a loaded machine).
 */
import anyTest, { type TestFn } from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterPki } from '../../lab/pki.ts';
import { cli, tokenKubeconfig, type CliResult } from './run.ts';

/** One run of every command that talks to an API server, with arguments valid up to that point. */
const COMMANDS: Record<string, string[]> = {
  create: ['create', 'x', '--subnet', '10.90.0.0/16', '--clusters', 'a,b'],
  get: ['get'],
  describe: ['describe', 'demo'],
  status: ['status', 'demo'],
  diagnose: ['diagnose', 'demo'],
  bench: ['bench', 'demo'],
  delete: ['delete', 'demo'],
  join: ['join', 'shop', '--slice', 'demo'],
  leave: ['leave', 'shop'],
  export: ['export', 'web', '-n', 'shop'],
  unexport: ['unexport', 'web', '-n', 'shop'],
  register: ['register', 'east'],
  install: ['install', 'hub', '--apply'],
};

interface Target {
  /** What the message must say besides the server and context. */
  says: RegExp;
  /** Flags this case adds. */
  flags?: string[];
  server: string;
  kubeconfig: string;
}

const test = anyTest as TestFn<{ targets: Record<string, Target>; servers: (Server | NetServer)[] }>;

const CONTEXT = 'east-admin';

/** A kubeconfig of context east-admin → cluster east at `server`, trusting `ca` (else skipping verification). */
function kubeconfig(server: string, ca?: string): string {
  const file = tokenKubeconfig(server, { context: CONTEXT });
  const config = JSON.parse(readFileSync(file, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    contexts: { context: { cluster: string } }[];
  };
  config.clusters = [
    {
      name: 'east',
      cluster: ca ? { server, 'certificate-authority': ca } : { server, 'insecure-skip-tls-verify': true },
    },
  ];
  config.contexts[0]!.context.cluster = 'east';
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test.before(async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-slice-tls-'));
  const pki = new ClusterPki(join(dir, 'east'));
  await pki.init('east');
  const serving = await pki.serving('apiserver', ['localhost'], ['127.0.0.1']);
  const other = new ClusterPki(join(dir, 'other'));
  await other.init('other');
  const tls = { cert: readFileSync(serving.cert), key: readFileSync(serving.key) };

  const wrongCa = createHttpsServer(tls, (_req, res) => res.end('{}'));
  const unauthorized = createHttpsServer(tls, (_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      }),
    );
  });
  // Takes connections and never says a word (a hung or overloaded API server).
  const held: Socket[] = [];
  const silent = createServer((socket) => void held.push(socket));
  silent.on('close', () => held.forEach((s) => s.destroy()));
  t.context.servers = [wrongCa, unauthorized, silent];
  const closed = `https://127.0.0.1:${await closedPort()}`;
  const wrong = await listen(wrongCa);
  const refusing = await listen(unauthorized);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const mute = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  t.context.targets = {
    'a closed port': { server: closed, kubeconfig: kubeconfig(closed), says: /\(ECONNREFUSED\): check/ },
    'a certificate from another CA': {
      server: wrong,
      kubeconfig: kubeconfig(wrong, other.ca.cert),
      says: /presented a certificate that .* does not trust .*: check the cluster's certificate-authority/,
    },
    'a 401 for the credentials': {
      server: refusing,
      kubeconfig: kubeconfig(refusing),
      says: /did not accept the credentials .*401 Unauthorized.*: check the user's token/,
    },
    'a server that never answers': {
      server: mute,
      kubeconfig: kubeconfig(mute),
      flags: ['--request-timeout', '2s'],
      says: /did not answer within 2 s: check that it is up and not overloaded, or raise --request-timeout/,
    },
  };
});

test.after.always((t) => {
  for (const s of t.context.servers ?? []) s.close();
  for (const s of t.context.servers ?? []) if ('closeAllConnections' in s) s.closeAllConnections();
});

async function timed(args: string[]): Promise<CliResult & { ms: number }> {
  const t0 = Date.now();
  const r = await cli(args);
  return { ...r, ms: Date.now() - t0 };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test.serial('the table names every command kubectl slice has', async (t) => {
  const help = await cli(['--help']);
  t.is(help.code, 0, help.stderr);
  const listed = /Commands:\n((?: {2}\S+.*\n)+)/.exec(help.stdout)?.[1] ?? '';
  const names = listed
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]);
  t.true(names.length >= 13, help.stdout);
  t.deepEqual(names.sort(), Object.keys(COMMANDS).sort());
});

for (const [name, args] of Object.entries(COMMANDS)) {
  test.serial(
    `${name}: an unknown flag exits 2; an API server it cannot use exits 1 saying why`,
    async (t) => {
      t.timeout(600_000);
      const usage = await timed([...args, '--bogus', '--kubeconfig', '/nonexistent/kubeconfig']);
      t.is(usage.code, 2, usage.stderr);
      t.regex(usage.stderr, new RegExp(`^error: unknown flag --bogus for '${name}'`));
      // Start-up twice over, plus 5 s: a client that retried or waited on a dead server takes longer.
      const limitMs = 2 * usage.ms + 5_000;
      for (const [what, target] of Object.entries(t.context.targets)) {
        const r = await timed([...args, '--kubeconfig', target.kubeconfig, ...(target.flags ?? [])]);
        const at = `${name} against ${what}`;
        t.is(r.code, 1, `${at}: ${r.stderr}`);
        t.regex(r.stderr, /^error: /, at);
        t.regex(r.stderr, new RegExp(escape(target.server)), `${at}: names the server`);
        t.regex(r.stderr, new RegExp(`context '${CONTEXT}', cluster 'east'`), `${at}: names the context`);
        t.regex(r.stderr, target.says, at);
        t.notRegex(r.stderr, /^\s+at |node:internal|\.ts:\d+/m, `${at}: no stack trace`);
        t.true(r.ms <= limitMs, `${at}: ${r.ms} ms, start-up ${usage.ms} ms`);
      }
    },
  );
}

test.serial('--request-timeout takes kubectl durations and refuses anything else by name', async (t) => {
  const bad = await cli(['get', '--request-timeout', 'soon', '--kubeconfig', '/nonexistent/kubeconfig']);
  t.is(bad.code, 2, bad.stderr);
  t.regex(
    bad.stderr,
    /--request-timeout: 'soon' is not a duration: use e\.g\. 30s, 2m, 500ms, or 0 for no limit/,
  );
});
