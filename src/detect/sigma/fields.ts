/**
 * Field access for matching. Each distinct field name a rule set uses gets a small integer id at
 * compile time; per event, a field is resolved once and its values (with string and lowercase
 * forms) are memoised, so 3,000 rules asking for `eventName` cost one lookup.
 */

/**
 * One value found at a field path: the raw value, its string form and lowercase form (when scalar).
 * The lowercase form is made on first use: the index rejects most values by their length and end
 * characters, and case-sensitive tests never ask, so most long mixed-case values (user agents,
 * ARNs) are never lowercased.
 */
export class Cand {
  private low: string | undefined;

  constructor(
    readonly v: unknown,
    readonly s: string | undefined,
  ) {}

  get l(): string | undefined {
    let x = this.low;
    if (x === undefined && this.s !== undefined) x = this.low = this.s.toLowerCase();
    return x;
  }
}

function cand(v: unknown): Cand {
  if (typeof v === 'string') return new Cand(v, v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return new Cand(v, String(v));
  return new Cand(v, undefined);
}

function pushLeaf(v: unknown, out: Cand[]): void {
  if (Array.isArray(v)) {
    for (const x of v) pushLeaf(x, out);
    return;
  }
  out.push(cand(v === undefined ? null : v));
  if (v !== null && typeof v === 'object') pushScalars(v, out, 0);
}

/**
 * A field whose value is an object (CloudTrail's `requestParameters`, an audit event's `requestObject`)
 * also offers every scalar inside it, so `requestParameters|contains: Suspended` matches as SigmaHQ's
 * rules intend and as OpenSearch's `flat_object` answers the same query when hunting. The object itself
 * stays a candidate (for `exists` and null tests); null leaves are not offered (an object is not null).
 */
function pushScalars(v: unknown, out: Cand[], depth: number): void {
  if (depth > 64) return;
  if (Array.isArray(v)) {
    for (const x of v) pushScalars(x, out, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v as Record<string, unknown>)) pushScalars(x, out, depth + 1);
  } else if (v !== null && v !== undefined) out.push(cand(v));
}

/**
 * `keys[i][j]` is `parts.slice(i, j).join('.')`: the candidate (possibly dotted) keys of a path,
 * joined once per field name instead of once per lookup.
 */
export type PathKeys = readonly (readonly string[])[];

/**
 * The same string, internalized: V8 looks a property up by an internalized key directly, but must
 * first find a runtime-built (split, joined) string in its string table, on every lookup.
 */
function internal(s: string): string {
  return Object.keys({ [s]: 0 })[0]!;
}

export function pathKeys(parts: readonly string[]): PathKeys {
  const keys: string[][] = [];
  for (let i = 0; i < parts.length; i++) {
    const row: string[] = [];
    for (let j = 0; j <= parts.length; j++) row.push(j > i ? internal(parts.slice(i, j).join('.')) : '');
    keys.push(row);
  }
  return keys;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Resolves `a.b.c` against nested objects, also accepting literal dotted keys at any level
 * (`{"a.b": {"c": 1}}`); arrays on the way fan out, so any element may match. What is found at the end of
 * the path goes to `out` as a field's values (`pushLeaf`) or, for an array block, as its members.
 */
function resolveInto(obj: unknown, keys: PathKeys, n: number, i: number, out: unknown[], members: boolean): void {
  if (Array.isArray(obj)) {
    for (const x of obj) resolveInto(x, keys, n, i, out, members);
    return;
  }
  if (obj === null || typeof obj !== 'object') return;
  const rec = obj as Record<string, unknown>;
  const row = keys[i]!;
  // Longest key first: a literal "a.b" key wins over nested a → b.
  for (let j = n; j > i; j--) {
    const key = row[j]!;
    if (!hasOwn.call(rec, key)) continue;
    const v = rec[key];
    if (j < n) resolveInto(v, keys, n, j, out, members);
    else if (members) pushMembers(v, out);
    else pushLeaf(v, out as Cand[]);
    return;
  }
}

/** Whether the path leads to a key of the record (any element of an array on the way), as `resolveInto` walks it. */
function presentIn(obj: unknown, keys: PathKeys, n: number, i: number): boolean {
  if (Array.isArray(obj)) {
    for (const x of obj) if (presentIn(x, keys, n, i)) return true;
    return false;
  }
  if (obj === null || typeof obj !== 'object') return false;
  const rec = obj as Record<string, unknown>;
  const row = keys[i]!;
  for (let j = n; j > i; j--) {
    const key = row[j]!;
    if (!hasOwn.call(rec, key)) continue;
    return j === n || presentIn(rec[key], keys, n, j);
  }
  return false;
}

/** An array block's members in a value found at its path: the elements of an array, nested arrays flattened, nulls left out; any other value is one member. */
function pushMembers(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) pushMembers(x, out);
  else if (v !== null && v !== undefined) out.push(v);
}

