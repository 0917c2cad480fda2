/**
 * bench:policy's policy rig: a slice bridge named as the agent names it, in a namespace of its
 * own, with a client and a server "pod" on veths named as the agent names pod ports (snv…), and
 * the real netop ruleset (compile → render → one nft transaction) on that bridge.
 *
 *   client 10.2.200.1 ─ snv…0 ─┐
 *                              snbr<VNI> (netop's table: hook forward) ── iperf3 TCP, UDP echo
 *   server 10.2.200.2 ─ snv…1 ─┘
 *
 * "With policy" is 1000 rules over 1000 remote endpoints on each side: an ingress policy on the
 * server and an egress policy on the client, each 1000 label-selected rules (one port each)
 * plus the rule that lets the client's traffic through, so every packet of the measured flow
 * is looked up in sets of tens of thousands of elements.
 */
import { fileURLToPath } from 'node:url';
import { runRaw } from '../../lib/exec.ts';
import { bridgeName } from '../../worker-agent/dataplane/names.ts';
import { compile, type Ruleset, type SliceEndpoint } from '../policy/compile.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { tableName } from '../policy/render.ts';
import {
  multiNetworkPolicy,
  type MultiNetworkPolicy,
  type MultiNetworkPolicySpec,
  type PolicyPeer,
  type PolicyPort,
} from '../policy/types.ts';
import { makeNetns, runId, spawnIn, vethInto, type Netns, type Teardown } from '../test/helpers/netns.ts';

export const PROBE = fileURLToPath(new URL('../test/helpers/probe.py', import.meta.url));
const VNI = 78;
const SLICE = 'bench';
export const CLIENT = '10.2.200.1';
export const SERVER = '10.2.200.2';
export const IPERF_PORT = 5201;
/** The port whose verdict the update-latency measure flips. */
export const FLIP_PORT = 7007;
export const RULES = 1000;
export const REMOTE = 1000;

const remote: SliceEndpoint[] = Array.from({ length: REMOTE }, (_, i) => ({
  ip: `10.2.${i >> 8}.${i & 255}`,
  cluster: 'west',
  namespace: 'shop',
  pod: `r${i}`,
  labels: { app: `a${i % 50}` },
}));
const ENDPOINTS: SliceEndpoint[] = [
  { ip: CLIENT, cluster: 'east', namespace: 'shop', pod: 'client', labels: { app: 'client' } },
  { ip: SERVER, cluster: 'east', namespace: 'shop', pod: 'server', labels: { app: 'db' } },
  ...remote,
];

const mnp = (name: string, spec: MultiNetworkPolicySpec): MultiNetworkPolicy =>
  multiNetworkPolicy(SLICE, 'shop', name, spec);

/** RULES rules, rule i: pods labelled a<i % 50> (20 remote endpoints each), TCP port 1000 + i. */
const many = (): { peers: PolicyPeer[]; ports: PolicyPort[] }[] =>
  Array.from({ length: RULES }, (_, i) => ({
    peers: [{ podSelector: { matchLabels: { app: `a${i % 50}` } } }],
    ports: [{ protocol: 'TCP', port: 1000 + i }],
  }));

/** No policy at all (`policy` false), or 1000 + 1000 rules; `open`: the server admits UDP FLIP_PORT. */
export function benchRuleset(policy: boolean, open = true): Ruleset {
  const client = { podSelector: { matchLabels: { app: 'client' } } };
  const server = { podSelector: { matchLabels: { app: 'db' } } };
  const policies = policy
    ? [
        mnp('db-in', {
          podSelector: server.podSelector,
          ingress: [
            ...many().map((r) => ({ from: r.peers, ports: r.ports })),
            {
              from: [client],
              ports: [
                { protocol: 'TCP', port: IPERF_PORT },
                ...(open ? [{ protocol: 'UDP', port: FLIP_PORT }] : []),
              ],
            },
          ],
        }),
        mnp('client-out', {
          podSelector: client.podSelector,
          policyTypes: ['Egress'],
          egress: [
            ...many().map((r) => ({ to: r.peers, ports: r.ports })),
            {
              to: [server],
              ports: [
                { protocol: 'TCP', port: IPERF_PORT },
                { protocol: 'UDP', port: FLIP_PORT },
              ],
            },
          ],
        }),
      ]
    : [];
  return compile({
    slice: SLICE,
    cluster: 'east',
    subnet: '10.2.0.0/16',
    endpoints: ENDPOINTS,
    namespaceLabels: () => ({}),
    isolation: { enabled: false, allowed: () => true },
    policies,
  });
}

export interface PolicyRig {
  client: Netns;
  server: Netns;
  engine: PolicyEngine;
}

export async function policyRig(t: Teardown): Promise<PolicyRig> {
  const id = runId();
  const br = await makeNetns(t, `qx-${id}-br`);
  await br.ip([`link add name ${bridgeName(VNI)} type bridge`, `link set ${bridgeName(VNI)} up`]);
  const pods: Netns[] = [];
  for (const [i, ip] of [CLIENT, SERVER].entries()) {
    const ns = await makeNetns(t, `qx-${id}-p${i}`);
    await vethInto(br, `snv${id}${i}`, ns, 'slice0', `${ip}/16`);
    await br.ip([`link set snv${id}${i} master ${bridgeName(VNI)}`]);
    pods.push(ns);
  }
  const [client, server] = pods as [Netns, Netns];
  spawnIn(t, server, ['iperf3', '-s', '-p', String(IPERF_PORT)]);
  const echo = spawnIn(t, server, ['python3', PROBE, 'serve', '', String(FLIP_PORT)]);
  await new Promise<void>((resolve, reject) => {
    echo.stdout!.once('data', () => resolve());
    echo.once('exit', (code) => reject(new Error(`the UDP echo server exited with ${code}`)));
  });
  const engine = new PolicyEngine({ netnsPath: br.path });
  t.teardown(() => runRaw(['nft', 'delete', 'table', 'bridge', tableName(SLICE)], { netns: br.name }));
  return { client, server, engine };
}
