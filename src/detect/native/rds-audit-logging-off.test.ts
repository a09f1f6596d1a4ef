import { describe, expect, it } from 'vitest';
import { alice, callAs, ev, t } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { auditParametersTurnedOff } from './rds-audit-logging-off.ts';

// ModifyDBParameterGroup / ModifyDBClusterParameterGroup as CloudTrail logs them (API reference: the Parameters
// list of {ParameterName, ParameterValue, ApplyMethod}, logged in camel case).
const id = 'seam-native-rds-audit-logging-off';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const param = (parameterName: string, parameterValue: string, applyMethod = 'immediate') => ({ parameterName, parameterValue, applyMethod, isModifiable: false });

function modify(parameters: unknown[], opts: { cluster?: boolean; errorCode?: string; time?: string } = {}): SeamEvent {
  const group = opts.cluster ? { dBClusterParameterGroupName: 'orders-aurora-mysql8' } : { dBParameterGroupName: 'payments-pg16' };
  return ev(
    callAs(alice, 'rds.amazonaws.com', opts.cluster ? 'ModifyDBClusterParameterGroup' : 'ModifyDBParameterGroup', opts.time ?? t('16:00:00'), undefined, { ...group, parameters }, opts.errorCode ? { errorCode: opts.errorCode } : {}),
    undefined,
  );
}

describe('RDS parameter group change turns audit logging off', () => {
  it('alerts (medium) when Aurora MySQL advanced auditing is switched off', () => {
    const alerts = run([modify([param('server_audit_logging', '0')], { cluster: true })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('medium');
    expect(alerts[0]!.summary).toContain('parameter group orders-aurora-mysql8: server_audit_logging=0');
    expect(alerts[0]!.triage).toContain('set server_audit_logging=0 in parameter group orders-aurora-mysql8 from ');
    expect(alerts[0]!.triage).toContain('Which databases use orders-aurora-mysql8');
    expect(alerts[0]!.triage).not.toContain('requestParameters');
    expect(alerts[0]!.rule.tags).toContain('attack.t1562.008');
  });

  it('alerts when pgaudit and connection logging are turned off together, naming each', () => {
    const alerts = run([modify([param('pgaudit.log', 'none'), param('log_connections', '0'), param('work_mem', '65536')])]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toContain('pgaudit.log=none, log_connections=0');
  });

  it('reads the list item by item: an audit parameter turned on beside another parameter set to 0 or NONE is silent', () => {
    expect(auditParametersTurnedOff({ parameters: [param('server_audit_logging', '1'), param('max_connect_errors', '0'), param('binlog_checksum', 'NONE')] })).toEqual([]);
    expect(run([modify([param('server_audit_logging', '1'), param('server_audit_events', 'CONNECT,QUERY_DCL'), param('binlog_checksum', 'NONE')], { cluster: true })])).toEqual([]);
  });

  it('silent: general log or statement logging turned down, a refused change, other parameters', () => {
    const quiet = [
      modify([param('general_log', '0'), param('log_statement', 'none')]),
      modify([param('server_audit_logging', '0')], { cluster: true, errorCode: 'AccessDenied', time: t('16:05:00') }),
      modify([param('shared_preload_libraries', 'pg_stat_statements,pgaudit', 'pending-reboot'), param('pgaudit.log', 'ddl,role')], { time: t('16:10:00') }),
    ];
    expect(run(quiet)).toEqual([]);
  });

  it('other off spellings: server_audit_events emptied, audit_trail NONE, log_disconnections off', () => {
    expect(auditParametersTurnedOff({ parameters: [param('server_audit_events', ''), param('AUDIT_TRAIL', 'NONE'), param('log_disconnections', 'off')] })).toEqual([
      'server_audit_events=(empty)',
      'audit_trail=none',
      'log_disconnections=off',
    ]);
  });
});
