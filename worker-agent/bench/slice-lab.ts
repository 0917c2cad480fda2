/**
 * The bench's lab: one cluster of two nodes that is its own hub, the real controller and
 * worker making the Slice, an agent per node, one namespace joined to the slice, and in the
 * same namespace a bridge + host-local NetworkAttachmentDefinition to compare against.
 * The same set-up as worker-agent/test/agent.e2e.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nadName, SLICE_LABEL, SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import { API_VERSION } from '../../controller/api/types.ts';
import { startLabController, startLabWorker } from '../../controller/lab.ts';
import { registerCluster } from '../../controller/registration.ts';
import { bridgeNad } from '../../lab/demo.ts';
import type { Lab } from '../../lab/lab.ts';
import { waitFor } from '../../lib/wait.ts';
import { startLabAgent, waitLabAgentReady } from '../lab.ts';

export const CLUSTER = 'c1';
export const SLICE = 'bench';
export const SLICE_SUBNET = '10.91.0.0/16';
export const NAMESPACE = 'cnibench';
/** The comparison NIC: its own bridge and subnet, host-local leases inside the lab's directory. */
export const BRIDGE_NAD = 'bench-bridge';
const BRIDGE_NAME = 'cbbr0';
const BRIDGE_SUBNET = '192.168.93.0/24';

const repo = join(import.meta.dirname, '..', '..');

/** Brings the slice up on `lab` (already up, one cluster); resolves when both agents are ready. */
export async function setUpSlice(lab: Lab): Promise<void> {
  await lab.kubectl(CLUSTER, ['create', 'namespace', SYSTEM_NAMESPACE]);
  await lab.kubectl(CLUSTER, ['apply', '-f', join(repo, 'crds')]);
  await lab.kubectl(CLUSTER, ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
  const { kubeconfig } = await registerCluster(lab.kubeConfig(CLUSTER), CLUSTER, {
    server: lab.lanServer(CLUSTER),
    caFile: join(lab.paths.cluster(CLUSTER), 'pki', 'ca.crt'),
  });
  const hubKubeconfig = join(lab.paths.cluster(CLUSTER), 'hub.kubeconfig');
  writeFileSync(hubKubeconfig, kubeconfig);
  startLabController(lab, { hubCluster: CLUSTER });
  startLabWorker(lab, { cluster: CLUSTER, hubKubeconfig });
  const nodes = lab.cluster(CLUSTER).nodes.map((n) => n.name);
  for (const n of nodes) startLabAgent(lab, n);
  const sliceConfig = {
    apiVersion: API_VERSION,
    kind: 'SliceConfig',
    metadata: { name: SLICE, namespace: SYSTEM_NAMESPACE },
    spec: { subnet: SLICE_SUBNET, maxClusters: 4, clusters: [CLUSTER] },
  };
  await lab.kubectl(CLUSTER, ['apply', '-f', '-'], JSON.stringify(sliceConfig));
  await lab.kubectl(CLUSTER, ['create', 'namespace', NAMESPACE]);
  await lab.kubectl(CLUSTER, ['label', 'namespace', NAMESPACE, `${SLICE_LABEL}=${SLICE}`]);
  await lab.kubectl(
    CLUSTER,
    ['apply', '-f', '-'],
    JSON.stringify(
      bridgeNad(lab, NAMESPACE, { name: BRIDGE_NAD, bridge: BRIDGE_NAME, subnet: BRIDGE_SUBNET }),
    ),
  );
  await waitFor(
    async () =>
      (await lab.kubectl(CLUSTER, ['get', 'net-attach-def', '-n', NAMESPACE, '-o', 'name'])).includes(
        nadName(SLICE),
      ),
    60_000,
    'the slice NAD',
  );
  for (const n of nodes) await waitLabAgentReady(lab, n);
}