/**
 * The members of the array(s) at a path, for an array block (model.ts, MArray): each element of an array
 * found there (arrays on the way fan out; an array nested in it gives its own elements), an object or
 * scalar found there as one member; null elements and a missing or null value give none.
 */
export function resolveMembers(obj: unknown, keys: PathKeys, n: number, out: unknown[]): void {
  resolveInto(obj, keys, n, 0, out, true);
}

export function resolveField(event: unknown, name: string): Cand[] {
  const out: Cand[] = [];
  const parts = name.split('.');
  resolveInto(event, pathKeys(parts), parts.length, 0, out, false);
  return out;
}

/** Field names → ids, shared by all rules of a rule set. */
/** The member marker of an array block over scalars (`.`): the field that is the member itself. */
export const MEMBER = '.';

export class FieldTable {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  readonly parts: string[][] = [];
  readonly keys: PathKeys[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      // `.`, an array block's member marker (SEP 212): the member itself, no path (EvalCtx.get).
      const parts = name === MEMBER ? [] : name.split('.').map(internal);
      this.parts.push(parts);
      this.keys.push(pathKeys(parts));
    }
    return id;
  }
}

const EMPTY: Cand[] = [];

/** Per-event memo of resolved fields. One instance is reused across events (generation stamps). */
export class EvalCtx {
  event: Record<string, unknown> = {};
  /** Inside an array block: the member as it is (a scalar too), which the `.` marker reads. */
  member: unknown = undefined;
  /**
   * The context of the event itself: a block's `|fieldref` compares a member with the event's fields
   * (compile.ts compileArray sets it on the member's context; the event's context is its own root).
   */
  root: EvalCtx = this;
  private gen = 0;
  private stamps: Uint32Array;
  private vals: Cand[][];
  private kw: Cand[] | undefined;
  private kwText: string | undefined;

  constructor(private readonly table: FieldTable) {
    this.stamps = new Uint32Array(Math.max(16, table.names.length));
    this.vals = new Array<Cand[]>(this.stamps.length);
  }

  reset(event: Record<string, unknown>): this {
    this.event = event;
    this.kw = undefined;
    this.kwText = undefined;
    this.gen++;
    if (this.gen === 0xffffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
    if (this.stamps.length < this.table.names.length) {
      const n = this.table.names.length * 2;
      const s = new Uint32Array(n);
      s.set(this.stamps);
      this.stamps = s;
      this.vals.length = n;
    }
    return this;
  }

  get(id: number): Cand[] {
    if (this.stamps[id] === this.gen) return this.vals[id]!;
    const parts = this.table.parts[id]!;
    let out: Cand[];
    if (parts.length === 0) {
      // The member marker: the member's own value (its leaves when it is an object or an array).
      const m = this.member;
      if (m === undefined || m === null) out = EMPTY;
      else if (typeof m === 'object') {
        out = [];
        pushLeaf(m, out);
      } else out = [cand(m)];
    } else if (parts.length === 1) {
      // Fast path for top-level fields.
      const ev = this.event;
      const key = parts[0]!;
      if (!hasOwn.call(ev, key)) out = EMPTY;
      else {
        const v = ev[key];
        if (v !== null && typeof v === 'object') {
          out = [];
          pushLeaf(v, out);
        } else out = [cand(v === undefined ? null : v)];
      }
    } else {
      out = [];
      resolveInto(this.event, this.table.keys[id]!, parts.length, 0, out, false);
      if (out.length === 0) out = EMPTY;
    }
    this.stamps[id] = this.gen;
    this.vals[id] = out;
    return out;
  }

  /**
   * Whether the field is in the record at all, whatever its value: for `exists`, which the specification makes a
   * presence test, "be it empty or null". A field holding `[]` offers no values (`get` is empty) but is present.
   */
  present(id: number): boolean {
    if (this.get(id).length > 0) return true;
    const parts = this.table.parts[id]!;
    if (parts.length === 0) return false;
    return presentIn(this.event, this.table.keys[id]!, parts.length, 0);
  }

  /**
   * Every scalar in the raw record (not `seam.*` nor `@timestamp`), for keyword searches: a keyword
   * matches when any field value of the record contains it.
   */
  keywords(): Cand[] {
    if (this.kw !== undefined) return this.kw;
    const out: Cand[] = [];
    const walk = (v: unknown): void => {
      if (v === null || v === undefined) return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x);
      } else if (typeof v === 'object') {
        for (const x of Object.values(v as Record<string, unknown>)) walk(x);
      } else out.push(cand(v));
    };
    for (const [k, v] of Object.entries(this.event)) {
      if (k === 'seam' || k === '@timestamp') continue;
      walk(v);
    }
    this.kw = out;
    return out;
  }

  /** The lowercase keyword values joined by newlines: a cheap "could any value contain x" test. */
  keywordText(): string {
    if (this.kwText === undefined) {
      let t = '';
      for (const c of this.keywords()) if (c.l !== undefined) t += c.l + '\n';
      this.kwText = t;
    }
    return this.kwText;
  }
}
