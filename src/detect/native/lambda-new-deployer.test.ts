import { describe, expect, it } from 'vitest';
import { ev } from '../../../test/identity/records.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { IdentityGraph } from '../../identity/graph.ts';
import type { IdentityFact } from '../../identity/types.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { NativeOptions } from './config.ts';
import { createNativeEngine } from './engine.ts';

// Records shaped as CloudTrail logs Lambda's management calls (API reference: UpdateFunctionCode,
// UpdateFunctionConfiguration, PublishLayerVersion, CreateFunction), the Stratus Red Team
// aws.persistence.lambda-overwrite-code and lambda-layer-extension calls among them with the red team working
// through an assumed role (not an IAM user).
const ID = 'seam-native-lambda-new-deployer';
const ACCOUNT = '111122223333';
const REGION = 'us-west-2';
const H = 3600_000;
const BASE = Date.parse('2026-11-02T08:00:00Z');
const at = (hours: number): string => new Date(BASE + hours * H).toISOString();
const NAT = '44.230.10.1';
const OUTSIDE = '185.220.101.1';
const CLI = 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard';
let n = 0;

function role(name: string, sessionName: string): Record<string, unknown> {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE${name.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 9).padEnd(9, 'X')}:${sessionName}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${sessionName}`,
    accountId: ACCOUNT,
    accessKeyId: `ASIAEXAMPLE${String(++n).padStart(9, '0')}`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, accountId: ACCOUNT, userName: name },
      attributes: { creationDate: '2026-11-02T07:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

function lambdaCall(identity: Record<string, unknown>, eventName: string, hours: number, rp: Record<string, unknown>, extra: Record<string, unknown> = {}): SeamEvent {
  n++;
  return ev(
    {
      eventVersion: '1.09',
      userIdentity: identity,
      eventTime: at(hours),
      eventSource: 'lambda.amazonaws.com',
      eventName,
      awsRegion: REGION,
      sourceIPAddress: NAT,
      userAgent: CLI,
      requestParameters: rp,
      responseElements: null,
      requestID: `5f0e7a1c-0000-4000-8000-${String(n).padStart(12, '0')}`,
      eventID: `9b1d2c3e-0000-4000-8000-${String(n).padStart(12, '0')}`,
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      ...extra,
    },
    undefined,
  );
}

const code = (fn: string): Record<string, unknown> => ({ functionName: fn, zipFile: 'HIDDEN_DUE_TO_SECURITY_REASONS', publish: false, dryRun: false });
const layers = (fn: string, arns: string[]): Record<string, unknown> => ({ functionName: fn, layers: arns });
const ciRun = (run: number): Record<string, unknown> => role('ci-deployer', `gha-run-${run}`);

/** Day one (the account's learning period): the pipeline deploys two functions, a person tunes memory. */
function learningDay(): SeamEvent[] {
  const out: SeamEvent[] = [];
  for (let h = 0; h < 10; h += 2) {
    out.push(lambdaCall(ciRun(4700 + h), 'UpdateFunctionCode20150331v2', h, code('orders-webhook')));
    out.push(lambdaCall(ciRun(4800 + h), 'UpdateFunctionCode20150331v2', h + 0.5, code(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:invoice-render`)));
  }
  out.push(lambdaCall(ciRun(4900), 'UpdateFunctionConfiguration20150331v2', 3, layers('orders-webhook', [`arn:aws:lambda:${REGION}:${ACCOUNT}:layer:metrics-extension:3`])));
  out.push(lambdaCall(role('Developer', 'carol@example.com'), 'UpdateFunctionConfiguration20150331v2', 4, { functionName: 'orders-webhook', memorySize: 512 }));
  return out;
}

const run = (events: SeamEvent[], config: NativeOptions = {}, graph = new IdentityGraph()): Alert[] => runNative(ID, events, { config, graph });

// Stratus aws.persistence.lambda-overwrite-code, through a plain assumed role.
const overwrite = (hours: number): SeamEvent =>
  lambdaCall({ ...role('stratus-red-team', 'aws-go-sdk-1762070400123456789') }, 'UpdateFunctionCode20150331v2', hours, code('orders-webhook'), { sourceIPAddress: OUTSIDE, userAgent: 'stratus-red-team_4f6c aws-sdk-go-v2/1.30.3' });
