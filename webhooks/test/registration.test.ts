/** The webhook configurations as built from the config: URL vs Service, caBundle, selectors. */
import test from 'ava';
import { loadConfig } from '../config.ts';
import { mutatingConfig, validatingConfig } from '../registration.ts';

interface Hook {
  name: string;
  clientConfig: { url?: string; service?: object; caBundle?: string };
  failurePolicy: string;
  sideEffects: string;
  reinvocationPolicy?: string;
  timeoutSeconds: number;
  namespaceSelector?: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
  objectSelector?: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
}
const hook = (o: object): Hook => (o as { webhooks: Hook[] }).webhooks[0]!;

test('registration: url mode dials the URL host and port; caBundle is base64 PEM', (t) => {
  const cfg = loadConfig(['--client-config', 'url', '--url-host', '198.18.1.2', '--port', '9443'], {});
  const m = hook(mutatingConfig(cfg, 'PEM'));
  t.deepEqual(m.clientConfig, {
    url: 'https://198.18.1.2:9443/mutate-pods',
    caBundle: Buffer.from('PEM').toString('base64'),
  });
  t.is(hook(validatingConfig(cfg, 'PEM')).clientConfig.url, 'https://198.18.1.2:9443/validate-sliceconfigs');
  const v6 = loadConfig(['--client-config', 'url', '--url-host', 'fd00::1'], {});
  t.is(hook(mutatingConfig(v6, undefined)).clientConfig.url, 'https://[fd00::1]:9443/mutate-pods');
});

test('registration: service mode; no CA given leaves caBundle out', (t) => {
  const cfg = loadConfig(['--namespace', 'sn'], {});
  t.deepEqual(hook(mutatingConfig(cfg, undefined)).clientConfig, {
    service: { namespace: 'sn', name: 'slicenet-webhook', port: 443, path: '/mutate-pods' },
  });
});

test('registration: the pod webhook is scoped to joined namespaces and spares its own and excluded pods', (t) => {
  const m = hook(mutatingConfig(loadConfig([], {}), undefined));
  t.like(m, {
    name: 'pods.slicenet.dev',
    failurePolicy: 'Fail',
    sideEffects: 'None',
    reinvocationPolicy: 'IfNeeded',
    timeoutSeconds: 5,
  });
  t.deepEqual(m.namespaceSelector?.matchExpressions, [
    { key: 'slicenet.dev/slice', operator: 'Exists' },
    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['slicenet-system', 'kube-system'] },
  ]);
  t.deepEqual(m.objectSelector?.matchExpressions, [
    { key: 'slicenet.dev/exclude', operator: 'NotIn', values: ['true'] },
  ]);
});
