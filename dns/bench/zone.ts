/**
 * The benchmark's records, written three ways from one list: slicenet-dns's records file,
 * dnsmasq's hosts file and srv-host lines (the same A and SRV records), and dnsperf's query
 * file — every service name, every endpoint name, every named port's SRV, and one unknown name
 * in ten (NXDOMAIN from both).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportedService } from '../records.ts';

export interface BenchZone {
  recordsFile: string;
  hostsFile: string;
  dnsmasqConf: string;
  queriesFile: string;
  /** A few names with their types, to check that both servers answer alike. */
  samples: [string, 'A' | 'SRV'][];
}

const CLUSTERS = ['east', 'west'];

export function writeBenchZone(dir: string, services = 50, endpointsPerCluster = 2): BenchZone {
  const list: ImportedService[] = [];
  for (let s = 0; s < services; s++) {
    list.push({
      namespace: 'bench',
      name: `svc${s}`,
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      endpoints: CLUSTERS.flatMap((cluster, c) =>
        Array.from({ length: endpointsPerCluster }, (_, e) => ({
          ip: `10.90.${s}.${c * 100 + e + 1}`,
          cluster,
          hostname: `pod${e}`,
          ready: true,
        })),
      ),
    });
  }
  const hosts: string[] = [];
  const conf: string[] = [];
  const queries: string[] = [];
  for (const svc of list) {
    const base = `${svc.name}.${svc.namespace}.svc.slice.local`;
    queries.push(`${base} A`, `_http._tcp.${base} SRV`);
    for (const ep of svc.endpoints) {
      const host = `${ep.hostname}.${ep.cluster}.${base}`;
      hosts.push(`${ep.ip} ${base} ${host}`);
      conf.push(`srv-host=_http._tcp.${base},${host},8080,0,${Math.floor(100 / svc.endpoints.length)}`);
      queries.push(`${host} A`);
    }
    queries.push(`missing-${svc.name}.${svc.namespace}.svc.slice.local A`);
  }
  const z: BenchZone = {
    recordsFile: join(dir, 'records.json'),
    hostsFile: join(dir, 'hosts'),
    dnsmasqConf: join(dir, 'dnsmasq.conf'),
    queriesFile: join(dir, 'queries'),
    samples: [
      ['svc0.bench.svc.slice.local', 'A'],
      [`pod1.west.svc${services - 1}.bench.svc.slice.local`, 'A'],
      ['_http._tcp.svc7.bench.svc.slice.local', 'SRV'],
      ['missing.bench.svc.slice.local', 'A'],
    ],
  };
  writeFileSync(z.recordsFile, JSON.stringify({ services: list }));
  writeFileSync(z.hostsFile, hosts.join('\n') + '\n');
  writeFileSync(z.dnsmasqConf, conf.join('\n') + '\n');
  writeFileSync(z.queriesFile, queries.join('\n') + '\n');
  return z;
}
