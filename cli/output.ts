/**
 * Every way the CLI prints objects, in one place: kubectl-style tables (upper-case headers,
 * columns padded by three spaces), ages like 5m or 3d, and -o json|yaml of objects as the API
 * server stores them less managedFields (as kubectl shows them by default).
 */
import { dumpYaml, type KubernetesObject } from '@kubernetes/client-node';
import type { Output } from './args.ts';

export type Write = (text: string) => void;

export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return (
    all
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** kubectl's short age: 45s, 12m, 5h, 3d (2 units under a few hours and days, like 2m10s). */
export function age(timestamp: string | Date | undefined, now = new Date()): string {
  if (!timestamp) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - new Date(timestamp).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function clean<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  const metadata = { ...obj.metadata };
  delete metadata.managedFields;
  return { ...obj, metadata };
}

/** Prints objects as JSON or YAML: one object alone, several as a v1 List (as kubectl does). */
export function serialize(objs: KubernetesObject | KubernetesObject[], format: 'json' | 'yaml'): string {
  const body = Array.isArray(objs)
    ? { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objs.map(clean) }
    : clean(objs);
  return format === 'json' ? JSON.stringify(body, null, 2) + '\n' : dumpYaml(body);
}

export function isStructured(o: Output): o is 'json' | 'yaml' {
  return o === 'json' || o === 'yaml';
}

/** Key-value lines for describe, labels aligned like kubectl describe. */
export function fields(pairs: [string, string | number | undefined][], indent = ''): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(w)}${v ?? '<none>'}`).join('\n') + '\n';
}
