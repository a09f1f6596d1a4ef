/**
 * The incident page: one self-contained HTML file (inline CSS and SVG, no scripts, fonts or network) that a SOC
 * lead can read at 3 a.m.: who really acted and how bad it is at the top, the attack chain as a graph, a
 * timeline across the planes, the alerts grouped by rule with their triage notes, and what was touched.
 * Levels keep one colour everywhere; every colour also comes with a word, so nothing depends on colour alone.
 */
import type { SeamEvent } from '../core/envelope.ts';
import { obj, str, strs } from '../core/values.ts';
import type { Alert, AlertLevel } from '../detect/alert.ts';
import { shortIdentity } from '../identity/chain-text.ts';
import { buildChainGraph, machineSession, shortAction, type ChainGraph, type GraphNode } from './chain-graph.ts';
import { incidentNames, isByIncident, LEVEL_ORDER, type IncidentPage } from './incident-model.ts';

const LEVEL_COLOUR: Record<AlertLevel, { bg: string; fg: string }> = {
  critical: { bg: '#b91c1c', fg: '#ffffff' },
  high: { bg: '#ea580c', fg: '#ffffff' },
  medium: { bg: '#facc15', fg: '#1f2937' },
  low: { bg: '#60a5fa', fg: '#0b1f3a' },
  informational: { bg: '#d1d5db', fg: '#1f2937' },
};
const CONTEXT = { bg: '#ffffff', fg: '#374151' };

const PLANE_COLOUR: Record<GraphNode['plane'], { stroke: string; fill: string }> = {
  iam: { stroke: '#92400e', fill: '#fffbeb' },
  k8s: { stroke: '#1d4ed8', fill: '#eff6ff' },
  pod: { stroke: '#6d28d9', fill: '#f5f3ff' },
  sa: { stroke: '#0f766e', fill: '#f0fdfa' },
  key: { stroke: '#475569', fill: '#f8fafc' },
  calls: { stroke: '#be123c', fill: '#fff1f2' },
  other: { stroke: '#475569', fill: '#f8fafc' },
};

const SOURCES: { source: SeamEvent['seam']['source']; name: string }[] = [
  { source: 'cloudtrail', name: 'AWS · CloudTrail' },
  { source: 'k8s_audit', name: 'Kubernetes · audit' },
  { source: 'runtime', name: 'Runtime · sensor' },
  { source: 'guardduty', name: 'GuardDuty' },
];

function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '…';
}

function badge(level: AlertLevel, text: string = level): string {
  return `<span class="lvl lvl-${level}">${esc(text)}</span>`;
}

