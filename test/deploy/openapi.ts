/**
 * A strict validator of Kubernetes objects against the Kubernetes OpenAPI (v2) schema — the `swagger.json` that the
 * Kubernetes source ships (api/openapi-spec, taken from the Go module k8s.io/kubernetes by test/deploy/tools.ts) —
 * and of custom resources against their CRD's `openAPIV3Schema`.
 *
 * Strict as `kubectl apply --validate=strict` is: a field the schema does not know is an error (the API server
 * would drop or refuse it), as are a wrong type, a missing required field, an integer out of int32/int64 range, a
 * malformed quantity, and duplicate keys in lists the schema declares as maps or sets (env names, container
 * ports...). The schema's Kubernetes-specific formats are understood: int-or-string, quantity, date-time, byte.
 */

export interface SchemaNode {
  $ref?: string;
  type?: string;
  format?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

export interface Swagger {
  definitions: Record<string, SchemaNode>;
}

/** What a CRD contributes: one schema per served version. */
export interface CrdSchema {
  group: string;
  kind: string;
  versions: Record<string, SchemaNode>;
}

export interface Violation {
  path: string;
  message: string;
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY_DEF = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export class OpenApiValidator {
  private readonly byGvk = new Map<string, string>();
  private readonly crds = new Map<string, CrdSchema>();

  constructor(private readonly swagger: Swagger) {
    for (const [name, def] of Object.entries(swagger.definitions)) {
      for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
        // A definition is listed under every GVK it serves; the first one that names it wins (the List kinds and
        // the meta types like DeleteOptions are listed under many groups).
        const key = gvkKey(gvk.group, gvk.version, gvk.kind);
        if (!this.byGvk.has(key)) this.byGvk.set(key, name);
      }
    }
  }

  /** Kinds the schema knows (for the report). */
  get kinds(): number {
    return this.byGvk.size;
  }

  addCrd(crd: CrdSchema): void {
    this.crds.set(`${crd.group}/${crd.kind}`, crd);
  }

  /** Adds the CRDs of a CustomResourceDefinition object (apiextensions.k8s.io/v1) as parsed from YAML. */
  addCrdObject(obj: unknown): void {
    const o = obj as { spec?: { group?: string; names?: { kind?: string }; versions?: { name: string; schema?: { openAPIV3Schema?: SchemaNode } }[] } };
    const group = o.spec?.group;
    const kind = o.spec?.names?.kind;
    if (!group || !kind) throw new Error('not a CustomResourceDefinition: spec.group and spec.names.kind are missing');
    const versions: Record<string, SchemaNode> = {};
    for (const v of o.spec?.versions ?? []) if (v.schema?.openAPIV3Schema) versions[v.name] = v.schema.openAPIV3Schema;
    this.addCrd({ group, kind, versions });
  }

  /** Every violation of one object (empty when it is valid). */
  validate(obj: unknown): Violation[] {
    const out: Violation[] = [];
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [{ path: '', message: `an object must be a mapping, got ${typeName(obj)}` }];
    const o = obj as Record<string, unknown>;
    if (typeof o.apiVersion !== 'string' || o.apiVersion === '') out.push({ path: 'apiVersion', message: 'required' });
    if (typeof o.kind !== 'string' || o.kind === '') out.push({ path: 'kind', message: 'required' });
    if (out.length > 0) return out;
    const apiVersion = o.apiVersion as string;
    const kind = o.kind as string;
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/', 2) as [string, string]) : ['', apiVersion];
    const meta = o.metadata as { name?: unknown; generateName?: unknown } | undefined;
    if (meta === undefined || meta === null || (typeof meta.name !== 'string' && typeof meta.generateName !== 'string')) {
      out.push({ path: 'metadata.name', message: 'required' });
    }
    const defName = this.byGvk.get(gvkKey(group, version, kind));
    if (defName !== undefined) {
      this.check(o, { $ref: `#/definitions/${defName}` }, '', out);
      return out;
    }
    const crd = this.crds.get(`${group}/${kind}`);
    if (crd !== undefined) {
      const schema = crd.versions[version];
      if (schema === undefined) {
        out.push({ path: 'apiVersion', message: `${kind} is not served as ${apiVersion} (served: ${Object.keys(crd.versions).join(', ')})` });
        return out;
      }
      // A CRD's schema does not describe metadata: it is the standard ObjectMeta.
      const { metadata, ...rest } = o;
      this.check(metadata, { $ref: `#/definitions/${OBJECT_META}` }, 'metadata', out);
      const props = { ...(schema.properties ?? {}) };
      delete props.metadata;
      this.check(rest, { ...schema, properties: { ...props, apiVersion: { type: 'string' }, kind: { type: 'string' } } }, '', out);
      return out;
    }
    out.push({ path: 'kind', message: `unknown kind ${kind} in ${apiVersion}: not in the Kubernetes schema nor in a known CRD` });
    return out;
  }

