import { describe, expect, it } from 'vitest';
import { ACCOUNT, callAs, ciDeployer, ev, session, t } from '../../../test/identity/records.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import { createNativeEngine } from './engine.ts';

// A function's execution-role session as CloudTrail names it (assumed-role/<execution role>/<function name>),
// its own calls made by an AWS SDK inside Lambda (the runtime puts exec-env/AWS_Lambda_<runtime> in the user
// agent), then the same credentials from a laptop (the aws CLI) after they were read out of the environment.
const id = 'seam-native-lambda-creds-outside-aws';
const LAMBDA_EGRESS = '44.230.10.1'; // AS16509: Lambda's own addresses / a NAT gateway
const OTHER_AWS = '52.94.133.131'; // AS16509, another AWS host
const ATTACKER = '185.220.101.1'; // a hosting AS, not Amazon
const IN_LAMBDA = 'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224-233.876.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145';
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/command#s3.ls';
const PACU = 'aws-cli/1.16.301 Python/3.8.10 Linux/5.15.0 botocore/1.13.37 Pacu/1.5.2';
// The attacker sourced the whole stolen environment (AWS_EXECUTION_ENV too) on a Mac: the CLI adds the runtime's mark itself.
const STOLEN_ENV_CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#23.6.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#standard md/command#s3.ls';
const STOLEN_ENV_WINDOWS = 'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 Botocore/1.34.145';
// The same stolen environment on a Linux host: an SDK's user agent with the mark, like the function's own.
const STOLEN_ENV_LINUX = 'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 Botocore/1.34.145';
// A Go function (provided.al2023): no AWS_EXECUTION_ENV, no mark.
const GO_FN = 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2';
const ONPREM = '62.226.10.1'; // the company's own network (Deutsche Telekom): functions' egress through an on-premises firewall
const BROWSER = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const HOME = '82.132.10.20'; // a residential / mobile provider, not Amazon
/** An S3 data event's authentication: `QueryString` for a presigned URL, `AuthHeader` for a signed request. */
const s3Auth = (method: 'QueryString' | 'AuthHeader'): Record<string, unknown> => ({ eventCategory: 'Data', managementEvent: false, additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: method } });
const fn = session('image-resizer-role', 'image-resizer', 'ASIAEXAMPLELAMBDAFN1', 'AROAEXAMPLELAMBDAFN01');
const created = session('orders-fn-exec', 'orders-webhook', 'ASIAEXAMPLEORDERSFN1', 'AROAEXAMPLEORDERSFN01');

const call = (s: typeof fn, name: string, time: string, ip: string, ua: string, source = 's3.amazonaws.com', extra: Record<string, unknown> = {}): SeamEvent =>
  ev({ ...callAs(s, source, name, time, ip, null, { userAgent: ua }), ...extra }, undefined);
const own = (time: string): SeamEvent => call(fn, 'GetObject', time, LAMBDA_EGRESS, IN_LAMBDA);
const createFunction = (time: string, extra: Record<string, unknown> = {}): SeamEvent =>
  ev(
    {
      ...callAs(ciDeployer, 'lambda.amazonaws.com', 'CreateFunction20150331', time, LAMBDA_EGRESS, {
        functionName: 'orders-webhook',
        runtime: 'nodejs20.x',
        role: `arn:aws:iam::${ACCOUNT}:role/service-role/orders-fn-exec`,
        handler: 'index.handler',
      }, { userAgent: 'terraform-provider-aws/5.70.0' }),
      ...extra,
    },
    undefined,
  );

