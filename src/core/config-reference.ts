import { z } from 'zod';

/**
 * Renders a zod schema as a Markdown table (field path, type, default, description), so the
 * configuration reference is generated from the schemas that validate the configuration and cannot
 * drift from them (STYLE: the config schema is the documentation).
 */
interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((e) => `\`${JSON.stringify(e)}\``).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' \\| ');
  if (s.type === 'array') return `${s.items ? typeOf(s.items) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' \\| ');
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) return `map of ${typeOf(s.additionalProperties)}`;
  return s.type ?? 'any';
}

const cell = (t: string): string => t.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * One row per field. `scope` names the union variant a row belongs to: rows are deduplicated within a variant only,
 * so two collector types with a field of the same name, type and text (cloudwatch-logs' and guardduty's
 * `maxAttempts`) each list it under their own type.
 */
function walk(s: JsonSchema, path: string, rows: { scope: string; cells: string[] }[], scope = '', variant = false): void {
  // A variant's own row says something only when the variant has a description (`kafka.sasl`'s have none).
  if (path && !(variant && !s.description)) rows.push({ scope, cells: [`\`${path}\``, typeOf(s), s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``, cell(s.description ?? '')] });
  if (s.properties) for (const [k, v] of Object.entries(s.properties)) walk(v, path ? `${path}.${k}` : k, rows, scope);
  if (s.type === 'array' && s.items?.properties) walk(s.items, `${path}[]`, rows, scope);
  const ap = s.additionalProperties;
  if (ap && typeof ap === 'object') {
    if (ap.properties) walk(ap, `${path}.<name>`, rows, scope);
    (ap.anyOf ?? ap.oneOf ?? []).forEach((alt, i) => {
      if (alt.properties) walk(alt, `${path}.<name>`, rows, `${scope}/${path}.<name>#${i}`, true);
    });
  }
  (s.anyOf ?? s.oneOf ?? []).forEach((alt, i) => {
    if (alt.properties) walk(alt, path, rows, `${scope}/${path}#${i}`, true);
  });
}

export function schemaTable(title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: { scope: string; cells: string[] }[] = [];
  walk(json, '', rows);
  // A row the same variant yields twice (an optional object's alternatives repeat its fields) is listed once.
  const seen = new Set<string>();
  const body = rows
    .filter((r) => {
      const key = `${r.scope}|${r.cells.join('|')}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((r) => `| ${r.cells.join(' | ')} |`);
  return [`## ${title}`, '', cell(json.description ?? ''), '', '| field | type | default | description |', '| --- | --- | --- | --- |', ...body, ''].join('\n');
}
