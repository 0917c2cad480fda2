/**
 * The MutatingWebhookConfiguration and ValidatingWebhookConfiguration `slicenet`, built from
 * the config (pure) and kept current by server-side apply, which creates them or patches the
 * fields this webhook owns (caBundle among them) and leaves others' fields alone.
 *
 * Why failurePolicy Fail for pods: a pod admitted without the webhook would start without its
 * slice NIC and stay so for life, a silent failure the application finds later. Failing
 * makes the creation error visible and retried (a ReplicaSet keeps retrying), and the blast
 * radius of an outage is kept small instead by the selectors: only namespaces that joined a
 * slice are sent to the webhook, never its own namespace or kube-system (so the webhook can
 * always be restarted), and never pods labelled slicenet.dev/exclude=true (the escape hatch).
 * A short timeout bounds how long an outage holds each creation.
 */
import { isIP } from 'node:net';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { EXCLUDE_LABEL, SLICE_LABEL } from '../controller/api/names.ts';
import { GROUP, VERSION, resources } from '../controller/api/types.ts';
import { Applier } from '../lib/kube/apply.ts';
import type { WebhookConfig } from './config.ts';

export const PATHS = { mutatePods: '/mutate-pods', validateSliceConfigs: '/validate-sliceconfigs' } as const;
const FIELD_MANAGER = 'slicenet-webhook';

function clientConfig(cfg: WebhookConfig, path: string, caBundle: string | undefined): object {
  const ca = caBundle === undefined ? {} : { caBundle: Buffer.from(caBundle).toString('base64') };
  if (cfg.clientConfig === 'url') {
    const host = isIP(cfg.urlHost) === 6 ? `[${cfg.urlHost}]` : cfg.urlHost;
    return { url: `https://${host}:${cfg.port}${path}`, ...ca };
  }
  const service = { namespace: cfg.namespace, name: cfg.serviceName, port: cfg.servicePort, path };
  return { service, ...ca };
}

const common = (cfg: WebhookConfig) => ({
  admissionReviewVersions: ['v1'],
  sideEffects: 'None',
  failurePolicy: 'Fail',
  matchPolicy: 'Equivalent',
  timeoutSeconds: cfg.timeoutSeconds,
});

export function mutatingConfig(cfg: WebhookConfig, caBundle: string | undefined): KubernetesObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: cfg.webhookConfigName, labels: { 'app.kubernetes.io/part-of': 'slicenet' } },
    webhooks: [
      {
        name: 'pods.slicenet.dev',
        clientConfig: clientConfig(cfg, PATHS.mutatePods, caBundle),
        ...common(cfg),
        // The patch is idempotent (it checks before adding), so a second call is harmless and
        // lets the pod pick up the slice even if a later webhook rewrote its annotations.
        reinvocationPolicy: 'IfNeeded',
        rules: [
          {
            operations: ['CREATE'],
            apiGroups: [''],
            apiVersions: ['v1'],
            resources: ['pods'],
            scope: 'Namespaced',
          },
        ],
        namespaceSelector: {
          matchExpressions: [
            { key: SLICE_LABEL, operator: 'Exists' },
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [cfg.namespace, 'kube-system'] },
          ],
        },
        objectSelector: { matchExpressions: [{ key: EXCLUDE_LABEL, operator: 'NotIn', values: ['true'] }] },
      },
    ],
  } as KubernetesObject;
}

/**
 * SliceConfig validation also fails closed: an outage only delays edits of slices, while
 * admitting unchecked ones could let two slices share a subnet.
 */
export function validatingConfig(cfg: WebhookConfig, caBundle: string | undefined): KubernetesObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: cfg.webhookConfigName, labels: { 'app.kubernetes.io/part-of': 'slicenet' } },
    webhooks: [
      {
        name: 'sliceconfigs.slicenet.dev',
        clientConfig: clientConfig(cfg, PATHS.validateSliceConfigs, caBundle),
        ...common(cfg),
        rules: [
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: [GROUP],
            apiVersions: [VERSION],
            resources: [resources.SliceConfig.plural],
            scope: 'Namespaced',
          },
        ],
      },
    ],
  } as KubernetesObject;
}

export class Registrar {
  private readonly applier: Applier;

  constructor(
    kc: KubeConfig,
    private readonly cfg: WebhookConfig,
  ) {
    this.applier = new Applier(kc, FIELD_MANAGER);
  }

  async apply(caBundle: string | undefined): Promise<void> {
    await this.applier.apply(mutatingConfig(this.cfg, caBundle));
    await this.applier.apply(validatingConfig(this.cfg, caBundle));
  }
}