  private resolve(ref: string): { node: SchemaNode; name: string } {
    const name = ref.replace(/^#\/definitions\//, '');
    const node = this.swagger.definitions[name];
    if (node === undefined) throw new Error(`schema reference ${ref} does not resolve`);
    return { node, name };
  }

  private check(v: unknown, s: SchemaNode, path: string, out: Violation[]): void {
    if (s.$ref !== undefined) {
      const { node, name } = this.resolve(s.$ref);
      if (name === INT_OR_STRING) return this.intOrString(v, path, out);
      if (name === QUANTITY_DEF) return this.quantity(v, path, out);
      return this.check(v, node, path, out);
    }
    if (v === null) {
      // The API server treats null as "not set" for an optional field.
      return;
    }
    if (s.allOf) for (const sub of s.allOf) this.check(v, sub, path, out);
    if (s.anyOf || s.oneOf) {
      const branches = (s.anyOf ?? s.oneOf) as SchemaNode[];
      const ok = branches.some((b) => {
        const sub: Violation[] = [];
        this.check(v, b, path, sub);
        return sub.length === 0;
      });
      if (!ok && !s['x-kubernetes-int-or-string']) out.push({ path, message: `matches none of ${branches.length} allowed forms` });
    }
    if (s['x-kubernetes-int-or-string']) return this.intOrString(v, path, out);
    if (s.format === 'int-or-string') return this.intOrString(v, path, out);
    if (s.format === 'quantity') return this.quantity(v, path, out);
    if (s.enum && !s.enum.some((e) => e === v)) out.push({ path, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}` });
    switch (s.type) {
      case undefined:
        return;
      case 'object':
        return this.object(v, s, path, out);
      case 'array':
        return this.array(v, s, path, out);
      case 'string':
        if (typeof v !== 'string') return void out.push({ path, message: `must be a string, got ${typeName(v)} ${JSON.stringify(v)}` });
        if (s.format === 'date-time' && !DATE_TIME.test(v)) out.push({ path, message: `must be an RFC 3339 date-time, got ${JSON.stringify(v)}` });
        if (s.format === 'byte' && !BASE64.test(v.replace(/\s/g, ''))) out.push({ path, message: 'must be base64' });
        if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) out.push({ path, message: `must match ${s.pattern}, got ${JSON.stringify(v)}` });
        if (s.minLength !== undefined && v.length < s.minLength) out.push({ path, message: `must be at least ${s.minLength} characters` });
        if (s.maxLength !== undefined && v.length > s.maxLength) out.push({ path, message: `must be at most ${s.maxLength} characters` });
        return;
      case 'integer':
      case 'number':
        if (typeof v !== 'number' || (s.type === 'integer' && !Number.isInteger(v))) {
          return void out.push({ path, message: `must be ${s.type === 'integer' ? 'an integer' : 'a number'}, got ${typeName(v)} ${JSON.stringify(v)}` });
        }
        if (s.format === 'int32' && (v < INT32[0] || v > INT32[1])) out.push({ path, message: `${v} is out of int32 range` });
        if (s.minimum !== undefined && v < s.minimum) out.push({ path, message: `must be >= ${s.minimum}` });
        if (s.maximum !== undefined && v > s.maximum) out.push({ path, message: `must be <= ${s.maximum}` });
        return;
      case 'boolean':
        if (typeof v !== 'boolean') out.push({ path, message: `must be a boolean, got ${typeName(v)} ${JSON.stringify(v)}` });
        return;
      default:
        throw new Error(`schema type ${s.type} at ${path} is not understood by this validator`);
    }
  }

  private object(v: unknown, s: SchemaNode, path: string, out: Violation[]): void {
    if (typeName(v) !== 'object') return void out.push({ path, message: `must be an object, got ${typeName(v)} ${JSON.stringify(v)}` });
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined || o[r] === null) out.push({ path: join(path, r), message: 'required' });
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true || s['x-kubernetes-embedded-resource'] === true;
    for (const [k, val] of Object.entries(o)) {
      const p = join(path, k);
      const prop = s.properties?.[k];
      if (prop !== undefined) {
        this.check(val, prop, p, out);
      } else if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
        if (s.additionalProperties !== true) this.check(val, s.additionalProperties, p, out);
      } else if (s.properties !== undefined && !preserve) {
        out.push({ path: p, message: 'unknown field' });
      } else if (s.additionalProperties === false) {
        out.push({ path: p, message: 'unknown field' });
      }
      // An object schema with neither properties nor additionalProperties (FieldsV1, RawExtension) takes anything.
    }
  }

  private array(v: unknown, s: SchemaNode, path: string, out: Violation[]): void {
    if (!Array.isArray(v)) return void out.push({ path, message: `must be a list, got ${typeName(v)} ${JSON.stringify(v)}` });
    if (s.minItems !== undefined && v.length < s.minItems) out.push({ path, message: `must have at least ${s.minItems} items` });
    if (s.maxItems !== undefined && v.length > s.maxItems) out.push({ path, message: `must have at most ${s.maxItems} items` });
    v.forEach((item, i) => {
      if (s.items) this.check(item, s.items, `${path}[${i}]`, out);
    });
    const listType = s['x-kubernetes-list-type'];
    const mapKeys = s['x-kubernetes-list-map-keys'];
    if (listType === 'map' && mapKeys && mapKeys.length > 0) {
      const seen = new Map<string, number>();
      v.forEach((item, i) => {
        if (item === null || typeof item !== 'object') return;
        const key = JSON.stringify(mapKeys.map((k) => (item as Record<string, unknown>)[k] ?? null));
        const first = seen.get(key);
        if (first !== undefined) out.push({ path: `${path}[${i}]`, message: `duplicate entry (${mapKeys.join(', ')} = ${key}) of ${path}[${first}]` });
        else seen.set(key, i);
      });
    } else if (listType === 'set') {
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const key = JSON.stringify(item);
        if (seen.has(key)) out.push({ path: `${path}[${i}]`, message: `duplicate value ${key} in a set` });
        seen.add(key);
      });
    }
  }

  private intOrString(v: unknown, path: string, out: Violation[]): void {
    if (v === null) return;
    if (typeof v === 'number' && Number.isInteger(v) && v >= INT32[0] && v <= INT32[1]) return;
    if (typeof v === 'string') return;
    out.push({ path, message: `must be an int32 or a string, got ${typeName(v)} ${JSON.stringify(v)}` });
  }

  private quantity(v: unknown, path: string, out: Violation[]): void {
    if (v === null) return;
    if (typeof v === 'number' && Number.isFinite(v)) return;
    if (typeof v === 'string' && QUANTITY.test(v)) return;
    out.push({ path, message: `must be a quantity (e.g. 250m, 1Gi, 2), got ${JSON.stringify(v)}` });
  }
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
