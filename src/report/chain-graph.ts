/**
 * The attack chain as a graph a person reads top-down: who really acted first, then each identity the chain
 * reached (Kubernetes user, pod, service account, role session), then the AWS calls those credentials made.
 * The identity chain (`seam.chain`) runs the other way (acting credentials first) and names one identity in
 * several forms; here every identity is one node (an access key joins its session, a bare role the session of
 * it the chain names, an access entry's `{{SessionName}}` user the session user it matched), every hop is one
 * edge carrying the events that established it, and the layout is computed here so the HTML stays dumb.
 */
import type { ChainStep, SeamEvent } from '../core/envelope.ts';
import { shortIdentity } from '../identity/chain-text.ts';

export type NodePlane = 'iam' | 'k8s' | 'pod' | 'sa' | 'key' | 'calls' | 'other';

export interface GraphNode {
  id: string;
  plane: NodePlane;
  /** Small caps line above the name: "IAM SESSION", "KUBERNETES USER", "POD"… */
  tag: string;
  label: string;
  sub?: string;
  /** For AWS-calls nodes: one line per distinct call. */
  lines?: { text: string; count: number; denied: boolean }[];
  /** The identity that acted, really (the incident's origin). */
  origin?: boolean;
  x: number;
  y: number;
  w: number;
  h: number;
  rank: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Hop kinds (identity fact kinds, or `calls`), merged when several establish the same hop. */
  kinds: string[];
  /** `seam.id`s of the evidence events. */
  evidence: string[];
  /** One short line naming the first evidence event: time and action. */
  evidenceText?: string;
  label: string;
}

export interface ChainGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

const NODE_W = 300;
const COL_GAP = 190;
const ROW_GAP = 52;
const MARGIN = 16;

const KIND_TEXT: Record<string, string> = {
  authenticates_as: 'signed in to Kubernetes as',
  access_entry: 'EKS access entry',
  aws_auth_mapping: 'aws-auth mapping',
  exec: 'exec into pod',
  pod_service_account: 'pod runs as',
  web_identity_session: 'token swapped for role (IRSA)',
  pod_identity_session: 'token swapped for role (Pod Identity)',
  credential: 'access key',
  session_of: 'session of role',
  assumed_by: 'assumed role',
  calls: 'made AWS calls',
};

/** A session name an SDK or a pipeline generated (`botocore-session-1730815835`, a run id): the role says more than it. */
export function machineSession(name: string): boolean {
  return !name.includes('@') && /\d{6,}|^[0-9a-f-]{16,}$/i.test(name);
}

const arnRe = /^arn:aws[a-z-]*:(iam|sts)::(\d*):(.+)$/;

