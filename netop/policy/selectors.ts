/**
 * Label selectors (metav1.LabelSelector) checked as the API server checks them and compiled
 * into predicates. Every error names the field it is about, relative to the selector.
 */
import type { LabelSelector } from './types.ts';

export type Labels = Readonly<Record<string, string>>;
export type Matcher = (labels: Labels) => boolean;

/** A bad field: `path` is relative to the object being checked, `message` says why and what to do. */
export class FieldError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: unknown, path: string): string {
  if (typeof key !== 'string' || key === '')
    throw new FieldError(path, 'a label key must be a non-empty string');
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    throw new FieldError(path, `label key "${key}" has an invalid prefix: it must be a DNS subdomain`);
  if (name.length > 63 || !NAME.test(name))
    throw new FieldError(
      path,
      `label key "${key}" is invalid: at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric`,
    );
  return key;
}

function checkValue(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new FieldError(path, 'a label value must be a string');
  if (value !== '' && (value.length > 63 || !NAME.test(value)))
    throw new FieldError(
      path,
      `label value "${value}" is invalid: at most 63 characters, alphanumeric, '-', '_' or '.', starting and ending alphanumeric`,
    );
  return value;
}

/** Checks a selector and returns its predicate; `{}` matches everything. */
export function compileSelector(sel: LabelSelector | undefined | null, path: string): Matcher {
  if (sel === undefined || sel === null) return () => true;
  if (typeof sel !== 'object' || Array.isArray(sel)) throw new FieldError(path, 'must be an object');
  const tests: Matcher[] = [];
  const ml: unknown = sel.matchLabels;
  if (ml !== undefined && ml !== null) {
    if (typeof ml !== 'object' || Array.isArray(ml))
      throw new FieldError(`${path}.matchLabels`, 'must be a map of label keys to values');
    for (const [k, v] of Object.entries(ml as Record<string, unknown>)) {
      const key = checkKey(k, `${path}.matchLabels`);
      const value = checkValue(v, `${path}.matchLabels.${k}`);
      tests.push((l) => l[key] === value);
    }
  }
  const me: unknown = sel.matchExpressions;
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) throw new FieldError(`${path}.matchExpressions`, 'must be a list');
    me.forEach((req: unknown, i) => tests.push(compileRequirement(req, `${path}.matchExpressions[${i}]`)));
  }
  return (l) => tests.every((t) => t(l));
}

function compileRequirement(req: unknown, path: string): Matcher {
  if (typeof req !== 'object' || req === null) throw new FieldError(path, 'must be an object');
  const r = req as { key?: unknown; operator?: unknown; values?: unknown };
  const key = checkKey(r.key, `${path}.key`);
  const values = r.values ?? [];
  if (!Array.isArray(values)) throw new FieldError(`${path}.values`, 'must be a list of strings');
  const set = new Set(values.map((v, i) => checkValue(v, `${path}.values[${i}]`)));
  switch (r.operator) {
    case 'In':
    case 'NotIn': {
      if (set.size === 0)
        throw new FieldError(`${path}.values`, `must not be empty when the operator is ${r.operator}`);
      const isIn: Matcher = (l) => key in l && set.has(l[key]!);
      return r.operator === 'In' ? isIn : (l) => !isIn(l);
    }
    case 'Exists':
    case 'DoesNotExist':
      if (set.size > 0)
        throw new FieldError(`${path}.values`, `must be empty when the operator is ${r.operator}`);
      return r.operator === 'Exists' ? (l) => key in l : (l) => !(key in l);
    default:
      throw new FieldError(
        `${path}.operator`,
        `"${String(r.operator)}" is not an operator: use In, NotIn, Exists or DoesNotExist`,
      );
  }
}
