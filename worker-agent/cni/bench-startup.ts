/**
 * The plugin's wall time per call, as a runtime sees it (fork, exec, node start-up, the
 * call): VERSION, and ADD + DEL against a live agent socket with a trivial backend, so
 * what is measured is the plugin and the gRPC round trip, not the data plane.
 * `npm run bench:cni-plugin [-- runs]` prints JSON; figures are in README.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveAgent } from '../agent/server.ts';
import { timePlugin } from '../bench/plugin-time.ts';
import type { AgentBackend } from '../api.ts';
import { buildCniPlugin } from './build.ts';

const backend: AgentBackend = {
  add: (req) =>
    Promise.resolve({
      ifname: req.ifname,
      mac: '02:00:00:00:00:05',
      address: '10.90.64.5/16',
      routes: [{ dst: '10.90.0.0/16', gw: '' }],
      mtu: 1400,
      hostIfname: 'vs5',
      hostMac: '02:00:00:00:01:05',
    }),
  del: () => Promise.resolve(),
  check: () => Promise.resolve(),
  status: () => Promise.resolve(),
  gc: () => Promise.resolve(),
};

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    median: round(s[Math.floor(s.length / 2)]!),
    min: round(s[0]!),
    max: round(s[s.length - 1]!),
    runs: s.length,
  };
};

const runs = Number(process.argv[2] ?? 9);
const dir = await mkdtemp(join(tmpdir(), 'slicenet-bench-'));
const abort = new AbortController();
try {
  const bundle = await buildCniPlugin(join(dir, 'slicenet'));
  const socket = join(dir, 'agent.sock');
  const server = await serveAgent(socket, backend, abort.signal);
  const env = {
    CNI_CONTAINERID: 'bench01',
    CNI_NETNS: '/var/run/netns/bench',
    CNI_IFNAME: 'slice0',
    CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0',
    SLICENET_AGENT_SOCKET: socket,
  };
  const conf = JSON.stringify({
    cniVersion: '1.1.0',
    name: 'slicenet-payments',
    type: 'slicenet',
    slice: 'payments',
  });
  const measure = async (command: string, stdin: string) => {
    await timePlugin(bundle, { ...env, CNI_COMMAND: command }, stdin); // warm the page cache
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await timePlugin(bundle, { ...env, CNI_COMMAND: command }, stdin));
    return stats(ms);
  };
  // The floor: node starting an empty script the same way.
  const empty = join(dir, 'empty');
  await writeFile(empty, '#!/usr/bin/env node\n', { mode: 0o755 });
  const nodeBaseline = async () => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push(await timePlugin(empty, {}, ''));
    return stats(ms);
  };
  const result = {
    node: process.version,
    nodeEmptyMs: await nodeBaseline(),
    versionMs: await measure('VERSION', '{"cniVersion":"1.1.0"}'),
    addMs: await measure('ADD', conf),
    delMs: await measure('DEL', conf),
  };
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  abort.abort();
  await server.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