function classify(id: string): Pick<GraphNode, 'plane' | 'tag' | 'label'> & { sub?: string } {
  const arn = arnRe.exec(id);
  if (arn) {
    const rest = arn[3]!;
    const s = /^assumed-role\/([^/]+)\/(.+)$/.exec(rest);
    if (s && machineSession(s[2]!)) return { plane: 'iam', tag: 'IAM ROLE SESSION', label: `role ${s[1]!}`, sub: `session ${s[2]!} · ${arn[2]!}` };
    if (s) return { plane: 'iam', tag: 'IAM ROLE SESSION', label: s[2]!, sub: `role ${s[1]!} · ${arn[2]!}` };
    const r = /^(role|user)\/(.+)$/.exec(rest);
    if (r) return { plane: 'iam', tag: r[1] === 'role' ? 'IAM ROLE' : 'IAM USER', label: r[2]!, sub: `account ${arn[2]!}` };
    return { plane: 'iam', tag: 'IAM', label: rest };
  }
  const k8s = /^k8s:([^:]*):(user|group|sa|pod|node):(.+)$/.exec(id);
  if (k8s) {
    const [, cluster, kind, name] = k8s as unknown as [string, string, string, string];
    const where = cluster ? `cluster ${cluster}` : undefined;
    if (kind === 'user' && name.startsWith('arn:')) {
      // A Kubernetes user the EKS authenticator named after an IAM identity: say which person or session it is.
      const s = /:assumed-role\/([^/]+)\/(.+)$/.exec(name);
      if (s) {
        const label = s[2]!.startsWith('{{') ? `any session of ${s[1]!}` : machineSession(s[2]!) ? `role ${s[1]!}` : s[2]!;
        return { plane: 'k8s', tag: 'KUBERNETES USER', label, sub: `${label.startsWith('role ') ? `session ${s[2]!}` : `as IAM role ${s[1]!}`}${where ? ` · ${where}` : ''}` };
      }
      return { plane: 'k8s', tag: 'KUBERNETES USER', label: shortIdentity(name), ...(where ? { sub: where } : {}) };
    }
    const named = name;
    if (kind === 'pod') return { plane: 'pod', tag: 'POD', label: name, ...(where ? { sub: where } : {}) };
    if (kind === 'sa') return { plane: 'sa', tag: 'SERVICE ACCOUNT', label: name, ...(where ? { sub: where } : {}) };
    if (kind === 'node') return { plane: 'k8s', tag: 'NODE', label: name, ...(where ? { sub: where } : {}) };
    return { plane: 'k8s', tag: kind === 'group' ? 'KUBERNETES GROUP' : 'KUBERNETES USER', label: named, ...(where ? { sub: where } : {}) };
  }
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(id);
  if (sa) return { plane: 'sa', tag: 'SERVICE ACCOUNT', label: `${sa[1]!}/${sa[2]!}` };
  const key = /^(?:akid:)?((?:AKIA|ASIA)[A-Z0-9]{12,})$/.exec(id);
  if (key) return { plane: 'key', tag: 'ACCESS KEY', label: key[1]! };
  return { plane: 'other', tag: 'IDENTITY', label: id };
}

function hhmmss(iso: string | undefined): string {
  return iso === undefined ? '' : iso.slice(11, 19);
}

/** One short line for an evidence event: time, then what happened. */
export function evidenceLine(e: SeamEvent | undefined, id: string): string {
  if (e === undefined) return `event ${id.length > 18 ? id.slice(0, 18) + '…' : id}`;
  const what =
    e.seam.source === 'cloudtrail' ? shortAction(e.seam.action) : e.seam.source === 'k8s_audit' ? (e.seam.action ?? 'audit') : `${e.seam.source} ${e.seam.action ?? ''}`.trim();
  return `${hhmmss(e['@timestamp'])} ${what}`.trim();
}

/** `service:Name` for a CloudTrail action (`secretsmanager.amazonaws.com:GetSecretValue` → `secretsmanager:GetSecretValue`). */
export function shortAction(action: string | undefined): string {
  return (action ?? 'unknown').replace(/\.amazonaws\.com:/, ':');
}

export interface GraphInput {
  chain: readonly ChainStep[];
  /** The identity that acted, really (the incident key). */
  origin: string;
  events: ReadonlyMap<string, SeamEvent>;
  awsCalls: readonly SeamEvent[];
}

