/** `kubectl slice leave <namespace>`: removes the join label; running pods keep their NIC until deleted. */
import { dnsLabel, onePositional } from '../args.ts';
import type { Command } from '../command.ts';
import { connect } from '../kube.ts';
import { Namespaces, sliceOf } from '../namespaces.ts';

export const leave: Command = {
  name: 'leave',
  summary: 'Take a namespace of the current cluster off its slice',
  help: `Usage: kubectl slice leave <namespace>
`,
  flags: {},
  async run(p, out) {
    const name = dnsLabel(onePositional('leave', p, 'namespace'), 'namespace name');
    const nss = new Namespaces(connect(p.values));
    const ns = await nss.get(name);
    const current = sliceOf(ns);
    if (!current) return out(`namespace/${name} is not on a slice\n`);
    await nss.setSlice(ns, null);
    out(`namespace/${name} left slice ${current}\n`);
  },
};