// Stratus aws.persistence.lambda-layer-extension: publish a layer, attach it to the function.
const layerExtension = (hours: number): SeamEvent[] => {
  const redTeam = role('stratus-red-team', 'stratus-layer-session');
  return [
    lambdaCall(redTeam, 'PublishLayerVersion20181031', hours, { layerName: 'stratus-layer-extension', content: {}, compatibleRuntimes: ['python3.12'] }, { sourceIPAddress: OUTSIDE }),
    lambdaCall(redTeam, 'UpdateFunctionConfiguration20150331v2', hours + 0.01, layers(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:invoice-render`, [`arn:aws:lambda:${REGION}:${ACCOUNT}:layer:stratus-layer-extension:1`]), {
      sourceIPAddress: OUTSIDE,
    }),
  ];
};

describe('seam-native-lambda-new-deployer', () => {
  it('medium when a role that never changed the function replaces its code or attaches a layer (Stratus overwrite-code and layer-extension as an assumed role)', () => {
    const alerts = run([...learningDay(), overwrite(30), ...layerExtension(31)]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'medium']);
    expect(alerts[0]!.summary).toContain(`(arn:aws:iam::${ACCOUNT}:role/stratus-red-team) replaced the code of Lambda function orders-webhook`);
    expect(alerts[0]!.summary).toContain(`usually changed by arn:aws:iam::${ACCOUNT}:role/ci-deployer`);
    expect(alerts[1]!.summary).toContain('attached layers to Lambda function invoice-render');
    expect(alerts[0]!.rule.tags).toEqual(expect.arrayContaining(['attack.persistence', 'attack.t1525']));
    // The triage text names who, which function, from where and the commands with the real names, not field paths.
    expect(alerts[0]!.triage).toContain(`role/stratus-red-team (aws-go-sdk-1762070400123456789) replaced the code of orders-webhook from ${OUTSIDE} with “stratus-red-team_4f6c`);
    expect(alerts[0]!.triage).toContain('it is usually changed by role/ci-deployer.');
    expect(alerts[0]!.triage).toContain('aws lambda list-versions-by-function --function-name orders-webhook');
    expect(alerts[0]!.triage).toContain('find how role/stratus-red-team’s credentials were obtained');
    expect(alerts[1]!.triage).toContain(`role/stratus-red-team (stratus-layer-session) set the layers of invoice-render to stratus-layer-extension:1 from ${OUTSIDE}`);
    for (const a of alerts) expect(a.triage).not.toMatch(/requestParameters|responseElements|userIdentity/);
  });

  it('medium when a role that never changed the function adds a permission to its resource policy (Stratus lambda-backdoor-function, and a same-account grant)', () => {
    const grant = (who: Record<string, unknown>, hours: number, principal: string): SeamEvent =>
      lambdaCall(who, 'AddPermission20150331v2', hours, { functionName: 'orders-webhook', statementId: `grant-${hours}`, action: 'lambda:InvokeFunction', principal }, { sourceIPAddress: OUTSIDE });
    const alerts = run([...learningDay(), grant(role('stratus-red-team', 'stratus-backdoor'), 30, '*'), grant(role('Developer', 'dave@example.com'), 31, `arn:aws:iam::${ACCOUNT}:role/reporting`)]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'medium']);
    expect(alerts[0]!.summary).toContain('added a resource-policy permission to Lambda function orders-webhook');
    expect(alerts[0]!.triage).toContain(`role/stratus-red-team (stratus-backdoor) added statement grant-30 to orders-webhook’s resource policy from ${OUTSIDE}`);
    expect(alerts[0]!.triage).toContain(': * may lambda:InvokeFunction;');
    expect(alerts[0]!.triage).toContain('Is * one of your accounts or services, and what can orders-webhook’s execution role reach?');
    expect(alerts[0]!.triage).toContain('aws lambda remove-permission --function-name orders-webhook --statement-id grant-30');
    expect(alerts[1]!.triage).toContain(`arn:aws:iam::${ACCOUNT}:role/reporting may lambda:InvokeFunction`);
    // The deployer wiring a trigger of its own function, and a refused grant, stay silent.
    const quiet = [
      ...learningDay(),
      grant(ciRun(5200), 30, 'events.amazonaws.com'),
      lambdaCall(role('Developer', 'dave@example.com'), 'AddPermission20150331v2', 31, { functionName: 'orders-webhook', statementId: 's3', action: 'lambda:InvokeFunction', principal: 's3.amazonaws.com' }, { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }),
    ];
    expect(run(quiet)).toEqual([]);
  });

  it('once per principal and function: the same role changing it again is its own deployer now', () => {
    expect(run([...learningDay(), overwrite(30), overwrite(30.2)])).toHaveLength(1);
  });

  it('silent: the usual CI role in a new run session, the creator of a new function, a config change without layers, a failed call, CloudFormation', () => {
    const quiet = [
      ...learningDay(),
      lambdaCall(ciRun(5100), 'UpdateFunctionCode20150331v2', 30, code('orders-webhook')),
      lambdaCall(ciRun(5101), 'UpdateFunctionConfiguration20150331v2', 30.1, layers('invoice-render', [`arn:aws:lambda:${REGION}:${ACCOUNT}:layer:metrics-extension:4`])),
      // A new function: its creator deploys it.
      lambdaCall(ciRun(5102), 'CreateFunction20150331', 31, { functionName: 'refund-worker', runtime: 'python3.12', role: `arn:aws:iam::${ACCOUNT}:role/refund-worker`, handler: 'app.handler' }),
      lambdaCall(ciRun(5103), 'UpdateFunctionCode20150331v2', 32, code('refund-worker')),
      // Another principal: configuration without layers, a denied code change.
      lambdaCall(role('Developer', 'dave@example.com'), 'UpdateFunctionConfiguration20150331v2', 33, { functionName: 'orders-webhook', timeout: 30 }),
      lambdaCall(role('Developer', 'dave@example.com'), 'UpdateFunctionCode20150331v2', 33.1, code('orders-webhook'), { errorCode: 'AccessDeniedException', errorMessage: 'not authorized' }),
      // CloudFormation deploying a stack update through its service role: no source address of a principal.
      lambdaCall(role('cfn-exec', 'AWSCloudFormation'), 'UpdateFunctionCode20150331v2', 34, code('orders-webhook'), { sourceIPAddress: 'cloudformation.amazonaws.com', userAgent: 'cloudformation.amazonaws.com' }),
    ];
    expect(run(quiet)).toEqual([]);
  });

  it('silent during the learning period', () => {
    expect(run([...learningDay(), overwrite(12), ...layerExtension(13)])).toEqual([]);
  });

  it('keeps who deploys what across a restart (identity facts rebuilt from seam.identity)', () => {
    const published: IdentityFact[] = [];
    const first = createNativeEngine({ only: [ID], onFacts: (fs) => published.push(...fs) });
    for (const e of learningDay()) expect(first.process(e)).toEqual([]);
    expect(published.filter((f) => f.kind === 'changed_function').map((f) => `${f.from} ${f.to}`).sort()).toEqual([
      `arn:aws:iam::${ACCOUNT}:role/ci-deployer lambda:${ACCOUNT}:${REGION}:invoice-render`,
      `arn:aws:iam::${ACCOUNT}:role/ci-deployer lambda:${ACCOUNT}:${REGION}:orders-webhook`,
    ]);
    const g = new IdentityGraph();
    g.applyFacts(published);
    const day2 = [lambdaCall(ciRun(6000), 'UpdateFunctionCode20150331v2', 30, code('orders-webhook')), overwrite(31)];
    expect(run(day2, {}, g).map((a) => a.rule.id)).toEqual([ID]);
    // Without the facts the account would be new again: learning, silent.
    expect(run(day2)).toEqual([]);
  });

  it('raises nothing at medium or above over three days of the benign corpus', async () => {
    const { generateBenignCorpus } = await import('../../../test/noise/benign-corpus.ts');
    const { normalizeLine } = await import('../../core/normalize/normalize.ts');
    const engine = createNativeEngine({ only: [ID] });
    let lambdaChanges = 0;
    const alerts: Alert[] = [];
    for (const line of generateBenignCorpus().prod) {
      if (!line.includes('"eventSource"')) continue;
      const r = normalizeLine(line, { collector: 'test', receivedAt: '2026-11-05T00:00:00.000Z', cluster: 'prod-eks-01' });
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      if (r.value.eventSource === 'lambda.amazonaws.com' && /^(UpdateFunction|CreateFunction)/.test(String(r.value.eventName))) lambdaChanges++;
      alerts.push(...engine.process(r.value));
    }
    alerts.push(...engine.flush());
    expect(engine.stats().errors).toEqual({});
    expect(alerts.map((a) => a.summary)).toEqual([]);
    console.log(`lambda-new-deployer benign corpus: lambda function changes=${lambdaChanges} alerts=${alerts.length}`);
  }, 60_000);
});