export function buildChainGraph(input: GraphInput): ChainGraph {
  const { chain, events } = input;
  // Canonical node per identity.
  const named = new Set<string>([input.origin]);
  for (const s of chain) for (const n of [s.from, s.to]) if (n !== '') named.add(n);
  const keyOwner = new Map<string, string>();
  for (const s of chain) if (s.kind === 'credential') keyOwner.set(s.from, s.to);
  const sessions = [...named].filter((n) => /^arn:aws[a-z-]*:sts::\d*:assumed-role\//.test(n));
  const canon = (id: string): string => {
    let cur = id;
    for (let i = 0; i < 4; i++) {
      const owner = keyOwner.get(cur) ?? keyOwner.get(`akid:${cur}`);
      if (owner !== undefined) {
        cur = owner;
        continue;
      }
      const role = /^arn:(aws[a-z-]*):iam::(\d*):role\/(?:.*\/)?([^/]+)$/.exec(cur);
      if (role) {
        const s = sessions.find((x) => x.startsWith(`arn:${role[1]!}:sts::${role[2]!}:assumed-role/${role[3]!}/`));
        if (s !== undefined) return s;
      }
      const tmpl = /^(k8s:[^:]*:user:arn:aws[a-z-]*:sts::\d*:assumed-role\/[^/]+\/)\{\{.*\}\}$/.exec(cur);
      if (tmpl) {
        const concrete = [...named].find((x) => x.startsWith(tmpl[1]!) && !x.includes('{{'));
        if (concrete !== undefined) return concrete;
      }
      break;
    }
    return cur;
  };

  const nodes = new Map<string, GraphNode>();
  const keysOf = new Map<string, string[]>();
  const node = (raw: string): string => {
    const id = canon(raw);
    if (!nodes.has(id)) nodes.set(id, { id, ...classify(id), x: 0, y: 0, w: NODE_W, h: 58, rank: -1 });
    if (raw !== id) {
      const k = /^(?:akid:)?((?:AKIA|ASIA)[A-Z0-9]{12,})$/.exec(raw);
      if (k) keysOf.set(id, [...new Set([...(keysOf.get(id) ?? []), k[1]!])]);
    }
    return id;
  };
  const origin = node(input.origin);
  nodes.get(origin)!.origin = true;

  // Edges in reading order: from the identity acted for to the one acting. The mapping facts (access entry,
  // aws-auth) already point IAM → Kubernetes; the others point from the acting identity back.
  const edges = new Map<string, GraphEdge>();
  for (const s of chain) {
    if (s.from === '' || s.to === '') continue;
    const forward = s.kind === 'access_entry' || s.kind === 'aws_auth_mapping';
    const a = node(forward ? s.from : s.to);
    const b = node(forward ? s.to : s.from);
    if (a === b) continue;
    const pair = [a, b].sort().join('\u0000');
    let e = edges.get(pair);
    if (!e) {
      e = { from: a, to: b, kinds: [], evidence: [], label: '' };
      edges.set(pair, e);
    }
    if (!e.kinds.includes(s.kind)) e.kinds.push(s.kind);
    if (s.via !== undefined && !e.evidence.includes(s.via)) e.evidence.push(s.via);
  }
  for (const [id, keys] of keysOf) {
    const n = nodes.get(id)!;
    n.sub = [n.sub, `key ${keys.join(', ')}`].filter(Boolean).join(' · ');
  }

  // AWS calls, one node per caller.
  const byCaller = new Map<string, SeamEvent[]>();
  for (const c of input.awsCalls) {
    const p = c.seam.principal;
    const raw = p?.arn ?? p?.access_key_id;
    if (raw === undefined) continue;
    const caller = canon(raw);
    if (!nodes.has(caller) && !(p?.access_key_id !== undefined && nodes.has(canon(p.access_key_id)))) continue;
    const k = nodes.has(caller) ? caller : canon(p!.access_key_id!);
    byCaller.set(k, [...(byCaller.get(k) ?? []), c]);
  }
  for (const [caller, calls] of byCaller) {
    calls.sort((x, y) => (x['@timestamp'] < y['@timestamp'] ? -1 : 1));
    const lines = new Map<string, { text: string; count: number; denied: boolean }>();
    for (const c of calls) {
      const text = shortAction(c.seam.action);
      const l = lines.get(text) ?? { text, count: 0, denied: false };
      l.count++;
      if (c.seam.outcome === 'failure') l.denied = true;
      lines.set(text, l);
    }
    const id = `calls:${caller}`;
    const shown = [...lines.values()].slice(0, 8);
    const more = lines.size - shown.length;
    if (more > 0) shown.push({ text: `…${more} more kinds of call`, count: 0, denied: false });
    const short = nodes.get(caller)!.label;
    nodes.set(id, { id, plane: 'calls', tag: 'AWS API CALLS', label: `${calls.length} call${calls.length === 1 ? '' : 's'} as ${short}`, lines: shown, x: 0, y: 0, w: NODE_W, h: 42 + 19 * shown.length, rank: -1 });
    edges.set(`${caller}\u0000${id}`, { from: caller, to: id, kinds: ['calls'], evidence: calls.map((c) => c.seam.id), label: '' });
  }

  for (const e of edges.values()) {
    const mapped = e.kinds.find((k) => k === 'access_entry' || k === 'aws_auth_mapping');
    e.label =
      e.kinds.includes('authenticates_as') && mapped !== undefined
        ? `signed in to Kubernetes via ${mapped === 'access_entry' ? 'access entry' : 'aws-auth'}`
        : e.kinds.map((k) => KIND_TEXT[k] ?? k.replace(/_/g, ' ')).join(' · ');
    const first = e.evidence[0];
    if (first !== undefined) e.evidenceText = e.kinds[0] === 'calls' ? `first ${evidenceLine(events.get(first) ?? input.awsCalls.find((c) => c.seam.id === first), first)}` : evidenceLine(events.get(first), first);
  }

  layout([...nodes.values()], [...edges.values()], origin, chain.length > 0 ? canon(chain[0]!.from) : origin);
  const all = [...nodes.values()];
  const width = Math.max(...all.map((n) => n.x + n.w)) + MARGIN + 200;
  const height = Math.max(...all.map((n) => n.y + n.h)) + MARGIN;
  return { nodes: all.sort((a, b) => a.rank - b.rank || a.x - b.x), edges: [...edges.values()], width, height };
}

/** Ranks by distance from the origin; the path to the acting identity is the left column, the rest beside it. */
function layout(nodes: GraphNode[], edges: GraphEdge[], origin: string, acting: string): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Map<string, string[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e.to]);
  const parent = new Map<string, string>();
  const queue = [origin];
  byId.get(origin)!.rank = 0;
  while (queue.length > 0) {
    const cur = queue.shift()!;
    for (const nx of out.get(cur) ?? []) {
      const n = byId.get(nx)!;
      if (n.rank >= 0) continue;
      n.rank = byId.get(cur)!.rank + 1;
      parent.set(nx, cur);
      queue.push(nx);
    }
  }
  // Identities the origin does not reach along the reading direction sit one row above what they point to.
  for (let pass = 0; pass < nodes.length; pass++) {
    for (const e of edges) {
      const a = byId.get(e.from)!;
      const b = byId.get(e.to)!;
      if (a.rank < 0 && b.rank >= 0) a.rank = Math.max(0, b.rank - 1);
      if (b.rank < 0 && a.rank >= 0) b.rank = a.rank + 1;
    }
  }
  for (const n of nodes) if (n.rank < 0) n.rank = 0;
  const main = new Set<string>();
  for (let cur: string | undefined = acting; cur !== undefined; cur = parent.get(cur)) main.add(cur);
  main.add(origin);
  const rows = new Map<number, GraphNode[]>();
  for (const n of nodes) rows.set(n.rank, [...(rows.get(n.rank) ?? []), n]);
  let y = MARGIN;
  for (const r of [...rows.keys()].sort((a, b) => a - b)) {
    const row = rows.get(r)!.sort((a, b) => Number(main.has(b.id)) - Number(main.has(a.id)) || (a.plane === 'calls' ? 1 : 0) - (b.plane === 'calls' ? 1 : 0));
    row.forEach((n, i) => {
      n.x = MARGIN + i * (NODE_W + COL_GAP);
      n.y = y;
    });
    y += Math.max(...row.map((n) => n.h)) + ROW_GAP;
  }
}
