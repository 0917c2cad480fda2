/**
 * The gateways' own ServiceAccount, without a cluster: the Deployment the worker renders runs
 * as slicenet-gateway (and a lab's, which is handed a kubeconfig, as no named account); the
 * worker install has that account and binds it, and only it, to exactly the rules the gateway
 * code needs. cli/test/gateway-account.e2e.test.ts checks the same on a real API server.
 */
import test from 'ava';
import { gatewayDeployment, GATEWAY_SERVICE_ACCOUNT } from '../../controller/worker/gateways.ts';
import { accountObjects, deployment, NS, slice } from './gateway-account.ts';

type Rule = { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] };

test('the gateway Deployment runs as slicenet-gateway; one handed a kubeconfig names no account', (t) => {
  t.is(GATEWAY_SERVICE_ACCOUNT, 'slicenet-gateway');
  t.is(deployment().spec!.template.spec!.serviceAccountName, GATEWAY_SERVICE_ACCOUNT);
  const lab = gatewayDeployment(slice, { image: 'i', command: ['gw'], kubeconfig: '/k' });
  t.is(lab.spec!.template.spec!.serviceAccountName, undefined);
});

test('the worker install has the account and binds only it, to the rules the gateway code uses', (t) => {
  const objs = accountObjects();
  t.true(objs.some((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === NS));
  const bindings = objs.filter((o) => o.kind.endsWith('Binding'));
  t.is(bindings.length, 3);
  for (const b of bindings)
    t.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: GATEWAY_SERVICE_ACCOUNT, namespace: NS }]);
  const rules = (kind: string, namespace?: string): string[] =>
    objs
      .filter((o) => o.kind === kind && o.metadata.namespace === namespace)
      .flatMap((o) => o.rules as Rule[])
      .map((r) => `${r.apiGroups.join()}/${r.resources.join()}: ${r.verbs.join()}`)
      .sort();
  t.deepEqual(rules('ClusterRole'), ['slicenet.dev/slices/status: patch', 'slicenet.dev/slices: list,watch']);
  t.deepEqual(rules('Role', NS), ['/secrets: get', 'coordination.k8s.io/leases: get,create,update']);
  t.deepEqual(rules('Role', 'default'), ['/events: create']);
});
