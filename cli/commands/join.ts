/** `kubectl slice join <namespace> --slice <s>`: labels the namespace; new pods in it get the slice NIC. */
import { SLICE_LABEL } from '../../controller/api/names.ts';
import { dnsLabel, onePositional, str } from '../args.ts';
import type { Command } from '../command.ts';
import { ConflictError, UsageError } from '../errors.ts';
import { connect } from '../kube.ts';
import { Namespaces, sliceOf } from '../namespaces.ts';

export const join: Command = {
  name: 'join',
  summary: 'Join a namespace of the current cluster to a slice',
  help: `Usage: kubectl slice join <namespace> --slice <slice>

Labels the namespace ${SLICE_LABEL}=<slice> in the current context's cluster. Pods created
from then on get a second NIC, slice0, on the slice; running pods are unchanged.
`,
  flags: { slice: { type: 'string' } },
  async run(p, out) {
    const name = dnsLabel(onePositional('join', p, 'namespace'), 'namespace name');
    const slice = str(p.values, 'slice');
    if (!slice) throw new UsageError(`missing --slice: kubectl slice join ${name} --slice <slice>`);
    dnsLabel(slice, '--slice: slice name', 40);
    const nss = new Namespaces(connect(p.values));
    const ns = await nss.get(name);
    const current = sliceOf(ns);
    if (current === slice) return out(`namespace/${name} is already on slice ${slice}\n`);
    if (current)
      throw new ConflictError(
        `namespace ${name} is on slice ${current}: run 'kubectl slice leave ${name}' first (a namespace is on one slice)`,
      );
    await nss.setSlice(ns, slice);
    out(`namespace/${name} joined slice ${slice}\n`);
  },
};