describe('Lambda execution-role credentials used from outside AWS', () => {
  it('fires (high) when a function seen calling AWS from Lambda is used by a CLI outside AWS, once per session and address', () => {
    const theft = [call(fn, 'GetCallerIdentity', t('14:20:00'), ATTACKER, CLI, 'sts.amazonaws.com'), call(fn, 'ListBuckets', t('14:20:30'), ATTACKER, CLI)];
    const alerts = runNative(id, [own(t('14:00:00')), own(t('14:05:00')), ...theft]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule.level).toBe('high');
    expect(alerts[0]!.summary).toContain('image-resizer');
    expect(alerts[0]!.summary).toContain('image-resizer-role');
    expect(alerts[0]!.summary).toContain(ATTACKER);
    expect(alerts[0]!.events).toEqual([theft[0]!.seam.id]);
    // The triage text names the function, role, key, call and address, and the commands to look and to stop it.
    const tr = alerts[0]!.triage!;
    expect(tr).toContain(`Lambda function image-resizer's execution-role session (role image-resizer-role, key ASIAEXAMPLELAMBDAFN1) called sts.amazonaws.com:GetCallerIdentity from ${ATTACKER} with “aws-cli/2.22.4`);
    expect(tr).toContain(': outside AWS.');
    expect(tr).toContain('aws lambda get-function --function-name image-resizer');
    expect(tr).toContain('aws cloudtrail lookup-events --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=ASIAEXAMPLELAMBDAFN1');
    expect(tr).toContain('aws iam put-role-policy --role-name image-resizer-role --policy-name AWSRevokeOlderSessions');
  });

  it('knows a function’s session from CreateFunction naming its execution role (a role path is not part of the session ARN)', () => {
    const alerts = runNative(id, [createFunction(t('09:00:00')), call(created, 'ListSecrets', t('14:20:00'), ATTACKER, CLI, 'secretsmanager.amazonaws.com')]);
    expect(alerts.map((a) => a.rule.id)).toEqual([id]);
    expect(alerts[0]!.summary).toContain('orders-webhook');
  });

  it('fires for an attack tool’s user agent even from an AWS address', () => {
    const alerts = runNative(id, [own(t('14:00:00')), call(fn, 'ListBuckets', t('14:10:00'), OTHER_AWS, PACU)]);
    expect(alerts.map((a) => a.rule.id)).toEqual([id]);
    expect(alerts[0]!.summary).toContain('attack tool');
  });

  it('the runtime’s mark is no alibi outside AWS: the stolen environment sourced whole on a Mac or Windows desktop alerts (high)', () => {
    const mac = call(fn, 'ListBuckets', t('14:10:00'), HOME, STOLEN_ENV_CLI);
    const win = call(fn, 'GetObject', t('14:11:00'), ATTACKER, STOLEN_ENV_WINDOWS);
    const alerts = runNative(id, [own(t('14:00:00')), mac, win]);
    expect(alerts.map((a) => a.events)).toEqual([[mac.seam.id], [win.seam.id]]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['high', 'high']);
    expect(alerts[0]!.summary).toContain('AWS_EXECUTION_ENV');
  });

  it('a network outside AWS counts as the functions’ own only when learned during the account’s learning period or configured, never on first sight', () => {
    const day2 = (hms: string): string => t(hms, 24 * 3600);
    // Day 1 (learning): the account's functions call AWS through the company's on-premises firewall.
    const learningDay = [own(t('14:00:00')), call(fn, 'PutObject', t('14:01:00'), ONPREM, IN_LAMBDA)];
    // Day 2, after the 24 h learning period: the function's marked calls and a Go function's unmarked calls (same role, session named after it) from that network: quiet.
    const goFn = session('image-resizer-role', 'thumbnailer', 'ASIAEXAMPLEGOFUNCTN1');
    const day2Own = [call(fn, 'PutObject', day2('15:00:00'), ONPREM, IN_LAMBDA), call(goFn, 'GetObject', day2('15:00:10'), LAMBDA_EGRESS, IN_LAMBDA), call(goFn, 'PutObject', day2('15:01:00'), ONPREM, GO_FN)];
    // Day 2: the stolen environment on a Linux host elsewhere, mark and all: a network never learned.
    const theft = call(fn, 'ListBuckets', day2('16:00:00'), HOME, STOLEN_ENV_LINUX);
    const alerts = runNative(id, [...learningDay, ...day2Own, theft]);
    expect(alerts.map((a) => a.events)).toEqual([[theft.seam.id]]);
    expect(alerts[0]!.summary).toContain('not seen using while learning');
    // Not on first sight: functions seen from AWS only for two days, then a marked call from outside alerts.
    const late = call(fn, 'PutObject', day2('15:00:00'), ONPREM, IN_LAMBDA);
    expect(runNative(id, [own(t('14:00:00')), own(day2('14:00:00')), late]).map((a) => a.events)).toEqual([[late.seam.id]]);
    // Configured egress (native.lambdaEgressCidrs): quiet for marked and unmarked calls; a CLI from there still alerts.
    const cfg = { config: { lambdaEgressCidrs: ['62.226.0.0/16'] } };
    expect(runNative(id, [own(t('14:00:00')), own(day2('14:00:00')), late, call(fn, 'GetObject', day2('15:01:00'), ONPREM, GO_FN)], cfg)).toEqual([]);
    const cli = call(fn, 'ListBuckets', day2('15:02:00'), ONPREM, STOLEN_ENV_CLI);
    expect(runNative(id, [own(t('14:00:00')), cli], cfg).map((a) => a.events)).toEqual([[cli.seam.id]]);
  });

  it('does not take a role the function chains into (sts:AssumeRole, fixed session name) for its execution session', () => {
    const chained = session('InventoryReader', 'inventory', 'ASIAEXAMPLECHAINED01');
    const onprem = session('InventoryReader', 'inventory', 'ASIAEXAMPLEONPREM001');
    const assumeRole = (caller: typeof fn, target: typeof fn, time: string): SeamEvent =>
      ev(callAs(caller, 'sts.amazonaws.com', 'AssumeRole', time, LAMBDA_EGRESS, { roleArn: target.roleArn, roleSessionName: target.session }, { userAgent: IN_LAMBDA, re: { credentials: { accessKeyId: target.key, expiration: 'x' }, assumedRoleUser: { assumedRoleId: `${target.roleId}:${target.session}`, arn: target.arn } } }), undefined);
    // The function (its execution session) assumes InventoryReader as "inventory" and reads with it, runtime mark and all.
    const timeline = [own(t('13:59:00')), assumeRole(fn, chained, t('14:00:00')), call(chained, 'ListBuckets', t('14:00:05'), LAMBDA_EGRESS, IN_LAMBDA)];
    // An on-premises scanner holding the same role under the same session name: not a Lambda function's credentials.
    const scanner = call(onprem, 'ListBuckets', t('15:00:00'), HOME, 'Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.15 lang/python#3.11');
    expect(runNative(id, [...timeline, scanner])).toEqual([]);
    // Near miss: the execution session itself, issued by Lambda (an AWS service's AssumeRole), is learned as before.
    const byLambda = ev(
      {
        ...callAs(fn, 'sts.amazonaws.com', 'AssumeRole', t('13:58:00'), 'lambda.amazonaws.com', { roleArn: fn.roleArn, roleSessionName: fn.session }, { userAgent: 'lambda.amazonaws.com', re: { credentials: { accessKeyId: fn.key, expiration: 'x' }, assumedRoleUser: { assumedRoleId: `${fn.roleId}:${fn.session}`, arn: fn.arn } } }),
        userIdentity: { type: 'AWSService', invokedBy: 'lambda.amazonaws.com' },
      },
      undefined,
    );
    const theft = call(fn, 'ListBuckets', t('15:00:00'), HOME, CLI);
    expect(runNative(id, [byLambda, ...timeline, theft]).map((a) => a.events)).toEqual([[theft.seam.id]]);
  });

  it('medium: a CLI or script without the runtime’s mark, or a desktop, from an AWS address using a session whose own calls carry the mark (another machine in AWS)', () => {
    const ec2Cli = call(fn, 'ListBuckets', t('14:10:00'), OTHER_AWS, CLI);
    const script = call(fn, 'GetObject', t('14:11:00'), '35.90.10.1', 'python-requests/2.32.3');
    const alerts = runNative(id, [own(t('14:00:00')), ec2Cli, script]);
    expect(alerts.map((a) => [a.rule.level, a.events])).toEqual([
      ['medium', [ec2Cli.seam.id]],
      ['medium', [script.seam.id]],
    ]);
    expect(alerts[0]!.summary).toContain('exec-env/AWS_Lambda_');
    expect(alerts[0]!.triage).toContain(`called s3.amazonaws.com:ListBuckets from ${OTHER_AWS} with “aws-cli/2.22.4`);
    expect(alerts[0]!.triage).toContain(': another machine in AWS (an EC2 host, CloudShell).');
    // Known from CreateFunction first, then its marked calls: the mark counts from then on.
    const created2 = call(created, 'GetObject', t('14:00:00'), LAMBDA_EGRESS, IN_LAMBDA);
    const copy = call(created, 'ListBuckets', t('14:10:00'), OTHER_AWS, CLI);
    expect(runNative(id, [createFunction(t('09:00:00')), created2, copy]).map((a) => [a.rule.level, a.events])).toEqual([['medium', [copy.seam.id]]]);
    // The fact keeps how and since when the session was learned (secrets-first-read-burst reads both) and adds the mark.
    const facts: IdentityFact[] = [];
    const e = createNativeEngine({ only: [id], onFacts: (fs) => facts.push(...fs) });
    e.process(createFunction(t('09:00:00')));
    e.process(created2);
    expect(facts.filter((f) => f.kind === 'lambda_execution_session').map((f) => [f.attributes.learned_from, f.attributes.first_seen, f.attributes.runtime_mark])).toEqual([
      ['CreateFunction20150331', '2024-11-05T09:00:00.000Z', undefined],
      ['CreateFunction20150331', '2024-11-05T09:00:00.000Z', true],
    ]);
  });

  it('stays quiet: the function’s own calls, a CLI with the runtime’s mark or a session known only from CreateFunction on another AWS host, a VPC endpoint, sessions never seen as a function’s, a failed CreateFunction', () => {
    const quiet = [
      own(t('14:00:00')),
      // A CLI inside Lambda inherits AWS_EXECUTION_ENV: the mark, from an AWS address (a CLI layer).
      call(fn, 'ListBuckets', t('14:02:00'), OTHER_AWS, CLI + ' exec-env/AWS_Lambda_python3.12'),
      call(fn, 'GetObject', t('14:03:00'), '10.0.4.17', CLI, 's3.amazonaws.com', { vpcEndpointId: 'vpce-0a1b2c3d' }),
      // A person's session of another role, outside AWS: not a function's.
      call(session('Developer', 'image-resizer', 'ASIAEXAMPLEDEVELOPER1'), 'ListBuckets', t('14:04:00'), ATTACKER, CLI),
      // CreateFunction refused: it taught nothing.
      createFunction(t('14:05:00'), { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }),
      call(created, 'ListSecrets', t('14:06:00'), ATTACKER, CLI, 'secretsmanager.amazonaws.com'),
    ];
    expect(runNative(id, quiet)).toEqual([]);
    // A session known only from CreateFunction (its runtime may not mark its calls) with a CLI from an AWS address.
    expect(runNative(id, [createFunction(t('14:00:00')), call(created, 'ListBuckets', t('14:02:00'), OTHER_AWS, CLI)])).toEqual([]);
  });

  it('a long-term key is not a function’s session, and an address that cannot be placed (no ASN database) stays quiet', () => {
    const raw = callAs(fn, 's3.amazonaws.com', 'ListBuckets', t('14:20:00'), ATTACKER, null, { userAgent: CLI });
    (raw.userIdentity as Record<string, unknown>).accessKeyId = 'AKIAEXAMPLELONGTERM1';
    expect(runNative(id, [own(t('14:00:00')), ev(raw, undefined)])).toEqual([]);
    expect(runNative(id, [own(t('14:00:00')), call(fn, 'ListBuckets', t('14:20:00'), ATTACKER, CLI)], { config: { asnDatabase: false } })).toEqual([]);
  });

  it('leaves out presigned-URL requests (a browser uploading through a link the function signed), not header-signed calls from the same network', () => {
    // The function hands an end user a presigned PUT URL: the data event names the function's session, the phone's address and browser.
    const upload = call(fn, 'PutObject', t('14:10:00'), HOME, BROWSER, 's3.amazonaws.com', s3Auth('QueryString'));
    expect(runNative(id, [own(t('14:00:00')), upload])).toEqual([]);
    // Near miss: the same session and address signing the request itself (keys in hand, not a link) fires.
    const signed = call(fn, 'PutObject', t('14:10:00'), HOME, BROWSER, 's3.amazonaws.com', s3Auth('AuthHeader'));
    expect(runNative(id, [own(t('14:00:00')), upload, signed]).map((a) => a.events)).toEqual([[signed.seam.id]]);
  });

  it('guards: a service acting for the session (invokedBy, a service user agent), a VPC endpoint with a public address, a private address; UpdateFunctionConfiguration with a qualified ARN teaches the function', () => {
    const quiet = [
      own(t('14:00:00')),
      // An AWS service acting with the session from a public address: invokedBy, or a service name as the user agent.
      ev(callAs(fn, 's3.amazonaws.com', 'PutObject', t('14:01:00'), ATTACKER, null, { userAgent: CLI, identity: { ...callAs(fn, 's3.amazonaws.com', 'x', t('14:01:00')).userIdentity as Record<string, unknown>, invokedBy: 'athena.amazonaws.com' } }), undefined),
      call(fn, 'PutObject', t('14:02:00'), ATTACKER, 'athena.amazonaws.com'),
      // Through a VPC endpoint, whatever address the record shows; a private address without one.
      call(fn, 'GetObject', t('14:03:00'), ATTACKER, CLI, 's3.amazonaws.com', { vpcEndpointId: 'vpce-0a1b2c3d' }),
      call(fn, 'GetObject', t('14:04:00'), '10.0.4.17', CLI),
    ];
    expect(runNative(id, quiet)).toEqual([]);
    // Each guard alone: the same calls without it alert.
    expect(runNative(id, [own(t('14:00:00')), call(fn, 'PutObject', t('14:01:00'), ATTACKER, CLI)])).toHaveLength(1);
    const update = ev(
      callAs(ciDeployer, 'lambda.amazonaws.com', 'UpdateFunctionConfiguration20150331v2', t('09:00:00'), LAMBDA_EGRESS, { functionName: `arn:aws:lambda:us-west-2:${ACCOUNT}:function:orders-webhook:live`, role: `arn:aws:iam::${ACCOUNT}:role/orders-fn-exec` }, { userAgent: 'terraform-provider-aws/5.70.0' }),
      undefined,
    );
    const theft = call(created, 'ListSecrets', t('14:20:00'), ATTACKER, CLI, 'secretsmanager.amazonaws.com');
    expect(runNative(id, [update, theft]).map((a) => a.events)).toEqual([[theft.seam.id]]);
  });

  it('remembers a function’s session across a restart (identity facts rebuilt from seam.identity)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [id], onFacts: (fs) => published.push(...fs) });
    expect(first.process(own(t('14:00:00')))).toEqual([]);
    expect(first.process(createFunction(t('14:01:00')))).toEqual([]);
    expect(published.filter((f) => f.kind === 'lambda_execution_session').map((f) => `${f.from} ${f.to}`).sort()).toEqual([
      `arn:aws:sts::${ACCOUNT}:assumed-role/image-resizer-role/image-resizer arn:aws:iam::${ACCOUNT}:role/image-resizer-role`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/orders-fn-exec/orders-webhook arn:aws:iam::${ACCOUNT}:role/orders-fn-exec`,
    ]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const later = [call(fn, 'ListBuckets', t('16:00:00'), ATTACKER, CLI), call(created, 'ListSecrets', t('16:01:00'), ATTACKER, CLI, 'secretsmanager.amazonaws.com')];
    expect(runNative(id, later, { graph: g })).toHaveLength(2);
    // Without the facts nothing marks these sessions as a function's.
    expect(runNative(id, later)).toEqual([]);
  });
});
