/** `kubectl slice delete <slice>`: the controller's finalizer then removes its WorkerSlices everywhere. */
import { sliceArg } from '../args.ts';
import type { Command } from '../command.ts';
import { connect, hubNamespace } from '../kube.ts';
import { SliceConfigs } from '../sliceconfigs.ts';

export const del: Command = {
  name: 'delete',
  summary: 'Delete a slice',
  help: `Usage: kubectl slice delete <slice>

The slice's member clusters remove its objects as the hub controller tells them to.
`,
  flags: {},
  async run(p, out) {
    const name = sliceArg('delete', p);
    const hub = hubNamespace(p.values);
    const slices = new SliceConfigs(connect(p.values), hub);
    await slices.delete(name);
    out(`slice/${name} deleted from ${slices.namespace}\n`);
  },
};
