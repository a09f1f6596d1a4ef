/**
 * Which worker thread of `seam replay --workers N` gets a record (ADR 0018). Everything the detect stage
 * joins must meet in one worker: the identity graph joins an account's CloudTrail with the audit log,
 * runtime events and GuardDuty findings of its clusters, and sessions cross accounts when a principal of
 * one account calls into another. So records are grouped into tenants: the accounts and clusters that
 * some record ties together (a record naming an account and a cluster; a CloudTrail call whose caller's
 * account is not the recipient's; seam.yml's `identity.clusters[].account`), where an audit or runtime
 * record naming no cluster belongs to the graph's `unknown` cluster, as it does in one thread. A first
 * pass over the input finds them; whole tenants are then spread over the workers, largest first, each to
 * the least loaded. Records of no tenant (no account, no cluster: those that do not normalize, and the
 * rare CloudTrail or GuardDuty record naming no account) go to the worker of the largest tenant.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { arnAccount } from '../core/normalize/util.ts';
import { obj, str } from '../core/values.ts';
import { UNKNOWN_CLUSTER } from '../identity/keys.ts';
import { isoMs } from '../core/time.ts';

/** What places a record: the account and cluster normalization gives it, and for CloudTrail the caller's account. */
export interface RecordTenant {
  account?: string | undefined;
  cluster?: string | undefined;
  /** CloudTrail: the account of the identity that made the call, when it is not the recipient's. */
  caller?: string | undefined;
}

/** The tenant of a normalized event. */
export function tenantOfEvent(ev: SeamEvent): RecordTenant {
  const source = ev.seam.source;
  // The graph keeps Kubernetes facts of a record naming no cluster under its unknown cluster.
  const t: RecordTenant = { account: ev.seam.account, cluster: ev.seam.cluster ?? (source === 'k8s_audit' || source === 'runtime' ? UNKNOWN_CLUSTER : undefined) };
  if (source === 'cloudtrail') {
    const ui = obj(ev.userIdentity);
    const caller = str(ui?.accountId) ?? arnAccount(str(ui?.arn));
    if (caller !== undefined && caller !== t.account) t.caller = caller;
  }
  return t;
}


/**
 * What the first pass reads of a record (`seam.id`, tenant key, event time) as a 32-bit FNV-1a hash, which
 * the worker compares with its own normalization's (0: the record does not normalize). 4 bytes a record.
 */
export function viewHash(id: string, tenant: RecordTenant, t: number): number {
  const s = `${id}|${tenantKey(tenant)}|${t}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

/** `viewHash` of a normalized event. */
export function eventViewHash(ev: SeamEvent): number {
  return viewHash(ev.seam.id, tenantOfEvent(ev), isoMs(ev['@timestamp']));
}

/** The key a record's tenant is found by (`a:<account>`, else `c:<cluster>`), '' for none. */
export function tenantKey(t: RecordTenant): string {
  return t.account !== undefined ? 'a:' + t.account : t.cluster !== undefined ? 'c:' + t.cluster : '';
}

export interface TenantPlan {
  workers: number;
  /** Worker of each key id (`TenantPlanner.keyOf`; -1, no tenant: the largest tenant's). */
  workerOfKey(key: number): number;
  tenants: number;
  /** Records each worker gets. */
  load: number[];
  /** One line for the summary: tenants and records per worker. */
  describe(): string;
}

/**
 * First pass: every record's tenant key (`a:<account>`, else `c:<cluster>`, else none) and the links
 * between keys; then `plan` assigns whole tenants (connected keys) to workers.
 */
export class TenantPlanner {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly parent: number[] = [];
  private readonly count: number[] = [];
  private keyless = 0;

  /** The key id of a record's tenant (-1 for none), linking what the record ties together. */
  keyOf(t: RecordTenant): number {
    const a = t.account === undefined ? -1 : this.id('a:' + t.account);
    const c = t.cluster === undefined ? -1 : this.id('c:' + t.cluster);
    if (a >= 0 && c >= 0) this.union(a, c);
    if (a >= 0 && t.caller !== undefined) this.union(a, this.id('a:' + t.caller));
    const k = a >= 0 ? a : c;
    if (k < 0) this.keyless++;
    else this.count[k]!++;
    return k;
  }

  /** seam.yml's `identity.clusters[]`: a cluster whose account is configured belongs to that account. */
  link(account: string, cluster: string): void {
    this.union(this.id('a:' + account), this.id('c:' + cluster));
  }

  plan(workers: number): TenantPlan {
    // Tenants: the keys under each root, with their records.
    const members = new Map<number, number[]>();
    for (let k = 0; k < this.names.length; k++) {
      const r = this.find(k);
      const m = members.get(r);
      if (m === undefined) members.set(r, [k]);
      else m.push(k);
    }
    const tenants = [...members.values()].map((keys) => ({
      keys,
      records: keys.reduce((s, k) => s + this.count[k]!, 0),
      name: keys.map((k) => this.names[k]!).sort()[0]!,
    }));
    // Largest first (ties by name, so the plan does not depend on the order keys were met), each to the least loaded worker.
    tenants.sort((x, y) => y.records - x.records || (x.name < y.name ? -1 : 1));
    const load = new Array<number>(workers).fill(0);
    const workerOf = new Array<number>(this.names.length).fill(0);
    for (const t of tenants) {
      let w = 0;
      for (let i = 1; i < workers; i++) if (load[i]! < load[w]!) w = i;
      load[w]! += t.records;
      for (const k of t.keys) workerOf[k] = w;
    }
    const keylessWorker = tenants.length === 0 ? 0 : workerOf[tenants[0]!.keys[0]!]!;
    load[keylessWorker]! += this.keyless;
    return {
      workers,
      tenants: tenants.length,
      load,
      workerOfKey: (k) => (k < 0 ? keylessWorker : (workerOf[k] ?? keylessWorker)),
      describe: () => `tenants=${tenants.length} records per worker: ${load.map((n, i) => `w${i}=${n}`).join(' ')}`,
    };
  }

  private id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(name, i);
      this.names.push(name);
      this.parent.push(i);
      this.count.push(0);
    }
    return i;
  }

  private find(k: number): number {
    let r = k;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[k] !== r) {
      const n = this.parent[k]!;
      this.parent[k] = r;
      k = n;
    }
    return r;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}
