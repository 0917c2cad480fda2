/**
 * Writing objects the way a controller should.
 *
 * - `apply` is server-side apply under one field manager: send the complete set of fields this
 *   manager wants (never an object as read back: no managedFields, no status), and the API
 *   server creates or merges it, and removes fields this manager set before but no longer
 *   sends. `force` (on by default) takes over fields another manager set (a `kubectl edit`),
 *   because the controller is the authority on what it applies.
 * - `applyStatus` does the same on the status subresource, for kinds in a named API group
 *   (our CRDs). The resource's plural comes from discovery, cached per apiVersion.
 * - `addFinalizer` / `removeFinalizer` write metadata.finalizers with a JSON merge patch that
 *   carries the resourceVersion of the object given: if it changed meanwhile the API server
 *   answers 409 and the reconcile retries from a fresh read, so a concurrent writer's
 *   finalizer is never lost. (Apply would make the finalizer belong to the field manager, and
 *   the next apply that does not list it would delete it.)
 *
 * Objects of built-in kinds come back as client-node model instances (Dates for timestamps);
 * custom resources come back as plain JSON.
 */
import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { SlicenetError } from '../errors.ts';
import { isNotFound } from './client.ts';

export interface ApplyOptions {
  /** Take over fields owned by other managers (default true). */
  force?: boolean;
  /** Validate and return the result without persisting it. */
  dryRun?: boolean;
}

export class ApplyError extends SlicenetError {
  constructor(message: string) {
    super('APPLY_INVALID', message);
  }
}

const applyContentType = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** KubernetesObjectApi with its discovery (kind → plural, scope) made reachable. */
class ObjectApi extends KubernetesObjectApi {
  static create(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  async discover(apiVersion: string, kind: string): Promise<{ plural: string; namespaced: boolean }> {
    const r = await this.resource(apiVersion, kind);
    if (!r) throw new ApplyError(`the API server does not serve ${kind} in ${apiVersion}`);
    return { plural: r.name, namespaced: r.namespaced };
  }
}

export class Applier {
  private readonly objects: ObjectApi;
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    readonly fieldManager: string,
  ) {
    this.objects = ObjectApi.create(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** Server-side applies `obj` (apiVersion, kind, metadata.name and the fields owned). */
  apply<T extends KubernetesObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    return this.objects.patch(
      obj,
      undefined,
      opts.dryRun ? 'All' : undefined,
      this.fieldManager,
      opts.force ?? true,
      PatchStrategy.ServerSideApply,
    );
  }

  /** Server-side applies `obj.status` to the status subresource. */
  async applyStatus<T extends KubernetesObject & { status?: unknown }>(
    obj: T,
    opts: ApplyOptions = {},
  ): Promise<T> {
    const { apiVersion, kind } = obj;
    const name = obj.metadata?.name;
    if (!apiVersion?.includes('/') || !kind || !name) {
      throw new ApplyError('applyStatus needs apiVersion group/version, kind and metadata.name');
    }
    const [group, version] = apiVersion.split('/') as [string, string];
    const { plural, namespaced } = await this.objects.discover(apiVersion, kind);
    const body = {
      apiVersion,
      kind,
      metadata: { name, namespace: obj.metadata?.namespace },
      status: obj.status,
    };
    const common = {
      group,
      version,
      plural,
      name,
      body,
      fieldManager: this.fieldManager,
      force: opts.force ?? true,
      ...(opts.dryRun ? { dryRun: 'All' } : {}),
    };
    if (!namespaced) return (await this.custom.patchClusterCustomObjectStatus(common, applyContentType)) as T;
    const namespace = obj.metadata?.namespace;
    if (!namespace) throw new ApplyError(`applyStatus: ${kind} ${name} needs metadata.namespace`);
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { ...common, namespace },
      applyContentType,
    )) as T;
  }

  /** Adds `finalizer` unless present; returns the object as stored. Throws 409 if `obj` is stale. */
  async addFinalizer<T extends KubernetesObject>(obj: T, finalizer: string): Promise<T> {
    const current = obj.metadata?.finalizers ?? [];
    if (current.includes(finalizer)) return obj;
    return this.patchFinalizers(obj, [...current, finalizer]);
  }

  /**
   * Removes `finalizer` if present; returns the object as stored, or undefined if it is gone
   * (removing the last finalizer of a deleted object lets it go). Throws 409 if `obj` is stale.
   */
  async removeFinalizer<T extends KubernetesObject>(obj: T, finalizer: string): Promise<T | undefined> {
    const current = obj.metadata?.finalizers ?? [];
    if (!current.includes(finalizer)) return obj;
    try {
      return await this.patchFinalizers(
        obj,
        current.filter((f) => f !== finalizer),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private patchFinalizers<T extends KubernetesObject>(obj: T, finalizers: string[]): Promise<T> {
    const { name, namespace, resourceVersion } = obj.metadata ?? {};
    if (!name || !resourceVersion) {
      throw new ApplyError('changing finalizers needs the object as read: metadata.name and resourceVersion');
    }
    const patch = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: { name, namespace, resourceVersion, finalizers },
    } as T;
    return this.objects.patch(
      patch,
      undefined,
      undefined,
      this.fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    );
  }
}
