/**
 * The slicenet-dns process: two cluster workers on one port, the records file followed within
 * 2 s (rewritten by rename, as a writer should), probes with metrics summed over workers, a
 * clean stop on SIGTERM, and exit code 2 for a bad setting. The process is stopped by its PID.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runRaw } from '../../lib/exec.ts';
import { waitFor } from '../../lib/wait.ts';
import type { ImportedService } from '../records.ts';
import { ensureDig } from './helpers/tools.ts';

test.before(() => ensureDig());

const main = join(import.meta.dirname, '..', 'main.ts');

const records = (ready: boolean): { services: ImportedService[] } => ({
  services: [
    {
      namespace: 'shop',
      name: 'web',
      ports: [{ name: 'http', port: 80 }],
      endpoints: [
        { ip: '10.90.0.1', cluster: 'east', ready: true },
        { ip: '10.90.1.1', cluster: 'west', ready },
      ],
    },
  ],
});

interface Started {
  child: ChildProcess;
  port: number;
  probePort: number;
  exited: Promise<number | null>;
}

async function start(args: string[], t: { teardown: (f: () => void) => void }): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /"msg":"started","port":(\d+),"probePort":(\d+)/.exec(log);
      if (m) resolve({ child, port: Number(m[1]), probePort: Number(m[2]), exited });
    });
    void exited.then((code) => reject(new Error(`slicenet-dns exited with ${code}: ${log}`)));
  });
}

const dig = async (port: number, name: string): Promise<string[]> =>
  (await run(['dig', '@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=2', name]))
    .trim()
    .split('\n')
    .filter(Boolean);

test('two workers serve one port and follow the records file within 2 s; probes; SIGTERM stops all', async (t) => {
  t.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'slicenet-dns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'records.json');
  writeFileSync(file, JSON.stringify(records(true)));
  const dns = await start(
    [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--probe-host',
      '127.0.0.1',
      '--probe-port',
      '0',
      '--workers',
      '2',
    ].concat(['--records-file', file]),
    t,
  );
  const name = 'web.shop.svc.slice.local';
  t.deepEqual(await dig(dns.port, name), ['10.90.0.1', '10.90.1.1']);
  const probe = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${dns.probePort}${path}`);
  t.is((await probe('/readyz')).status, 200);
  t.is((await probe('/healthz')).status, 200);

  // Rewritten by rename: every worker must serve the new zone within 2 s.
  writeFileSync(`${file}.tmp`, JSON.stringify(records(false)));
  const t0 = Date.now();
  renameSync(`${file}.tmp`, file);
  let agreeing = 0;
  let followed = 0;
  await waitFor(
    async () => {
      // When the query went out, not when dig, a process of its own, got round to reporting.
      const asked = Date.now() - t0;
      const a = await dig(dns.port, name);
      agreeing = a.length === 1 && a[0] === '10.90.0.1' ? agreeing + 1 : 0;
      if (agreeing === 1) followed = asked;
      return agreeing >= 6; // both workers, several times
    },
    10_000,
    'the unready endpoint out of the answer',
    50,
  );
  t.log(`answers followed the file within ${followed} ms`);
  t.true(followed < 2000, `followed in ${followed} ms`);

  // A broken file leaves the zone as it was.
  writeFileSync(file, '{"services": 7}');
  await waitFor(
    async () => {
      const m = /slicenet_dns_reload_errors_total (\d+)/.exec(await (await probe('/metrics')).text());
      return Number(m?.[1] ?? 0) >= 2;
    },
    10_000,
    'both workers to count the bad file',
  );
  t.deepEqual(await dig(dns.port, name), ['10.90.0.1']);
  const metrics = await (await probe('/metrics')).text();
  t.regex(metrics, /slicenet_dns_queries_total\{transport="udp",rcode="NOERROR"\} \d+/);
  t.regex(metrics, /slicenet_dns_zone_serial [2-9]/);

  dns.child.kill('SIGTERM');
  t.is(await dns.exited, 0);
});

test('a bad setting: exit code 2 and a message naming the flag and variable', async (t) => {
  const r = await runRaw([process.execPath, '--import', 'tsx', main, '--port', '70000']);
  t.is(r.exitCode, 2);
  t.regex(
    r.stderr,
    /--port \(SLICENET_DNS_PORT\) must be a port, a whole number from 0 to 65535, not "70000"/,
  );
});
