/**
 * Request checks the server makes before a backend sees a request, so that every backend
 * can trust the field rules in `api.ts`. Each failure names the proto field and what it must
 * be; the server answers it as INVALID_ARGUMENT.
 */
import { isContainerId, isIfname, type AttachRequest, type GcRequest } from '../api.ts';
import { AgentError } from '../errors.ts';

export type AttachMethod = 'Add' | 'Del' | 'Check';

const bad = (field: string, why: string): AgentError => new AgentError('INVALID_REQUEST', `${field}: ${why}`);

function containerId(field: string, v: string): void {
  if (!v) throw bad(field, 'required (the CNI_CONTAINERID of the attachment)');
  if (!isContainerId(v))
    throw bad(field, `"${v}" must start with a letter or digit, then letters, digits, _ . -`);
}

function ifname(field: string, v: string): void {
  if (!v) throw bad(field, 'required (the CNI_IFNAME of the attachment, e.g. slice0)');
  if (!isIfname(v))
    throw bad(field, `"${v}" is not a Linux interface name: 1-15 bytes, no / : or whitespace`);
}

export function validateAttach(method: AttachMethod, req: AttachRequest): void {
  containerId('container_id', req.containerId);
  ifname('ifname', req.ifname);
  if (!req.networkName) throw bad('network_name', 'required (the netconf "name")');
  if (method !== 'Del') {
    // Del may come after the runtime removed the netns, and must still free the address.
    if (!req.netns) throw bad('netns', `required on ${method} (the CNI_NETNS path)`);
    if (!req.slice) throw bad('slice', `required on ${method} (the netconf "slice")`);
    if (!req.podNamespace)
      throw bad('pod_namespace', `required on ${method} (K8S_POD_NAMESPACE in CNI_ARGS)`);
    if (!req.podName) throw bad('pod_name', `required on ${method} (K8S_POD_NAME in CNI_ARGS)`);
  }
  if (req.netns && !req.netns.startsWith('/')) throw bad('netns', `"${req.netns}" must be an absolute path`);
}

export function validateGc(req: GcRequest): void {
  if (!req.networkName) throw bad('network_name', 'required (the netconf "name")');
  req.valid.forEach((a, i) => {
    containerId(`valid[${i}].container_id`, a.containerId);
    ifname(`valid[${i}].ifname`, a.ifname);
  });
}
