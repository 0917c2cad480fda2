/**
 * Generates docs/api.md, the API reference, from the CRDs in crds/: per kind its group, scope,
 * names, printer columns and subresources, then every field of spec and status with its type,
 * description and validation (required, default, enum, bounds, pattern, format, list semantics,
 * CEL rules with their messages). The CRDs are the one source; this file only formats them.
 *
 *   npm run docs:api            rewrite docs/api.md
 *   npm run docs:api -- --check exit 1 if docs/api.md is not what the CRDs give (CI)
 */
import { loadAll } from 'js-yaml';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';

const repo = join(import.meta.dirname, '..');
export const API_DOC = join(repo, 'docs', 'api.md');

interface Schema {
  type?: string;
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: Schema };
      subresources?: { status?: object; scale?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
    }[];
  };
}

/** Pipes and newlines would break a table cell. */
const cell = (s: string): string =>
  s
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
const code = (s: string): string => '`' + s.replace(/`/g, "'") + '`';

function typeOf(s: Schema): string {
  if (s.type === 'array') return `[]${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && typeof s.additionalProperties === 'object')
    return `map[string]${typeOf(s.additionalProperties)}`;
  if (s['x-kubernetes-preserve-unknown-fields']) return 'any';
  return s.type ?? 'any';
}

function validation(s: Schema, required: boolean): string[] {
  const v: string[] = [];
  if (required) v.push('**required**');
  if (s.default !== undefined) v.push(`default ${code(JSON.stringify(s.default))}`);
  if (s.enum) v.push(`one of ${s.enum.map((e) => code(String(e))).join(', ')}`);
  if (s.minimum !== undefined && s.maximum !== undefined) v.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) v.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) v.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined) v.push(`length ≥ ${s.minLength}`);
  if (s.maxLength !== undefined) v.push(`length ≤ ${s.maxLength}`);
  if (s.minItems !== undefined) v.push(`items ≥ ${s.minItems}`);
  if (s.maxItems !== undefined) v.push(`items ≤ ${s.maxItems}`);
  if (s.format) v.push(`format ${s.format}`);
  if (s.pattern) v.push(`pattern ${code(s.pattern)}`);
  const list = s['x-kubernetes-list-type'];
  if (list === 'map') v.push(`list map by ${(s['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
  else if (list) v.push(`list ${list}`);
  for (const r of s['x-kubernetes-validations'] ?? [])
    v.push(`rule ${code(r.rule)}${r.message ? `: “${r.message}”` : ''}`);
  return v;
}

/** One row per field, depth first, paths like `spec.qos.guaranteedKbps` and `spec.peers[].block`. */
function rows(path: string, s: Schema, required: boolean, out: string[]): void {
  out.push(
    `| ${code(path)} | ${code(typeOf(s))} | ${cell(s.description ?? '')} | ${cell(validation(s, required).join('; '))} |`,
  );
  const element = s.type === 'array' ? s.items : undefined;
  const children = element?.properties ?? s.properties;
  const prefix = element ? `${path}[]` : path;
  if (element && !children) {
    const v = validation(element, false);
    if (v.length)
      out.push(
        `| ${code(`${prefix}`)} | ${code(typeOf(element))} | ${cell(element.description ?? 'each item')} | ${cell(v.join('; '))} |`,
      );
  }
  const req = new Set((element ?? s).required ?? []);
  for (const [name, child] of Object.entries(children ?? {}))
    rows(`${prefix}.${name}`, child, req.has(name), out);
}

function section(crd: Crd): string {
  const { group, scope, names, versions } = crd.spec;
  const lines: string[] = [];
  lines.push(`## ${names.kind}`, '');
  for (const v of versions) {
    const root = v.schema.openAPIV3Schema;
    const meta = [
      `\`${group}/${v.name}\``,
      scope === 'Namespaced' ? 'namespaced' : 'cluster-scoped',
      `plural \`${names.plural}\``,
      ...(names.shortNames?.length ? [`short names ${names.shortNames.map(code).join(', ')}`] : []),
      ...(names.categories?.length ? [`categories ${names.categories.map(code).join(', ')}`] : []),
      ...(v.subresources ? [`subresources: ${Object.keys(v.subresources).join(', ')}`] : []),
      ...(v.storage ? ['storage version'] : []),
    ];
    lines.push(meta.join(' · '), '');
    if (root.description) lines.push(root.description.trim(), '');
    for (const r of root['x-kubernetes-validations'] ?? [])
      lines.push(`- Object rule ${code(r.rule)}${r.message ? `: “${r.message}”` : ''}`);
    if (root['x-kubernetes-validations']?.length) lines.push('');
    const cols = v.additionalPrinterColumns ?? [];
    if (cols.length)
      lines.push(
        `Printer columns: ${cols.map((c) => `${c.name} (${code(c.jsonPath)}${c.priority ? ', wide' : ''})`).join(', ')}.`,
        '',
      );
    const req = new Set(root.required ?? []);
    for (const part of ['spec', 'status'] as const) {
      const s = root.properties?.[part];
      if (!s) continue;
      const out: string[] = ['| field | type | description | validation |', '| --- | --- | --- | --- |'];
      rows(part, s, req.has(part), out);
      lines.push(`### ${names.kind} ${part}`, '', ...out, '');
    }
  }
  return lines.join('\n');
}

/** The reference as Markdown, formatted as `npm run lint` (prettier) wants it. */
export async function generateApiDoc(): Promise<string> {
  const dir = join(repo, 'crds');
  const crds = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')) as Crd[]);
  const order = (c: Crd): string =>
    (c.spec.group === 'slicenet.dev' ? '0' : '1') + c.spec.group + c.spec.names.kind;
  crds.sort((a, b) => order(a).localeCompare(order(b)));
  const index = crds.map(
    (c) => `- [${c.spec.names.kind}](#${c.spec.names.kind.toLowerCase()}) (\`${c.spec.group}\`)`,
  );
  const text = [
    '# API reference',
    '',
    '<!-- Generated from crds/*.yaml by docs/gen-api.ts (npm run docs:api). Do not edit by hand. -->',
    '',
    'Every custom resource Slicenet installs, field by field, as the API server validates it. What',
    'the objects mean and who writes them: [SPEC §3](../../shared/SPEC.md) and',
    '[crds/README.md](../crds/README.md).',
    '',
    ...index,
    '',
    ...crds.map(section),
  ].join('\n');
  return format(text, { ...(await resolveConfig(API_DOC)), filepath: API_DOC });
}

if (process.argv[1] === import.meta.filename) {
  const text = await generateApiDoc();
  if (process.argv.includes('--check')) {
    const current = readFileSync(API_DOC, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/api.md is out of date with crds/: run npm run docs:api\n');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(API_DOC, text);
    process.stdout.write(`wrote ${API_DOC}\n`);
  }
}
