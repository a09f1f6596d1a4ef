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

function walk(s: JsonSchema, path: string, rows: string[][]): void {
  if (path) rows.push([`\`${path}\``, typeOf(s), s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``, cell(s.description ?? '')]);
  if (s.properties) for (const [k, v] of Object.entries(s.properties)) walk(v, path ? `${path}.${k}` : k, rows);
  if (s.type === 'array' && s.items?.properties) walk(s.items, `${path}[]`, rows);
  const ap = s.additionalProperties;
  if (ap && typeof ap === 'object') {
    if (ap.properties) walk(ap, `${path}.<name>`, rows);
    for (const alt of ap.anyOf ?? ap.oneOf ?? []) if (alt.properties) walk(alt, `${path}.<name>`, rows);
  }
  for (const alt of s.anyOf ?? s.oneOf ?? []) if (alt.properties) walk(alt, path, rows);
}

export function schemaTable(title: string, schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: string[][] = [];
  walk(json, '', rows);
  // An item of an array of objects repeats its own header row: drop rows with an empty path.
  const seen = new Set<string>();
  const body = rows
    .filter((r) => {
      const key = r.join('|');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((r) => `| ${r.join(' | ')} |`);
  return [`## ${title}`, '', cell(json.description ?? ''), '', '| field | type | default | description |', '| --- | --- | --- | --- |', ...body, ''].join('\n');
}
