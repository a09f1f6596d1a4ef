/**
 * What OpenSearch knows about a field path, which decides the query a Sigma value compiles to:
 * `keyword` answers term/prefix/wildcard/regexp (case-insensitively); a path inside a `flat_object`
 * does too, but `exists` only works one level below the object; numbers, booleans, dates and
 * addresses answer only their own types' queries. Kinds come from the live mapping of the indices a
 * hunt searches, or, without a cluster, from Seam's index templates.
 */
import type { SourceType } from '../core/envelope.ts';
import { buildTemplates, FLAT_OBJECT_FIELD_NAMES } from '../sinks/opensearch/templates.ts';

export type FieldKind = 'keyword' | 'flat' | 'long' | 'float' | 'boolean' | 'date' | 'ip' | 'object' | 'unknown' | 'mixed';

export interface FieldInfo {
  kind: FieldKind;
  /** A field of type `ip` holding the same value (the `.ip` sub-field of an address keyword). */
  ipField?: string;
  /**
   * The mapping sets `ignore_malformed` (in at least one index): a value of the wrong type is kept in
   * `_source` but not indexed, and the document names the field in `_ignored`. Neither `exists` nor a
   * query on the field finds such a value; only a `term` on `_ignored` does.
   */
  lenient?: true;
  /**
   * A number field that coerces (the mapping does not say `coerce: false`, in at least one index): text such as
   * `"0403"` and fractions are indexed as the number they round down to, so a term on the field can find records
   * the engine would not match. Seam's templates set `coerce: false`; indices made by older templates coerce.
   */
  coerced?: true;
}

export type FieldResolver = (path: string) => FieldInfo;

/**
 * Flattened mapping: path → OpenSearch type (`object` for paths with properties), the paths with
 * `ignore_malformed`, and the number paths that coerce.
 */
export type FlatMapping = Map<string, string> & { lenient: Set<string>; coerced: Set<string> };

export function newFlatMapping(): FlatMapping {
  return Object.assign(new Map<string, string>(), { lenient: new Set<string>(), coerced: new Set<string>() });
}

const LONG = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT = new Set(['float', 'double', 'half_float', 'scaled_float']);

function kindOf(type: string): FieldKind {
  if (type === 'keyword' || type === 'constant_keyword' || type === 'wildcard') return 'keyword';
  if (type === 'flat_object') return 'flat';
  if (LONG.has(type)) return 'long';
  if (FLOAT.has(type)) return 'float';
  if (type === 'boolean') return 'boolean';
  if (type === 'date' || type === 'date_nanos') return 'date';
  if (type === 'ip') return 'ip';
  if (type === 'object' || type === 'nested') return 'object';
  return 'mixed';
}

/** Adds one index's `properties` (recursively, with multi-fields) to `out`; conflicts become `mixed`. */
export function addProperties(props: Record<string, unknown>, out: FlatMapping, prefix = ''): void {
  for (const [name, def] of Object.entries(props)) {
    const d = def as { type?: string; ignore_malformed?: boolean; coerce?: boolean | string; properties?: Record<string, unknown>; fields?: Record<string, { type?: string; ignore_malformed?: boolean }> };
    const path = prefix + name;
    if (d.ignore_malformed === true) out.lenient.add(path);
    const type = d.type ?? 'object';
    if ((LONG.has(type) || FLOAT.has(type)) && d.coerce !== false && d.coerce !== 'false') out.coerced.add(path);
    const prev = out.get(path);
    out.set(path, prev === undefined || prev === type ? type : 'mixed');
    if (d.properties) addProperties(d.properties, out, path + '.');
    for (const [sub, sd] of Object.entries(d.fields ?? {})) {
      const sp = `${path}.${sub}`;
      const st = sd.type ?? 'object';
      if (sd.ignore_malformed === true) out.lenient.add(sp);
      const sprev = out.get(sp);
      out.set(sp, sprev === undefined || sprev === st ? st : 'mixed');
    }
  }
}

/** A resolver over a flattened mapping; paths no index maps are `unknown` (no document has indexed values there). */
export function resolverFor(mapping: FlatMapping, opts: { guessFlat?: boolean } = {}): FieldResolver {
  return (path) => {
    const parts = path.split('.');
    for (let k = 1; k <= parts.length; k++) {
      const p = parts.slice(0, k).join('.');
      const t = mapping.get(p);
      if (t === 'flat_object') return { kind: 'flat' };
      if (t === undefined) {
        // The events template maps an open-ended object name as flat_object at any depth.
        if (opts.guessFlat && k < parts.length && (FLAT_OBJECT_FIELD_NAMES as readonly string[]).includes(parts[k - 1]!)) return { kind: 'flat' };
        continue;
      }
      if (k < parts.length) {
        if (t === 'object') continue;
        if (t === 'mixed') return { kind: 'mixed' };
        // A leaf with a sub-field (`sourceIPAddress.ip`) is addressed directly below.
        continue;
      }
      const info: FieldInfo = { kind: kindOf(t) };
      if (mapping.lenient.has(p)) info.lenient = true;
      if (mapping.coerced.has(p)) info.coerced = true;
      const ipSub = mapping.get(`${p}.ip`);
      if (info.kind === 'ip') info.ipField = p;
      else if (ipSub === 'ip') info.ipField = `${p}.ip`;
      return info;
    }
    return { kind: 'unknown' };
  };
}

/** Field kinds from Seam's own index templates for one source (used when no cluster is asked). */
export function templateResolver(source: SourceType): FieldResolver {
  return resolverFor(templateMapping(source), { guessFlat: true });
}

/** The fields Seam's index templates map for one source's events (the envelope's and the source's), flattened. */
export function templateMapping(source: SourceType): FlatMapping {
  const t = buildTemplates({ indexPrefix: 'seam', shards: 1, replicas: 0, refreshIntervalMs: 1000 });
  const mapping = newFlatMapping();
  for (const c of t.componentTemplates) {
    const props = (c.body.template as { mappings?: { properties?: Record<string, unknown> } }).mappings?.properties;
    if (props) addProperties(props, mapping);
  }
  const it = t.indexTemplates.find((x) => x.name === `seam-events-${source}`);
  const props = (it?.body.template as { mappings?: { properties?: Record<string, unknown> } } | undefined)?.mappings?.properties;
  if (props) addProperties(props, mapping);
  return mapping;
}

/** Flattens a `GET <indices>/_mapping` response over every index it lists. */
export function mappingFromResponse(body: unknown): FlatMapping {
  const out = newFlatMapping();
  for (const idx of Object.values((body ?? {}) as Record<string, { mappings?: { properties?: Record<string, unknown> } }>)) {
    const props = idx.mappings?.properties;
    if (props) addProperties(props, out);
  }
  return out;
}
