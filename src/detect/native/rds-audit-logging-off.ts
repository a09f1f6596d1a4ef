/**
 * An RDS or Aurora parameter group change that turns the database's own audit logging off: the MariaDB / MySQL
 * audit plugin and Aurora MySQL advanced auditing (`server_audit_logging` 0, `server_audit_events` emptied),
 * PostgreSQL's pgaudit (`pgaudit.log` none) and connection logging (`log_connections` / `log_disconnections`
 * off), Oracle's `audit_trail` NONE. ModifyDBParameterGroup / ModifyDBClusterParameterGroup log the changed
 * parameters as a list of {parameterName, parameterValue} objects; Sigma matches a list's fields across all its
 * items, so "this parameter" and "set to this value" could come from two different items. This check reads
 * the list item by item. One event, no state.
 *
 * Turning the general log or statement logging down (`general_log`, `log_statement`) is left out: both are
 * verbose, costly and may write data into the logs, so teams turn them off for good reasons.
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { callerText, nativeAlert } from './util.ts';
import { shortIdentity } from '../../identity/chain-text.ts';
import { obj, str } from '../../core/values.ts';

const OFF = new Set(['0', 'off', 'false', 'none']);

/** Audit parameters (lower case) and when a value turns them off. */
const AUDIT_PARAMETERS: Readonly<Record<string, (value: string) => boolean>> = {
  server_audit_logging: (v) => OFF.has(v),
  server_audit_events: (v) => v === '' || v === 'none',
  'pgaudit.log': (v) => v === '' || v === 'none' || v === '-all',
  log_connections: (v) => OFF.has(v),
  log_disconnections: (v) => OFF.has(v),
  audit_trail: (v) => OFF.has(v),
};

const CALLS = new Set(['rds.amazonaws.com:ModifyDBParameterGroup', 'rds.amazonaws.com:ModifyDBClusterParameterGroup']);

/** `name=value` of each audit parameter the call turns off. */
export function auditParametersTurnedOff(requestParameters: unknown): string[] {
  const rp = obj(requestParameters);
  const list = rp?.parameters ?? rp?.Parameters;
  const items = Array.isArray(list) ? list : Array.isArray(obj(list)?.items) ? (obj(list)!.items as unknown[]) : [];
  const out: string[] = [];
  for (const item of items) {
    const p = obj(item);
    const name = (str(p?.parameterName) ?? str(p?.ParameterName) ?? '').toLowerCase();
    const off = AUDIT_PARAMETERS[name];
    if (off === undefined) continue;
    const raw = p?.parameterValue ?? p?.ParameterValue;
    const value = raw === undefined || raw === null ? '' : String(raw).trim().toLowerCase();
    if (off(value)) out.push(`${name}=${value === '' ? '(empty)' : value}`);
  }
  return out;
}

export const rdsAuditLoggingOff: NativeDetection<null> = {
  id: 'seam-native-rds-audit-logging-off',
  title: 'RDS parameter group change turns database audit logging off',
  level: 'medium',
  tags: ['attack.defense-evasion', 'attack.t1562.008', 'attack.t1562.001'],
  description:
    'ModifyDBParameterGroup or ModifyDBClusterParameterGroup set an audit parameter of the database engine off: server_audit_logging 0 or server_audit_events emptied (MariaDB/MySQL audit plugin, Aurora MySQL advanced auditing), pgaudit.log none, log_connections or log_disconnections off (PostgreSQL), audit_trail NONE (Oracle). Every database using the group stops recording sign-ins and audited statements.',
  triage:
    'Which parameter group (the summary names it) and which databases use it; who changed it, from where, and whether a change ticket exists; what the same principal did next on those databases (master password reset, snapshots, public access). Set the parameters back and read the database logs up to the change.',
  sources: ['cloudtrail'],
  createState: () => null,
  evaluate(event: SeamEvent, _graph: IdentityGraph, _state: null, ctx: EvalContext): Alert[] {
    if (event.seam.source !== 'cloudtrail' || !CALLS.has(event.seam.action ?? '')) return [];
    if (event.seam.outcome === 'failure' || str(event.errorCode) !== undefined) return [];
    const p = event.seam.principal;
    if (p === undefined || p.type === 'aws_service') return [];
    const off = auditParametersTurnedOff(event.requestParameters);
    if (off.length === 0) return [];
    const rp = obj(event.requestParameters);
    const group = str(rp?.dBParameterGroupName) ?? str(rp?.dBClusterParameterGroupName) ?? '?';
    return [
      nativeAlert(this, {
        events: [event],
        triage:
          `${shortIdentity(p.id)} set ${off.join(', ')} in parameter group ${group} ${callerText(event)}. ` +
          `Which databases use ${group} (aws rds describe-db-instances / describe-db-clusters, their parameter group), and does a change ticket explain it? ` +
          `What did ${shortIdentity(p.id)} do next on those databases (master password reset, snapshots, public access)? Set the parameters back and read the database logs up to the change.`,
        summary: `${p.id} turned database audit logging off in parameter group ${group}: ${off.join(', ')}`,
        principal: ctx.resolution.principal ?? p,
        account: event.seam.account,
      }),
    ];
  },
};