function when(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

function worst(levels: Iterable<AlertLevel>): AlertLevel | undefined {
  let best: AlertLevel | undefined;
  for (const l of levels) if (best === undefined || LEVEL_ORDER.indexOf(l) < LEVEL_ORDER.indexOf(best)) best = l;
  return best;
}

/**
 * Who an event says acted, short. An AWS call made with a pod's credentials names the session and the pod whose
 * credentials they were, not the pod alone: the same keys used from another host are not the pod acting (SOC review
 * M2; the From column says where the call came from).
 */
function actor(e: SeamEvent): string {
  const p = e.seam.principal;
  if (p === undefined) return '';
  if (p.pod) return e.seam.source === 'cloudtrail' && (p.arn ?? p.id) ? `${shortIdentity(p.arn ?? p.id)} · creds of pod ${p.pod}` : `pod ${p.pod}`;
  return shortIdentity(p.arn ?? p.id);
}

/** Who an event was done for, really: its origin when the graph found one, else its acting principal (as incident-before labels identities). */
function actingFor(e: SeamEvent): string | undefined {
  const p = e.seam.origin ?? e.seam.principal;
  return p === undefined ? undefined : (p.arn ?? p.k8s_user ?? p.id);
}

function graphSvg(g: ChainGraph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const parts: string[] = [];
  parts.push(
    `<svg class="chain" xmlns="http://www.w3.org/2000/svg" width="${g.width}" height="${g.height}" viewBox="0 0 ${g.width} ${g.height}" role="img" aria-label="Attack chain graph">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker><marker id="arrow-calls" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#be123c"/></marker></defs>',
  );
  const labels: string[] = [];
  for (const e of g.edges) {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    const sx = a.x + a.w / 2;
    const sy = a.y + a.h;
    const tx = b.x + b.w / 2;
    const ty = b.y;
    let d: string;
    let lx: number;
    let ly: number;
    if (b.y > a.y && Math.abs(sx - tx) < 1) {
      d = `M${sx},${sy} L${tx},${ty - 2}`;
      lx = sx + 14;
      ly = (sy + ty) / 2 - 6;
    } else if (b.y > a.y) {
      // To a node beside the main column: leave from the side, so the curve stays clear of the column's labels.
      const x1 = a.x + a.w;
      const y1 = a.y + a.h / 2;
      d = `M${x1},${y1} C${tx},${y1} ${tx},${y1} ${tx},${ty - 2}`;
      lx = tx + 14;
      ly = ty - 30;
    } else {
      // Same row or upwards: from the right side of one to the left side of the other.
      const x1 = a.x + a.w;
      const y1 = a.y + a.h / 2;
      const x2 = b.x;
      const y2 = b.y + b.h / 2;
      d = `M${x1},${y1} C${x1 + 60},${y1} ${x2 - 60},${y2} ${x2 - 2},${y2}`;
      lx = (x1 + x2) / 2 - 60;
      ly = Math.min(y1, y2) - 22;
    }
    const cls = e.kinds.includes('calls') ? 'edge edge-calls' : 'edge';
    parts.push(`<path class="${cls}" d="${d}" marker-end="url(#${e.kinds.includes('calls') ? 'arrow-calls' : 'arrow'})" data-from="${esc(e.from)}" data-to="${esc(e.to)}" data-evidence="${esc(e.evidence.join(' '))}"><title>${esc(e.label)}: ${esc(e.evidence.join(', '))}</title></path>`);
    labels.push(
      `<g class="edge-label"><text x="${lx}" y="${ly}" class="el-kind">${esc(clip(e.label, 44))}</text>` +
        (e.evidenceText ? `<text x="${lx}" y="${ly + 16}" class="el-ev">${esc(clip(e.evidenceText, 40))}${e.evidence.length > 1 ? esc(` (+${e.evidence.length - 1})`) : ''}</text>` : '') +
        '</g>',
    );
  }
  for (const n of g.nodes) {
    const c = PLANE_COLOUR[n.plane];
    const cls = `node node-${n.plane}${n.origin ? ' node-origin' : ''}`;
    const body: string[] = [
      `<rect x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="8" fill="${c.fill}" stroke="${n.origin ? '#111827' : c.stroke}" stroke-width="${n.origin ? 3 : 1.5}"/>`,
      `<rect x="${n.x}" y="${n.y}" width="7" height="${n.h}" rx="3" fill="${c.stroke}"/>`,
      `<text x="${n.x + 16}" y="${n.y + 17}" class="n-tag" fill="${c.stroke}">${esc(n.tag)}${n.origin ? ' · WHO ACTED' : ''}</text>`,
    ];
    if (n.lines) {
      body.push(`<text x="${n.x + 16}" y="${n.y + 35}" class="n-label n-label-sm">${esc(clip(n.label, 34))}</text>`);
      n.lines.forEach((l, i) => {
        const y = n.y + 55 + i * 19;
        body.push(
          `<text x="${n.x + 16}" y="${y}" class="n-line${l.denied ? ' n-denied' : ''}">${esc(clip(l.text, 34))}${l.count > 1 ? ` ×${l.count}` : ''}${l.denied ? ' · denied' : ''}</text>`,
        );
      });
    } else {
      body.push(`<text x="${n.x + 16}" y="${n.y + 37}" class="n-label">${esc(clip(n.label, 31))}</text>`);
      if (n.sub) body.push(`<text x="${n.x + 16}" y="${n.y + 54}" class="n-sub">${esc(clip(n.sub, 44))}</text>`);
    }
    parts.push(`<g class="${cls}" data-id="${esc(n.id)}"><title>${esc(n.id)}</title>${body.join('')}</g>`);
  }
  parts.push(...labels, '</svg>');
  return parts.join('\n');
}

interface TimelineEntry {
  event: SeamEvent;
  level: AlertLevel | undefined;
  count: number;
  alerts: string[];
}

function timelineEntries(page: IncidentPage): TimelineEntry[] {
  const levelOf = new Map<string, AlertLevel[]>();
  const rulesOf = new Map<string, string[]>();
  for (const a of page.incident.alerts) {
    for (const id of a.events) {
      levelOf.set(id, [...(levelOf.get(id) ?? []), a.rule.level]);
      if (!(rulesOf.get(id) ?? []).includes(a.rule.title)) rulesOf.set(id, [...(rulesOf.get(id) ?? []), a.rule.title]);
    }
  }
  // Worst first, so the line names what matters before it is cut.
  const levelOfTitle = new Map<string, number>();
  for (const a of page.incident.alerts) levelOfTitle.set(a.rule.title, Math.min(levelOfTitle.get(a.rule.title) ?? 9, LEVEL_ORDER.indexOf(a.rule.level)));
  for (const titles of rulesOf.values()) titles.sort((x, y) => levelOfTitle.get(x)! - levelOfTitle.get(y)!);
  const seen = new Map<string, SeamEvent>();
  for (const e of page.events.values()) seen.set(e.seam.id, e);
  for (const e of page.awsCalls) seen.set(e.seam.id, e);
  const sorted = [...seen.values()].sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : a['@timestamp'] > b['@timestamp'] ? 1 : 0));
  const out: TimelineEntry[] = [];
  for (const e of sorted) {
    const level = worst(levelOf.get(e.seam.id) ?? []);
    const alerts = rulesOf.get(e.seam.id) ?? [];
    const prev = out[out.length - 1];
    // Repeats of one call by one identity on one resource, back to back and raising nothing new, fold into one line.
    if (prev && prev.event.seam.source === e.seam.source && prev.event.seam.action === e.seam.action && prev.event.seam.resource === e.seam.resource && actor(prev.event) === actor(e) && prev.event.seam.source_ip === e.seam.source_ip && prev.level === level && prev.alerts.join() === alerts.join()) {
      prev.count++;
      continue;
    }
    out.push({ event: e, level, count: 1, alerts });
  }
  return out;
}

function timelineSvg(entries: TimelineEntry[], startIso: string, endIso: string): string {
  const W = 1340;
  const left = 150;
  const right = 20;
  const laneH = 34;
  const top = 26;
  const lanes = SOURCES.filter((s) => entries.some((e) => e.event.seam.source === s.source));
  const H = top + lanes.length * laneH + 8;
  const t0 = Math.min(Date.parse(startIso), ...entries.map((e) => Date.parse(e.event['@timestamp'])));
  const t1 = Math.max(Date.parse(endIso), ...entries.map((e) => Date.parse(e.event['@timestamp'])));
  const span = Math.max(t1 - t0, 60_000);
  const pad = span * 0.03;
  const x = (t: number): number => left + ((t - t0 + pad) / (span + 2 * pad)) * (W - left - right);
  const parts = [`<svg class="tl" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Timeline across planes">`];
  const stepMin = [1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440].find((m) => span / (m * 60_000) <= 10) ?? 1440;
  const step = stepMin * 60_000;
  for (let t = Math.ceil((t0 - pad) / step) * step; t <= t1 + pad; t += step) {
    const xx = x(t);
    parts.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${H - 6}" class="tick"/><text x="${xx}" y="${top - 10}" class="tick-t" text-anchor="middle">${new Date(t).toISOString().slice(11, 16)}</text>`);
  }
  lanes.forEach((l, i) => {
    const y = top + i * laneH;
    parts.push(`<rect x="0" y="${y}" width="${W}" height="${laneH}" class="${i % 2 ? 'lane lane-odd' : 'lane'}"/><text x="8" y="${y + laneH / 2 + 5}" class="lane-t">${esc(l.name)}</text>`);
  });
  // Context first, then by level, so the worst markers are drawn on top.
  const order = [...entries].sort((a, b) => (a.level ? 5 - LEVEL_ORDER.indexOf(a.level) : 0) - (b.level ? 5 - LEVEL_ORDER.indexOf(b.level) : 0));
  for (const e of order) {
    const li = lanes.findIndex((l) => l.source === e.event.seam.source);
    if (li < 0) continue;
    const c = e.level ? LEVEL_COLOUR[e.level] : CONTEXT;
    const r = e.level === 'critical' || e.level === 'high' ? 8 : 6;
    parts.push(
      `<circle class="tl-mark" cx="${x(Date.parse(e.event['@timestamp'])).toFixed(1)}" cy="${top + li * laneH + laneH / 2}" r="${r}" fill="${c.bg}" stroke="#1f2937" stroke-width="1.2"><title>${esc(e.event['@timestamp'])} ${esc(e.event.seam.action ?? '')}</title></circle>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

interface SecretTouch {
  when: string;
  what: string;
  names: string[];
  who: string;
  /** The source address of the request (or the pod, for a file read inside it). */
  from?: string;
  denied: boolean;
}

/** A parameter that holds one name or a list of them (secretId, names): its strings. */
const nameList = (v: unknown): string[] => {
  const one = str(v);
  return one !== undefined ? [one] : strs(v);
};

/**
 * What the incident's events read or minted that an analyst must rotate: Secrets Manager secrets, SSM parameters
 * read with decryption, EC2 Windows passwords, new IAM access keys, Kubernetes secrets (by name, from the request
 * or a list's response; values are redacted at ingest) and service-account tokens. Failed reads are listed as
 * denied: they say what the credentials were after.
 */
export function secretsTouched(events: Iterable<SeamEvent>): SecretTouch[] {
  const out: SecretTouch[] = [];
  for (const e of events) {
    const x = e as unknown as Record<string, unknown>;
    const denied = e.seam.outcome === 'failure';
    const push = (what: string, names: string[]): void => void out.push({ when: e['@timestamp'], what, names, who: actor(e), ...(e.seam.source_ip ? { from: e.seam.source_ip } : {}), denied });
    if (e.seam.source === 'cloudtrail') {
      const rp = obj(x.requestParameters) ?? {};
      switch (e.seam.action) {
        case 'secretsmanager.amazonaws.com:GetSecretValue':
          push('Secrets Manager secret value', nameList(rp.secretId));
          break;
        case 'secretsmanager.amazonaws.com:BatchGetSecretValue':
          push('Secrets Manager secret values', nameList(rp.secretIdList).length ? nameList(rp.secretIdList) : ['(by filter)']);
          break;
        case 'ssm.amazonaws.com:GetParameter':
        case 'ssm.amazonaws.com:GetParameters':
        case 'ssm.amazonaws.com:GetParametersByPath':
          if (rp.withDecryption === true || rp.withDecryption === 'true') push('SSM parameter, decrypted', [...nameList(rp.name), ...nameList(rp.names), ...nameList(rp.path)]);
          break;
        case 'ec2.amazonaws.com:GetPasswordData':
          push('EC2 Windows password', nameList(rp.instanceId));
          break;
        case 'iam.amazonaws.com:CreateAccessKey':
          push('IAM access key created', nameList(rp.userName).length ? nameList(rp.userName) : ['(own user)']);
          break;
        case 'sts.amazonaws.com:AssumeRole':
        case 'sts.amazonaws.com:AssumeRoleWithWebIdentity':
        case 'sts.amazonaws.com:AssumeRoleWithSAML':
        case 'sts.amazonaws.com:GetSessionToken':
        case 'sts.amazonaws.com:GetFederationToken': {
          // Temporary credentials handed out: the key id is what to revoke (a session policy denying tokens issued
          // before now, or the role's "Revoke active sessions"), the address is where they went (SOC review M3).
          const re = obj(x.responseElements) ?? {};
          const key = str(obj(re.credentials)?.accessKeyId);
          const session = str(obj(re.assumedRoleUser)?.arn) ?? str(obj(re.federatedUser)?.arn);
          const names = [...(key === undefined ? [] : [`key ${key}`]), ...(session === undefined ? nameList(rp.roleArn) : [shortIdentity(session)])];
          if (names.length > 0 || denied) push('AWS temporary credentials issued', names.length ? names : nameList(rp.roleArn));
          break;
        }
        default:
      }
    } else if (e.seam.source === 'k8s_audit') {
      const ref = obj(x.objectRef) ?? {};
      const verb = typeof x.verb === 'string' ? x.verb : '';
      const ns = typeof ref.namespace === 'string' ? ref.namespace + '/' : '';
      if (ref.resource === 'secrets' && (verb === 'get' || verb === 'list' || verb === 'watch')) {
        const listed: string[] = [];
        const items = obj(x.responseObject)?.items;
        for (const item of Array.isArray(items) ? items : []) {
          const m = obj(obj(item)?.metadata);
          const name = str(m?.name);
          const itemNs = str(m?.namespace) ?? (ns === '' ? undefined : ns.slice(0, -1));
          if (name !== undefined) listed.push(itemNs === undefined ? name : `${itemNs}/${name}`);
        }
        const names = typeof ref.name === 'string' ? [ns + ref.name] : listed.length ? listed : [`all in ${ns ? ns.slice(0, -1) : 'every namespace'}`];
        push(`Kubernetes secret${verb === 'get' ? '' : 's'} (${verb})`, names);
      } else if (ref.resource === 'serviceaccounts' && ref.subresource === 'token' && verb === 'create' && typeof ref.name === 'string') push('Service-account token minted', [ns + ref.name]);
    } else if (e.seam.source === 'runtime') {
      // The sensor reports file opens only for its sensitive paths (tokens, cloud credentials, kubeconfigs): each one
      // is a credential that left the file in that pod (SOC review M3).
      const file = obj(x.file);
      const path = str(file?.path);
      if (path !== undefined) push('Credential file read in a pod', [path]);
    }
  }
  return out.sort((a, b) => (a.when < b.when ? -1 : a.when > b.when ? 1 : 0));
}

function resources(page: IncidentPage): { plane: string; items: [string, number][] }[] {
  const groups = new Map<string, Map<string, number>>();
  const add = (plane: string, r: string | undefined): void => {
    if (r === undefined || r === '') return;
    const m = groups.get(plane) ?? new Map<string, number>();
    m.set(r, (m.get(r) ?? 0) + 1);
    groups.set(plane, m);
  };
  const all = new Map<string, SeamEvent>();
  for (const e of page.events.values()) all.set(e.seam.id, e);
  for (const e of page.awsCalls) all.set(e.seam.id, e);
  for (const e of all.values()) {
    switch (e.seam.source) {
      case 'k8s_audit':
        add('Kubernetes objects', e.seam.resource);
        break;
      case 'cloudtrail':
        add('AWS resources', e.seam.resource ?? shortAction(e.seam.action));
        break;
      case 'runtime':
        add('Workloads (runtime)', e.seam.principal?.pod ? `pod ${e.seam.principal.pod}` : e.seam.resource);
        break;
      default:
        add('GuardDuty findings', e.seam.resource ?? e.seam.action);
    }
  }
  const where = new Set<string>();
  for (const a of page.incident.alerts) {
    if (a.cluster) where.add(`cluster ${a.cluster}`);
    if (a.account) where.add(`account ${a.account}`);
  }
  const out = [...groups].map(([plane, m]) => ({ plane, items: [...m].sort((a, b) => b[1] - a[1]) }));
  if (where.size > 0) out.unshift({ plane: 'Clusters and accounts', items: [...where].map((w) => [w, 0] as [string, number]) });
  return out;
}

interface RuleGroup {
  rule: Alert['rule'];
  alerts: Alert[];
}

function ruleGroups(alerts: readonly Alert[]): RuleGroup[] {
  const m = new Map<string, RuleGroup>();
  for (const a of alerts) {
    const g = m.get(a.rule.id) ?? { rule: { ...a.rule }, alerts: [] };
    g.alerts.push(a);
    // One rule can raise at several levels (a native detection escalating): the group shows its worst.
    if (LEVEL_ORDER.indexOf(a.rule.level) < LEVEL_ORDER.indexOf(g.rule.level)) g.rule.level = a.rule.level;
    m.set(a.rule.id, g);
  }
  return [...m.values()].sort((a, b) => LEVEL_ORDER.indexOf(a.rule.level) - LEVEL_ORDER.indexOf(b.rule.level) || (a.alerts[0]!['@timestamp'] < b.alerts[0]!['@timestamp'] ? -1 : 1));
}

/**
 * The fold (ADR 0050) of a card's alerts: the rules their events also matched (folded into them, not notified), or,
 * for alerts folded into another of the incident, the alert they were notified under. Undefined when neither.
 */
function foldText(g: RuleGroup, all: readonly Alert[]): string | undefined {
  const also = new Set<string>();
  for (const a of g.alerts) for (const m of a.also_matched ?? []) also.add(`${m.title} (${m.level})`);
  const byId = new Map(all.map((a) => [a.id, a]));
  const into = new Set<string>();
  for (const a of g.alerts) {
    const lead = a.folded_into === undefined ? undefined : byId.get(a.folded_into);
    if (lead !== undefined) into.add(lead.rule.title);
  }
  const parts: string[] = [];
  if (also.size > 0) parts.push(`Notified with, on the same event: ${[...also].join('; ')}`);
  if (into.size > 0) parts.push(`Notified under ${[...into].join('; ')} (same event)`);
  return parts.length > 0 ? parts.join('. ') : undefined;
}

/** A rule group's worst alert: of several at the group's level, the latest (a grant and its first use both critical: the first use). */
function worstOf(g: RuleGroup): Alert {
  return g.alerts.findLast((a) => a.rule.level === g.rule.level) ?? g.alerts[0]!;
}

function alertCard(g: RuleGroup, page: IncidentPage): string {
  const first = g.alerts[0]!;
  const last = g.alerts[g.alerts.length - 1]!;
  const note = page.notes.get(g.rule.id);
  const tags = g.rule.tags.filter((t) => /^attack\.t\d/.test(t)).map((t) => t.slice(7).toUpperCase());
  // The card leads with the group's worst alert, its title (a native detection's variant: a grant at high, its first
  // use at critical) and summary; the group's other distinct summaries follow, worst first.
  // Of several at the worst level, the latest: a grant and its first use both critical, the first use leads.
  const worst = worstOf(g);
  const seen = new Set([worst.summary]);
  const others = [...g.alerts]
    .sort((a, b) => LEVEL_ORDER.indexOf(a.rule.level) - LEVEL_ORDER.indexOf(b.rule.level))
    .filter((a) => !seen.has(a.summary) && seen.add(a.summary));
  // The worst alert's own triage text (a native detection's names its values and variant), else the rule's.
  const triage = worst.triage ?? note?.triage;
  const times = g.alerts.length > 1 ? `${first['@timestamp'].slice(11, 19)}–${last['@timestamp'].slice(11, 19)} · ×${g.alerts.length}` : first['@timestamp'].slice(11, 19);
  const fold = foldText(g, page.incident.alerts);
  // The alert ids, the worst first: what `seam hunt --alert ID` takes to print an alert's events (docs/hunting.md).
  const ids = [worst.id, ...g.alerts.filter((a) => a.id !== worst.id).map((a) => a.id)].filter((id, i, all) => all.indexOf(id) === i);
  const idText = `${ids.slice(0, MAX_CARD_IDS).join(' ')}${ids.length > MAX_CARD_IDS ? ` … ${ids.length - MAX_CARD_IDS} more` : ''}`;
  return `<article class="alert alert-${g.rule.level}" data-rule="${esc(g.rule.id)}">
<header>${badge(g.rule.level)}<h3>${esc(worst.rule.title)}</h3><span class="a-when">${esc(times)}</span></header>
<p class="a-sum">${esc(worst.summary)}</p>
${others.length ? `<ul class="a-more">${others.slice(0, 4).map((a) => `<li>${esc(a.rule.level)} · ${esc(a['@timestamp'].slice(11, 19))} · ${esc(clip(a.summary, 160))}</li>`).join('')}${others.length > 4 ? `<li>…${others.length - 4} more</li>` : ''}</ul>` : ''}
${triage ? `<p class="a-triage"><b>Triage</b> ${esc(triage)}</p>` : note?.description ? `<p class="a-desc">${esc(note.description)}</p>` : ''}
${fold ? `<p class="a-fold">${esc(fold)}</p>` : ''}
<p class="a-meta">${esc(g.rule.type)}${tags.length ? ` · ATT&amp;CK ${esc(tags.join(', '))}` : ''} · ${g.alerts.length} alert${g.alerts.length === 1 ? '' : 's'} · ${g.alerts.reduce((n, a) => n + a.events.length, 0)} events</p>
<p class="a-ids">${ids.length === 1 ? 'Alert id' : 'Alert ids'} (its events: <code>seam hunt --alert ID</code>): <code>${esc(idText)}</code></p>
</article>`;
}

/** Alert ids a card lists before `… N more`. */
const MAX_CARD_IDS = 6;

const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif;color:#111827;background:#f3f4f6;font-size:15px;line-height:1.45}
.top{color:#fff;padding:18px 28px 16px;display:flex;gap:24px;align-items:center}
.top .sev{font-size:30px;font-weight:800;letter-spacing:.06em;text-transform:uppercase;padding:6px 16px;border:3px solid #fff;border-radius:8px;white-space:nowrap}
.top h1{margin:0;font-size:26px;line-height:1.2}
.top .who-sub{font-size:15px;opacity:.92;margin-top:4px}
.top .span{margin-left:auto;text-align:right;font-size:14px;white-space:nowrap}
.top .span b{font-size:20px;display:block}
.strip{display:flex;flex-wrap:wrap;gap:10px 22px;align-items:center;background:#111827;color:#e5e7eb;padding:10px 28px;font-size:14px}
#others-from span{color:#6b7280}
#secrets .hint{margin:0 0 8px;font-size:13px;color:#374151}
#before .hint,#before .before-note,#before .before-count,#before .before-via{margin:0 0 8px;font-size:13px;color:#374151}
#before .before-note{color:#92400e}
#before h3{margin:14px 0 6px;font-size:15px}
tr.secret.denied td{color:#6b7280}
.a-more{margin:4px 0 6px;padding-left:18px;font-size:13px;color:#374151}
.strip .chainline{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;color:#fde68a}
main{padding:18px 28px 28px;display:grid;gap:18px}
section{background:#fff;border-radius:10px;padding:16px 20px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
section h2{margin:0 0 10px;font-size:17px;text-transform:uppercase;letter-spacing:.05em;color:#374151}
.row{display:grid;grid-template-columns:minmax(0,1fr) 360px;gap:18px;align-items:start}
.graphwrap{overflow-x:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",Arial,sans-serif}
.n-tag{font-size:11px;font-weight:700;letter-spacing:.08em}
.n-label{font-size:15px;font-weight:700;fill:#111827}
.n-label-sm{font-size:14px}
.n-sub{font-size:12px;fill:#4b5563}
.n-line{font-size:13px;fill:#111827;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.n-denied{fill:#9f1239}
.edge{fill:none;stroke:#334155;stroke-width:2.2}
.edge-calls{stroke:#be123c;stroke-dasharray:6 4}
.edge-label text{paint-order:stroke;stroke:#fff;stroke-width:5px;stroke-linejoin:round}
.el-kind{font-size:13px;font-weight:700;fill:#0f172a}
.el-ev{font-size:12px;fill:#475569;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.facts dl{margin:0;display:grid;grid-template-columns:110px 1fr;gap:6px 10px;font-size:14px}
.facts dt{color:#6b7280}
.facts dd{margin:0;word-break:break-word}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;font-size:13px;margin-top:14px;color:#374151}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-1px;border:1px solid #0003}
.lvl{display:inline-block;font-size:12px;font-weight:800;text-transform:uppercase;letter-spacing:.05em;padding:2px 8px;border-radius:5px;white-space:nowrap}
${(Object.keys(LEVEL_COLOUR) as AlertLevel[]).map((l) => `.lvl-${l}{background:${LEVEL_COLOUR[l].bg};color:${LEVEL_COLOUR[l].fg}}`).join('\n')}
.counts{display:flex;gap:8px;flex-wrap:wrap}
.tl{display:block;max-width:100%;height:auto}
.lane{fill:#f9fafb}.lane-odd{fill:#eef2f7}
.lane-t{font-size:13px;font-weight:600;fill:#374151}
.tick{stroke:#cbd5e1;stroke-width:1}
.tick-t{font-size:12px;fill:#6b7280}
table{border-collapse:collapse;width:100%;font-size:14px}
th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:#6b7280;border-bottom:2px solid #e5e7eb;padding:6px 8px}
td{border-bottom:1px solid #eef0f3;padding:5px 8px;vertical-align:top}
td.t{font-family:ui-monospace,"DejaVu Sans Mono",monospace;white-space:nowrap}
td.what{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;word-break:break-all}
tr.ctx td{color:#6b7280}
.plane{font-size:12px;font-weight:700;padding:1px 6px;border-radius:4px;white-space:nowrap;border:1px solid}
.plane-cloudtrail{color:#92400e;border-color:#f59e0b;background:#fffbeb}
.plane-k8s_audit{color:#1d4ed8;border-color:#93c5fd;background:#eff6ff}
.plane-runtime{color:#6d28d9;border-color:#c4b5fd;background:#f5f3ff}
.plane-guardduty{color:#be123c;border-color:#fda4af;background:#fff1f2}
.a-fold{margin:6px 0 0;font-size:13px;color:#374151}
.alerts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
.alert{border:1px solid #e5e7eb;border-left:8px solid #9ca3af;border-radius:8px;padding:10px 14px}
${(Object.keys(LEVEL_COLOUR) as AlertLevel[]).map((l) => `.alert-${l}{border-left-color:${LEVEL_COLOUR[l].bg}}`).join('\n')}
.alert header{display:flex;gap:10px;align-items:baseline}
.alert h3{margin:0;font-size:16px;flex:1}
.a-when{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;color:#4b5563;white-space:nowrap}
.a-sum{margin:6px 0;font-size:14px;word-break:break-word}
.a-triage{margin:6px 0;font-size:14px;background:#f0f9ff;border-radius:6px;padding:6px 10px}
.a-desc{margin:6px 0;font-size:14px;color:#374151}
.a-meta{margin:4px 0 0;font-size:12px;color:#6b7280}
.a-ids{margin:2px 0 0;font-size:12px;color:#6b7280;overflow-wrap:anywhere}
details.context summary{cursor:pointer;font-weight:600;margin:12px 0 8px}
.res{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px 24px}
.res h3{font-size:14px;margin:0 0 4px;color:#374151}
.res ul{margin:0;padding-left:18px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;word-break:break-all}
footer{color:#6b7280;font-size:12px;padding:0 28px 24px}
`;

/** One line of the "Before" table: time, plane, what, who, from (the timeline's columns, without alerts). */
function beforeRow(ev: SeamEvent): string {
  const what = `${ev.seam.source === 'cloudtrail' ? shortAction(ev.seam.action) : (ev.seam.action ?? '')}${ev.seam.resource ? ` ${ev.seam.resource}` : ''}${ev.seam.outcome === 'failure' ? ' (failed)' : ''}`;
  return `<tr class="before-entry" data-event="${esc(ev.seam.id)}"><td class="t">${esc(ev['@timestamp'].slice(11, 19))}</td><td><span class="plane plane-${esc(ev.seam.source)}">${esc(SOURCES.find((s) => s.source === ev.seam.source)?.name ?? ev.seam.source)}</span></td><td class="what">${esc(clip(what, 90))}</td><td>${esc(clip(actor(ev), 96))}</td><td class="from">${esc(ev.seam.source_ip ?? '')}</td></tr>`;
}

/**
 * "Before": what the incident's identity, and the other identities its evidence names (who made a grant), did in
 * the hour before the first alert (incident-before.ts). Says when the events do not reach back that far, or could
 * not be read, so an empty list is not taken for a quiet hour.
 */
function beforeSection(page: IncidentPage): string {
  const b = page.before;
  if (b === undefined) return '';
  const span = `${when(b.from)} to ${b.to.slice(11, 19)} UTC`;
  const minutes = Math.round((Date.parse(b.to) - Date.parse(b.from)) / 60_000);
  const head = `<section id="before"><h2>Before the first alert</h2><p class="hint">The ${minutes} minutes before the first alert (${esc(span)}): what this incident's identity and the identities of its chain did, and the other identities its evidence names (for a grant: who made it).</p>`;
  if (b.unavailable !== undefined) return `${head}<p class="before-note" id="before-unavailable">Events before the incident are unavailable: ${esc(b.unavailable)}.</p></section>`;
  const notes: string[] = [];
  if (b.dataFrom === undefined) notes.push('The events read hold no event at all, so nothing can be said about this hour.');
  else if (b.dataFrom > b.from) {
    const missing = Math.round((Date.parse(b.dataFrom) - Date.parse(b.from)) / 60_000);
    notes.push(`The events read start at ${when(b.dataFrom)}: ${b.dataFrom >= b.to ? 'none of this window is' : `the first ${missing} minutes of this window are not`} in the data, so a short or empty list there is no evidence of a quiet hour.`);
  }
  if (b.unread) notes.push(`${b.unread} more events matched the search than were read (the newest were read); the counts below leave them out.`);
  const subjects = b.subjects.map((s) => {
    const planes = Object.entries(s.bySource)
      .map(([k, n]) => `${SOURCES.find((x) => x.source === k)?.name ?? k} ${n}`)
      .join(', ');
    const title = s.role === 'incident' ? `This incident's identity: ${shortIdentity(s.label)}` : `${shortIdentity(s.label)}, in the evidence`;
    const via = s.via.length ? `<p class="before-via">In the evidence: ${s.via.slice(0, 3).map((v) => esc(clip(v, 110))).join('; ')}${s.via.length > 3 ? `; …${s.via.length - 3} more` : ''}</p>` : '';
    // The incident's subject counts the identities of its chain (the pod's service account and role): their own events
    // before the chain formed are theirs, not this identity's doing (review-hunter L1: the workload's routine secret read
    // at 14:02 read as alice's). Name them, so the heading is not taken for the author of every row.
    const chain = s.role === 'incident' ? [...new Set(s.events.filter((e) => actingFor(e) !== s.label).map(actor))].filter(Boolean) : [];
    const chainNote = chain.length
      ? `<p class="before-via before-chain">Also listed: the identities of its chain, with their own events: ${chain.map((c) => esc(clip(c, 110))).join('; ')}. The Who column says whose each row is; what they did before the chain reached them is not this identity's doing.</p>`
      : '';
    const left = s.total - s.events.length;
    const count =
      s.total === 0
        ? '<p class="before-count" data-total="0">No event of it in this window.</p>'
        : `<p class="before-count" data-total="${s.total}" data-shown="${s.events.length}">${s.total} event${s.total === 1 ? '' : 's'} (${esc(planes)})${left > 0 ? `; the last ${s.events.length} shown, ${left} earlier left out` : ''}.</p>`;
    const table = s.events.length ? `<table><thead><tr><th>UTC</th><th>Plane</th><th>What</th><th>Who</th><th>From</th></tr></thead><tbody>\n${s.events.map(beforeRow).join('\n')}\n</tbody></table>` : '';
    return `<div class="before-subject" data-role="${esc(s.role)}" data-identity="${esc(s.label)}"><h3 title="${esc(s.label)}">${esc(clip(title, 120))}</h3>${via}${chainNote}${count}${table}</div>`;
  });
  return `${head}${notes.map((n) => `<p class="before-note">${esc(n)}</p>`).join('')}${subjects.join('\n')}</section>`;
}

/** Renders one incident page. */
function secretsSection(page: IncidentPage): string {
  const all = new Map<string, SeamEvent>();
  for (const e of page.events.values()) all.set(e.seam.id, e);
  for (const e of page.awsCalls) all.set(e.seam.id, e);
  const rows = secretsTouched(all.values());
  if (rows.length === 0) return '';
  const shown = rows.slice(0, 20);
  return `<section id="secrets"><h2>Secrets and credentials read or minted</h2><p class="hint">What to rotate: every value below was returned to the identity shown (denied: it was tried).</p><table><thead><tr><th>UTC</th><th>What</th><th>Name</th><th>Who</th><th>From</th></tr></thead><tbody>
${shown.map((r) => `<tr class="secret${r.denied ? ' denied' : ''}"><td class="t">${esc(r.when.slice(11, 19))}</td><td>${esc(r.what)}${r.denied ? ' · denied' : ''}</td><td>${esc(clip(r.names.join(', '), 120))}</td><td>${esc(clip(r.who, 96))}</td><td>${esc(r.from ?? '')}</td></tr>`).join('\n')}
</tbody></table>${rows.length > shown.length ? `<p>…${rows.length - shown.length} more</p>` : ''}</section>`;
}

export function renderIncidentHtml(page: IncidentPage, generatedAt: Date = new Date()): string {
  const inc = page.incident;
  const level = inc.level;
  const lc = LEVEL_COLOUR[level];
  const graph = buildChainGraph({ chain: inc.chain, origin: inc.key, events: page.events, awsCalls: page.awsCalls });
  const who = inc.who;
  const role = /:assumed-role\/([^/]+)\//.exec(who?.arn ?? inc.key)?.[1];
  const whoName = (who?.session && !(role && machineSession(who.session)) ? who.session : role ? `role ${role}` : undefined) ?? (who?.arn ? shortIdentity(who.arn) : undefined) ?? shortIdentity(inc.key);
  const whoSub = who?.arn ? shortIdentity(who.arn) : inc.key;
  const counts = LEVEL_ORDER.map((l) => [l, inc.alerts.filter((a) => a.rule.level === l).length] as const).filter(([, n]) => n > 0);
  const entries = timelineEntries(page);
  const planes = new Set(entries.map((e) => e.event.seam.source));
  const groups = ruleGroups(inc.alerts);
  const serious = groups.filter((g) => g.rule.level === 'critical' || g.rule.level === 'high' || g.rule.level === 'medium');
  const context = groups.filter((g) => !serious.includes(g));
  // Where the incident's identity and its chain acted from; another identity's address in the evidence (who granted
  // what this one used) goes on its own line, with who it was (SOC review L3).
  const names = incidentNames(inc);
  const ips = new Set<string>();
  const others = new Map<string, Set<string>>();
  // Every evidence event in time order (not the timeline's lines: a folded repeat may come from another address).
  const evidence = new Set(inc.alerts.flatMap((a) => a.events));
  const byTime = [...page.events.values()].filter((e) => evidence.has(e.seam.id)).sort((a, b) => (a['@timestamp'] < b['@timestamp'] ? -1 : a['@timestamp'] > b['@timestamp'] ? 1 : 0));
  for (const e of byTime) {
    const ip = e.seam.source_ip;
    if (!ip) continue;
    if (isByIncident(e, names, inc)) ips.add(ip);
    else others.set(ip, (others.get(ip) ?? new Set()).add(actor(e) || 'no identity'));
  }
  const clusters = [...new Set(inc.alerts.map((a) => a.cluster).filter(Boolean))];
  const accounts = [...new Set(inc.alerts.map((a) => a.account).filter(Boolean))];
  const minutes = Math.max(1, Math.round((Date.parse(inc.end) - Date.parse(inc.start)) / 60_000));
  const title = `${level.toUpperCase()} incident: ${whoName} — ${inc.alerts.length} alerts`;

  const rows = entries.map((e) => {
    const ev = e.event;
    const c = e.level ? badge(e.level) : '<span class="lvl" style="color:#6b7280">context</span>';
    const what = `${ev.seam.source === 'cloudtrail' ? shortAction(ev.seam.action) : (ev.seam.action ?? '')}${ev.seam.resource ? ` ${ev.seam.resource}` : ''}${ev.seam.outcome === 'failure' ? ' (failed)' : ''}`;
    return `<tr class="timeline-entry${e.level ? '' : ' ctx'}" data-event="${esc(ev.seam.id)}"><td class="t">${esc(ev['@timestamp'].slice(11, 19))}</td><td><span class="plane plane-${esc(ev.seam.source)}">${esc(SOURCES.find((s) => s.source === ev.seam.source)?.name ?? ev.seam.source)}</span></td><td class="what">${esc(clip(what, 90))}${e.count > 1 ? ` <b>×${e.count}</b>` : ''}</td><td>${esc(clip(actor(ev), 96))}</td><td class="from">${esc(ev.seam.source_ip ?? '')}</td><td>${c} ${esc(clip(e.alerts.join('; '), 90))}</td></tr>`;
  });

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<div class="top" style="background:${lc.bg};color:${lc.fg}" id="summary" data-incident="${esc(page.id)}" data-level="${esc(level)}">
<div class="sev" style="border-color:${lc.fg}">${esc(level)}</div>
<div><h1>${esc(whoName)}</h1><div class="who-sub">${esc(whoSub)}${inc.actors.length ? ` · acting as ${esc(inc.actors.map(shortIdentity).join(', '))}` : ''}</div></div>
<div class="span"><b>${esc(inc.start.slice(11, 16))}–${esc(inc.end.slice(11, 16))} UTC</b>${esc(inc.start.slice(0, 10))} · ${minutes} min</div>
</div>
<div class="strip"><span class="counts">${counts.map(([l, n]) => badge(l, `${n} ${l}`)).join(' ')}</span><span>${esc([...clusters.map((c) => `cluster ${c}`), ...accounts.map((a) => `account ${a}`)].join(' · '))}</span><span>planes: ${esc([...planes].map((p) => SOURCES.find((s) => s.source === p)?.name ?? p).join(', '))}</span></div>
<main>
<div class="row">
<section id="chain"><h2>Attack chain</h2><div class="graphwrap">${graphSvg(graph)}</div>
<div class="legend">${(['iam', 'k8s', 'pod', 'sa', 'calls'] as const).map((p) => `<span><i style="background:${PLANE_COLOUR[p].fill};border-color:${PLANE_COLOUR[p].stroke}"></i>${{ iam: 'AWS IAM identity', k8s: 'Kubernetes identity', pod: 'pod', sa: 'service account', calls: 'AWS API calls made' }[p]}</span>`).join('')}<span>edge = how one identity led to the next, with the event that proves it</span></div>
</section>
<section class="facts" id="facts"><h2>At a glance</h2><dl>
<dt>Who acted</dt><dd><b>${esc(whoName)}</b><br>${esc(inc.key)}</dd>
${inc.actors.length ? `<dt>Acting as</dt><dd>${inc.actors.map((a) => esc(shortIdentity(a))).join('<br>')}</dd>` : ''}
<dt>Worst alert</dt><dd>${groups[0] ? `${badge(groups[0].rule.level)} ${esc(worstOf(groups[0]).rule.title)}` : ''}</dd>
<dt>Alerts</dt><dd>${inc.alerts.length} from ${groups.length} rules</dd>
<dt>When</dt><dd>${esc(when(inc.start))}<br>to ${esc(when(inc.end))}</dd>
${ips.size ? `<dt>From</dt><dd id="from">${[...ips].slice(0, 6).map(esc).join('<br>')}</dd>` : ''}${others.size ? `<dt>Other identities from</dt><dd id="others-from" title="Addresses of events by other identities among this incident's evidence: not where this identity acted from">${[...others].slice(0, 6).map(([ip, who]) => `${esc(ip)} <span>· ${esc(clip([...who].join(', '), 48))}</span>`).join('<br>')}</dd>` : ''}
<dt>AWS calls</dt><dd>${page.awsCalls.length} by the chain's credentials${page.awsCalls.some((c) => c.seam.outcome === 'failure') ? `, ${page.awsCalls.filter((c) => c.seam.outcome === 'failure').length} denied` : ''}</dd>
<dt>Incident</dt><dd>${esc(page.id)}</dd>
<dt>Status</dt><dd id="status" data-status="${esc(inc.status)}">${inc.status === 'closed' ? `closed at ${esc(when(inc.closedAt ?? inc.closesAt))} (quiet since its last alert)` : `open · closes at ${esc(when(inc.closesAt))} if no further alert`}</dd>
</dl>
<div class="legend">${LEVEL_ORDER.map((l) => badge(l)).join(' ')}</div>
</section>
</div>
${secretsSection(page)}
${beforeSection(page)}
<section id="timeline"><h2>Timeline across planes</h2>${timelineSvg(entries, inc.start, inc.end)}
<table><thead><tr><th>UTC</th><th>Plane</th><th>What</th><th>Who</th><th>From</th><th>Alerts</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></section>
<section id="alerts"><h2>Alerts and triage</h2><div class="alerts">${serious.map((g) => alertCard(g, page)).join('\n')}</div>
${context.length ? `<details class="context"><summary>${context.reduce((n, g) => n + g.alerts.length, 0)} low and informational alerts (context)</summary><div class="alerts">${context.map((g) => alertCard(g, page)).join('\n')}</div></details>` : ''}
</section>
<section id="resources"><h2>Affected resources</h2><div class="res">${resources(page)
    .map((r) => `<div><h3>${esc(r.plane)}</h3><ul>${r.items.slice(0, 15).map(([name, n]) => `<li class="resource">${esc(name)}${n > 1 ? ` ×${n}` : ''}</li>`).join('')}${r.items.length > 15 ? `<li>…${r.items.length - 15} more</li>` : ''}</ul></div>`)
    .join('')}</div></section>
</main>
<footer>Seam incident page · ${esc(page.id)} · data from ${esc(page.source)} · generated ${esc(generatedAt.toISOString())} · self-contained: no scripts, fonts or network</footer>
</body>
</html>
`;
}
