/**
 * Node IPAM state on disk, as the reference host-local plugin keeps it: one file per address
 * in use, created with O_EXCL, holding the attachment that owns it. Creating the file is the
 * allocation, so an address can never be handed out twice, even by two agents racing after a
 * restart; deleting it is the release, so a repeated release is harmless. The files outlive
 * the agent process, which is what makes a crash lose nothing.
 *
 *   <dir>/<slice>/<ip>     "containerId\nifname\n"
 *   <dir>/<slice>/last     the address handed out last (reuse as late as possible)
 */
import {
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  closeSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface Owner {
  containerId: string;
  ifname: string;
}

const IP_FILE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

export class AddressStore {
  constructor(private readonly dir: string) {}

  /** Takes `ip` for `owner`; false if someone holds it. */
  claim(slice: string, ip: string, owner: Owner): boolean {
    mkdirSync(join(this.dir, slice), { recursive: true });
    let fd: number;
    try {
      fd = openSync(join(this.dir, slice, ip), 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, `${owner.containerId}\n${owner.ifname}\n`);
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(this.dir, slice, 'last'), ip);
    return true;
  }

  /** Frees `ip` if `owner` holds it (or, without an owner, whoever does). */
  release(slice: string, ip: string, owner?: Owner): void {
    if (owner) {
      const held = this.owner(slice, ip);
      if (!held || held.containerId !== owner.containerId || held.ifname !== owner.ifname) return;
    }
    rmSync(join(this.dir, slice, ip), { force: true });
  }

  owner(slice: string, ip: string): Owner | undefined {
    try {
      const [containerId = '', ifname = ''] = readFileSync(join(this.dir, slice, ip), 'utf8').split('\n');
      return { containerId, ifname };
    } catch {
      return undefined;
    }
  }

  /** Every address in use in `slice`, with its owner. */
  addresses(slice: string): Map<string, Owner> {
    const out = new Map<string, Owner>();
    for (const name of this.list(join(this.dir, slice))) {
      if (!IP_FILE.test(name)) continue;
      const o = this.owner(slice, name);
      // A file whose owner was not written yet (a crash inside claim) still holds the address.
      out.set(name, o ?? { containerId: '', ifname: '' });
    }
    return out;
  }

  /** The addresses `owner` holds in `slice` (normally one). */
  addressesOf(slice: string, owner: Owner): string[] {
    return [...this.addresses(slice)]
      .filter(([, o]) => o.containerId === owner.containerId && o.ifname === owner.ifname)
      .map(([ip]) => ip);
  }

  slices(): string[] {
    return this.list(this.dir);
  }

  last(slice: string): string | undefined {
    try {
      return readFileSync(join(this.dir, slice, 'last'), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** Forgets a slice with no address in use. */
  dropSlice(slice: string): void {
    if (this.addresses(slice).size === 0) rmSync(join(this.dir, slice), { recursive: true, force: true });
  }

  private list(dir: string): string[] {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  }
}
