/**
 * kube-system/aws-auth: `mapRoles` and `mapUsers` are YAML strings inside the ConfigMap's data. Each entry
 * maps an IAM role or user ARN to a Kubernetes username (which may hold templates the authenticator fills in
 * per request) and groups. Role ARNs in aws-auth carry no path, which is why graph keys drop role paths.
 */
import { parse } from 'yaml';
import { canonicalIamArn } from './keys.ts';

export interface AwsAuthMapping {
  arn: string;
  kind: 'role' | 'user';
  username: string;
  groups: string[];
}

export interface AwsAuthParse {
  mappings: AwsAuthMapping[];
  /** Entries that could not be read, as sentences (the ConfigMap is hand-edited; be forgiving, say what was skipped). */
  problems: string[];
}

function parseEntries(text: string, kind: 'role' | 'user', out: AwsAuthParse): void {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    out.problems.push(`map${kind === 'role' ? 'Roles' : 'Users'} is not valid YAML: ${(e as Error).message}`);
    return;
  }
  if (!Array.isArray(doc)) {
    out.problems.push(`map${kind === 'role' ? 'Roles' : 'Users'} is not a list`);
    return;
  }
  for (const item of doc) {
    if (item === null || typeof item !== 'object') continue;
    const o = item as Record<string, unknown>;
    const arn = kind === 'role' ? (o.rolearn ?? o.roleARN) : (o.userarn ?? o.userARN);
    if (typeof arn !== 'string' || arn === '') {
      out.problems.push(`a map${kind === 'role' ? 'Roles' : 'Users'} entry has no ${kind}arn`);
      continue;
    }
    const groups = Array.isArray(o.groups) ? o.groups.filter((g): g is string => typeof g === 'string') : [];
    // The authenticator's defaults when username is left out.
    const username = typeof o.username === 'string' && o.username !== '' ? o.username : kind === 'role' ? arn : arn;
    out.mappings.push({ arn: canonicalIamArn(arn), kind, username, groups });
  }
}

/**
 * Every audit event about the ConfigMap (each get, watch, update) carries its whole `data`, and the same
 * text comes back again and again: its parse is remembered by the exact text (a few recent texts), and each
 * caller gets fresh mapping objects.
 */
const PARSED_MAX = 16;
const parsed = { role: new Map<string, AwsAuthParse>(), user: new Map<string, AwsAuthParse>() };

function entries(text: unknown, kind: 'role' | 'user', out: AwsAuthParse): void {
  if (typeof text !== 'string' || text.trim() === '') return;
  const memo = parsed[kind];
  let p = memo.get(text);
  if (p === undefined) {
    p = { mappings: [], problems: [] };
    parseEntries(text, kind, p);
    if (memo.size >= PARSED_MAX) memo.delete(memo.keys().next().value!);
    memo.set(text, p);
  }
  for (const m of p.mappings) out.mappings.push({ arn: m.arn, kind: m.kind, username: m.username, groups: [...m.groups] });
  for (const problem of p.problems) out.problems.push(problem);
}

/** Reads the mappings out of a ConfigMap's `data`. */
export function parseAwsAuthData(data: unknown): AwsAuthParse {
  const out: AwsAuthParse = { mappings: [], problems: [] };
  if (data === null || typeof data !== 'object') return out;
  const d = data as Record<string, unknown>;
  entries(d.mapRoles, 'role', out);
  entries(d.mapUsers, 'user', out);
  return out;
}

export interface TemplateContext {
  sessionName?: string;
  accountId?: string;
  privateDnsName?: string;
  /** The caller's access key id, used by `{{AccessKeyID}}`. */
  accessKeyId?: string;
}

/**
 * Fills the authenticator's templates: `{{SessionName}}` (with `@` replaced by `-`, as the authenticator
 * does), `{{SessionNameRaw}}`, `{{AccountID}}`, `{{EC2PrivateDNSName}}`, `{{AccessKeyID}}`. Unknown values
 * stay as the template.
 */
export function expandTemplate(username: string, ctx: TemplateContext): string {
  return username.replace(/\{\{(\w+)\}\}/g, (m, name: string) => {
    switch (name) {
      case 'SessionName':
        return ctx.sessionName === undefined ? m : ctx.sessionName.replace(/@/g, '-');
      case 'SessionNameRaw':
        return ctx.sessionName ?? m;
      case 'AccountID':
        return ctx.accountId ?? m;
      case 'EC2PrivateDNSName':
        return ctx.privateDnsName ?? m;
      case 'AccessKeyID':
        return ctx.accessKeyId ?? m;
      default:
        return m;
    }
  });
}

/** Does a concrete username match a (possibly templated) mapping username? */
export function templateMatches(template: string, username: string): boolean {
  if (!template.includes('{{')) return template === username;
  const re = new RegExp('^' + template.split(/\{\{\w+\}\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+') + '$');
  return re.test(username);
}

/** True when the mapping is a node's (kubelets authenticate with it). */
export function isNodeMapping(m: { username: string; groups: readonly string[] }): boolean {
  return m.groups.includes('system:nodes') || m.username.startsWith('system:node:');
}
