/**
 * The agent's record of each pod attachment it made, one JSON file per attachment named by
 * the node veth (itself a hash of the CNI key), written whole with a rename. DEL, CHECK, GC
 * and the start-up sweep read these; the address files of ipam/store.ts stay the authority
 * on which address is whose.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Attachment {
  containerId: string;
  ifname: string;
  networkName: string;
  slice: string;
  vni: number;
  netns: string;
  podNamespace: string;
  podName: string;
  hostIfname: string;
  /** The pod's address, without prefix. */
  ip: string;
  /** The slice subnet's prefix length. */
  prefix: number;
  mac: string;
  mtu: number;
}

export class AttachmentStore {
  constructor(private readonly dir: string) {}

  save(a: Attachment): void {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, `${a.hostIfname}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(a));
    renameSync(`${path}.tmp`, path);
  }

  get(hostIfname: string): Attachment | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${hostIfname}.json`), 'utf8')) as Attachment;
    } catch {
      return undefined;
    }
  }

  delete(hostIfname: string): void {
    rmSync(join(this.dir, `${hostIfname}.json`), { force: true });
  }

  list(): Attachment[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => this.get(n.slice(0, -'.json'.length)))
      .filter((a): a is Attachment => a !== undefined);
  }
}
