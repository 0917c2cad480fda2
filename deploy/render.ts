/**
 * Renders a kustomization under deploy/ without the kustomize binary: the subset of kustomize
 * these manifests use, and nothing else. A kustomization.yaml that uses any other field is
 * refused with the field's name, so the output can never silently differ from what
 * `kubectl kustomize` makes of the same directory (cli/test/install.test.ts compares the two
 * whenever kubectl is on the PATH).
 *
 *   resources      files (YAML streams) and directories (their own kustomization.yaml), in order
 *   labels         `pairs` added to metadata.labels (includeSelectors: false only)
 *   images         containers' and initContainers' images by name: newName, newTag, digest
 *   replacements   one field copied to others: source {kind, name, fieldPath}, targets
 *                  [{select {kind, name}, fieldPaths}], paths like `a.b.[name=x].c`
 *
 * Each directory's transformers run on its own resources (its bases included), after the bases'
 * own, as kustomize does: labels, then images, then replacements.
 */
import { loadAll } from 'js-yaml';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SlicenetError } from '../lib/errors.ts';

/** A Kubernetes object as plain JSON. */
export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export interface Replacement {
  source: { kind: string; name: string; fieldPath: string };
  targets: { select: { kind: string; name: string }; fieldPaths: string[] }[];
}

export interface Kustomization {
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  images?: ImageRule[];
  replacements?: Replacement[];
}

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'labels', 'images', 'replacements']);

export class RenderError extends SlicenetError {
  constructor(message: string) {
    super('RENDER_INVALID', message);
  }
}

/**
 * Renders the kustomization in `dir`. `extra` adds labels and images after the directory's own,
 * before its replacements: so a replacement that copies an image copies the overlay's.
 */
export function renderKustomization(
  dir: string,
  extra: Pick<Kustomization, 'labels' | 'images'> = {},
): Obj[] {
  const own = readKustomization(dir);
  const k: Kustomization = {
    ...own,
    labels: [...(own.labels ?? []), ...(extra.labels ?? [])],
    images: [...(own.images ?? []), ...(extra.images ?? [])],
  };
  const objs = (k.resources ?? []).flatMap((r) => loadResource(dir, r));
  transform(objs, k, dir);
  return objs;
}

function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new RenderError(`${dir} has no kustomization.yaml`);
  const k = (loadAll(readFileSync(file, 'utf8'))[0] ?? {}) as Kustomization & Record<string, unknown>;
  for (const key of Object.keys(k))
    if (!KNOWN.has(key))
      throw new RenderError(
        `${file}: field '${key}' is not supported by the built-in renderer (${[...KNOWN].join(', ')}); use kubectl kustomize`,
      );
  return k;
}

function loadResource(dir: string, entry: string): Obj[] {
  const path = resolve(dir, entry);
  if (!existsSync(path))
    throw new RenderError(`${join(dir, 'kustomization.yaml')}: resource ${entry} not found`);
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return (loadAll(readFileSync(path, 'utf8')) as (Obj | null)[]).filter((o): o is Obj => {
    if (o === null) return false;
    if (!o.apiVersion || !o.kind || !o.metadata?.name)
      throw new RenderError(`${path}: every object needs apiVersion, kind and metadata.name`);
    return true;
  });
}

function transform(objs: Obj[], k: Kustomization, where: string): void {
  for (const l of k.labels ?? []) {
    if (l.includeSelectors) throw new RenderError(`${where}: labels.includeSelectors is not supported`);
    for (const o of objs) o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
  }
  for (const rule of k.images ?? []) for (const c of containersOf(objs)) c.image = retag(c.image, rule);
  for (const r of k.replacements ?? []) replace(objs, r, where);
}

type Container = { image: string };

function containersOf(objs: Obj[]): Container[] {
  return objs.flatMap((o) => {
    const pod = (o.spec as { template?: { spec?: Record<string, Container[] | undefined> } } | undefined)
      ?.template?.spec;
    return pod ? [...(pod.containers ?? []), ...(pod.initContainers ?? [])] : [];
  });
}

/** `repo[:tag][@digest]` → its name, as kustomize's images transformer matches it. */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function retag(image: string, rule: ImageRule): string {
  if (imageName(image) !== rule.name) return image;
  const rest = image.slice(rule.name.length);
  const name = rule.newName ?? rule.name;
  if (rule.digest) return `${name}@${rule.digest}`;
  if (rule.newTag) return `${name}:${rule.newTag}`;
  return name + rest;
}

function replace(objs: Obj[], r: Replacement, where: string): void {
  const find = (kind: string, name: string): Obj => {
    const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new RenderError(`${where}: replacement names ${kind} ${name}, which is not rendered`);
    return o;
  };
  const value = getPath(find(r.source.kind, r.source.name), r.source.fieldPath);
  if (value === undefined)
    throw new RenderError(`${where}: replacement source ${r.source.fieldPath} is unset`);
  for (const t of r.targets) {
    const target = find(t.select.kind, t.select.name);
    for (const p of t.fieldPaths) setPath(target, p, value, where);
  }
}

/** `a.b.[name=x].c` → ['a', 'b', {name: 'x'}, 'c']. */
function segments(path: string): (string | [string, string])[] {
  return path.split('.').map((s) => {
    const m = /^\[([^=\]]+)=([^\]]*)\]$/.exec(s);
    return m ? [m[1]!, m[2]!] : s;
  });
}

function step(node: unknown, seg: string | [string, string]): unknown {
  if (typeof seg === 'string') return (node as Record<string, unknown> | undefined)?.[seg];
  return Array.isArray(node)
    ? (node as Record<string, unknown>[]).find((e) => e[seg[0]] === seg[1])
    : undefined;
}

function getPath(obj: unknown, path: string): unknown {
  return segments(path).reduce(step, obj);
}

function setPath(obj: unknown, path: string, value: unknown, where: string): void {
  const segs = segments(path);
  const last = segs.pop();
  const parent = segs.reduce(step, obj);
  if (typeof last !== 'string' || typeof parent !== 'object' || parent === null)
    throw new RenderError(`${where}: replacement target ${path} does not exist`);
  (parent as Record<string, unknown>)[last] = value;
}
