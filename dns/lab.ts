/**
 * slicenet-dns in a lab cluster, and how the lab's pods reach it.
 *
 * What resolver a lab pod has: the lab kubelet runs a container's command with `ip netns exec
 * <pod-netns>` on the machine's root filesystem, so the pod reads the machine's
 * /etc/resolv.conf (`ip netns exec` would swap in /etc/netns/<netns>/resolv.conf, but the lab
 * writes none, and no kubelet `clusterDNS` exists). Its nameserver is an address of the
 * machine's network, which nothing in the lab reaches: a pod's queries go to its default
 * gateway, its node, and from there nowhere.
 *
 * So the least surprising fix is to serve that address where the pods' packets already go,
 * as NodeLocal DNSCache binds the cluster DNS address on every node: one slicenet-dns per
 * cluster, a host-network process on the cluster's first node (`<cluster>-n1`), listening on
 * the resolv.conf nameserver address, held as a /32 on the loopback of that node's namespace
 * (no dummy link: the lab's kernel may lack the module); every other node of the cluster routes the /32 to it over the LAN. Pods then
 * resolve `<svc>.<ns>.svc.slice.local` with their ordinary resolver (glibc, dig, curl) and
 * nothing of the lab kubelet changes. Names outside `slice.local` are refused, as before they
 * went unanswered. The address is bound exactly, not 0.0.0.0: a reply must come from the
 * address asked, or resolvers drop it.
 *
 * A machine whose resolv.conf names only loopback nameservers (systemd-resolved's 127.0.0.53)
 * has pods asking their own loopback, which no node can serve: the server then listens on
 * LAB_CLUSTER_DNS (10.96.0.10, the cluster DNS address kubeadm gives kube-dns) and pods must
 * name it (`dig @10.96.0.10`); `labDnsAddress` says which.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import type { Lab } from '../lab/lab.ts';
import type { ProcessRecord } from '../lab/process.ts';
import { run, runRaw } from '../lib/exec.ts';
import { waitFor } from '../lib/wait.ts';

const repo = join(import.meta.dirname, '..');

/** Not netop's 8086, which runs on every node. */
export const LAB_DNS_PROBE_PORT = 8087;
export const LAB_CLUSTER_DNS = '10.96.0.10';

export const dnsProcessId = (cluster: string): string => `dns-${cluster}`;

export interface LabDnsAddress {
  address: string;
  /** Whether lab pods' own resolver asks this address (false: they must name it). */
  podsResolve: boolean;
}

/** The first IPv4 nameserver of a resolv.conf that is not loopback. */
export function podNameserver(resolvConf: string): string | undefined {
  for (const line of resolvConf.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'nameserver' && value && isIPv4(value) && !value.startsWith('127.')) return value;
  }
  return undefined;
}

export function labDnsAddress(resolvConfPath = '/etc/resolv.conf'): LabDnsAddress {
  let text = '';
  try {
    text = readFileSync(resolvConfPath, 'utf8');
  } catch {
    // no resolv.conf: glibc asks 127.0.0.1, which is loopback too
  }
  const ns = podNameserver(text);
  return ns ? { address: ns, podsResolve: true } : { address: LAB_CLUSTER_DNS, podsResolve: false };
}

/** The node that runs the cluster's slicenet-dns. */
export const labDnsNode = (lab: Lab, cluster: string): string => lab.cluster(cluster).nodes[0]!.name;

/**
 * Puts the address on the DNS node, routes it from the others, and starts slicenet-dns there,
 * reading the cluster's ServiceImports with the lab's admin kubeconfig. Netns deletion at
 * `lab down` takes the address and routes; the process is a lab process.
 */
export async function startLabDns(
  lab: Lab,
  cluster: string,
  flags: Record<string, string> = {},
): Promise<{ address: LabDnsAddress; process: ProcessRecord }> {
  const address = labDnsAddress();
  const c = lab.cluster(cluster);
  const [home, ...others] = c.nodes;
  await run(['ip', 'addr', 'replace', `${address.address}/32`, 'dev', 'lo'], { netns: home!.netns });
  for (const n of others)
    await run(['ip', 'route', 'replace', `${address.address}/32`, 'via', home!.ip], { netns: n.netns });
  const all = {
    kubeconfig: lab.lanKubeconfig(cluster),
    host: address.address,
    port: '53',
    'probe-host': '0.0.0.0',
    'probe-port': String(LAB_DNS_PROBE_PORT),
    ...flags,
  };
  const argv = [process.execPath, '--import', 'tsx', join(repo, 'dns', 'main.ts')];
  for (const [flag, value] of Object.entries(all)) argv.push(`--${flag}`, value);
  const record = lab.processes.start({ id: dnsProcessId(cluster), netns: home!.netns, cwd: repo, argv });
  return { address, process: record };
}

/** Ready once both lists arrived and the sockets are bound. */
export async function waitLabDnsReady(lab: Lab, cluster: string, timeoutMs = 60_000): Promise<void> {
  const netns = lab.node(labDnsNode(lab, cluster)).node.netns;
  await waitFor(
    async () =>
      (await runRaw(['curl', '-sf', `http://127.0.0.1:${LAB_DNS_PROBE_PORT}/readyz`], { netns })).exitCode ===
      0,
    timeoutMs,
    `slicenet-dns in ${cluster}`,
  );
}
