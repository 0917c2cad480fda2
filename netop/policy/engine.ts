/**
 * Puts rulesets in place, one nft transaction each, and reads the drop counters. Calls for one
 * slice are serialized; an unchanged ruleset is not applied again. After the first apply, a
 * change of the same shape goes in as element deletions and additions (render.ts
 * renderChanges), so its cost follows the change, not the number of rules. A refused
 * transaction throws and leaves the kernel's table as it was; the next apply then replaces the
 * whole table.
 */
import { CommandError, runRaw } from '../../lib/exec.ts';
import { nftApply, nftApplyIgnoringMissing } from '../../lib/net/nft.ts';
import type { NetnsOption } from '../../lib/net/ip.ts';
import { KeyedSerializer } from '../../lib/serial.ts';
import type { Ruleset } from './compile.ts';
import { COUNTERS, renderChanges, renderRuleset, TABLE_PREFIX, tableName, type Existing } from './render.ts';

export interface PolicyDrops {
  policy: number;
  isolation: number;
}

interface NftObject {
  table?: { family: string; name: string };
  chain?: { name: string };
  set?: { name: string };
  map?: { name: string };
  counter?: { name: string; table: string; family: string; packets: number };
}

export class PolicyEngine {
  /** What each slice's table holds, as applied last (with its fingerprint). */
  private readonly applied = new Map<string, { ruleset: Ruleset; fingerprint: string }>();
  private readonly serial = new KeyedSerializer();

  constructor(private readonly ns: NetnsOption = {}) {}

  /** Applies `r` unless it is what was applied last; resolves once the kernel has it. */
  apply(r: Ruleset): Promise<boolean> {
    return this.serial.run(r.slice, async () => {
      const fingerprint = renderRuleset(r, { chains: [], sets: [], maps: [] });
      const last = this.applied.get(r.slice);
      if (last?.fingerprint === fingerprint) return false;
      this.applied.delete(r.slice);
      const changes = last && renderChanges(last.ruleset, r);
      if (changes !== undefined) {
        if (changes) await nftApply(changes, this.ns);
      } else await nftApply(renderRuleset(r, await this.existing(r.slice)), this.ns);
      this.applied.set(r.slice, { ruleset: r, fingerprint });
      return true;
    });
  }

  /** Removes the slice's table; one already gone is success. */
  remove(slice: string): Promise<void> {
    return this.serial.run(slice, async () => {
      await nftApplyIgnoringMissing(`delete table bridge ${tableName(slice)}\n`, this.ns);
      this.applied.delete(slice);
    });
  }

  /** Slices that have a table in the kernel. */
  async slices(): Promise<string[]> {
    const out = await this.list(['tables', 'bridge']);
    return out.flatMap((o) =>
      o.table?.name.startsWith(TABLE_PREFIX) ? [o.table.name.slice(TABLE_PREFIX.length)] : [],
    );
  }

  /** Packets dropped per slice since its table was made. */
  async drops(): Promise<Map<string, PolicyDrops>> {
    const out = new Map<string, PolicyDrops>();
    for (const o of await this.list(['counters'])) {
      const c = o.counter;
      if (!c || c.family !== 'bridge' || !c.table.startsWith(TABLE_PREFIX)) continue;
      const slice = c.table.slice(TABLE_PREFIX.length);
      const d = out.get(slice) ?? { policy: 0, isolation: 0 };
      if (c.name === COUNTERS.policy) d.policy = c.packets;
      if (c.name === COUNTERS.isolation) d.isolation = c.packets;
      out.set(slice, d);
    }
    return out;
  }

  private async existing(slice: string): Promise<Existing> {
    const objs = await this.list(['table', 'bridge', tableName(slice)], true);
    return {
      chains: objs.flatMap((o) => (o.chain ? [o.chain.name] : [])),
      sets: objs.flatMap((o) => (o.set ? [o.set.name] : [])),
      maps: objs.flatMap((o) => (o.map ? [o.map.name] : [])),
    };
  }

  /** `nft -j list …` objects (`terse`: without set elements); none when the thing listed does not exist. */
  private async list(what: string[], terse = false): Promise<NftObject[]> {
    const argv = ['nft', '-j', ...(terse ? ['-t'] : []), 'list', ...what];
    const r = await runRaw(argv, { netnsPath: this.ns.netnsPath });
    if (r.exitCode !== 0) {
      if (/No such file or directory/.test(r.stderr)) return [];
      throw new CommandError(argv, r.exitCode, r.stderr);
    }
    return (JSON.parse(r.stdout) as { nftables: NftObject[] }).nftables;
  }
}
