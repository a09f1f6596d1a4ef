import { describe, expect, it } from 'vitest';
import { alice, callAs, ev, t, type CtOpts } from '../../../test/identity/records.ts';
import type { Alert } from '../alert.ts';
import { runNative } from '../../../test/helpers/native.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { instanceIds } from './ec2-bulk-stop.ts';

// StopInstances / TerminateInstances as CloudTrail logs them: requestParameters.instancesSet.items[].instanceId.
const id = 'seam-native-ec2-bulk-stop';

const run = (events: SeamEvent[]): Alert[] => runNative(id, events);

const ids = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `i-0a1b2c3d4e5f${(0x10000 + from + i).toString(16)}`);
const items = (list: string[]) => ({ items: list.map((instanceId) => ({ instanceId })) });

function call(name: 'StopInstances' | 'TerminateInstances', list: string[], time = t('16:00:00'), extra: Partial<CtOpts> = {}, identity = alice): SeamEvent {
  return ev(callAs(identity, 'ec2.amazonaws.com', name, time, undefined, { instancesSet: items(list), ...(name === 'StopInstances' ? { force: false } : {}) }, extra), undefined);
}

describe('many EC2 instances stopped or terminated in one call', () => {
  it('alerts (medium) when one call stops twelve instances, and when one call terminates ten', () => {
    const alerts = run([call('StopInstances', ids(12)), call('TerminateInstances', ids(10, 100), t('16:05:00'))]);
    expect(alerts.map((a) => a.rule.level)).toEqual(['medium', 'medium']);
    expect(alerts[0]!.summary).toContain('stopped 12 EC2 instances in one call');
    expect(alerts[1]!.summary).toContain('terminated 10 EC2 instances in one call');
    // The triage text names the instances and what to do for the call made (SOC review M4).
    expect(alerts[0]!.triage).toMatch(/stopped 12 instances from \S+.*: i-\w+, .*, and 2 more\. /);
    expect(alerts[0]!.triage).toContain('start them again');
    expect(alerts[1]!.triage).toContain('restore them from AMIs and snapshots');
    expect(alerts[1]!.triage).not.toContain('requestParameters');
    expect(alerts[0]!.rule.tags).toContain('attack.t1529');
  });

  it('silent: nine instances, a scheduler stopping four, a dry run, a refused call, Auto Scaling, Karpenter', () => {
    const autoscaling = { identity: { type: 'AssumedRole', principalId: 'AROAAUTOSCALING:AutoScaling', arn: 'arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling', accountId: '111122223333', invokedBy: 'autoscaling.amazonaws.com', sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAAUTOSCALING', arn: 'arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling', accountId: '111122223333', userName: 'AWSServiceRoleForAutoScaling' } } }, ip: 'autoscaling.amazonaws.com', userAgent: 'autoscaling.amazonaws.com' };
    const quiet = [
      call('StopInstances', ids(9)),
      call('StopInstances', ids(4, 50), t('16:01:00')),
      call('StopInstances', ids(15, 200), t('16:02:00'), { errorCode: 'Client.DryRunOperation' }),
      call('TerminateInstances', ids(15, 300), t('16:03:00'), { errorCode: 'Client.UnauthorizedOperation' }),
      call('TerminateInstances', ids(20, 400), t('16:04:00'), autoscaling),
      // Karpenter consolidating a node pool after a batch run: its SDK user agent names it.
      call('TerminateInstances', ids(14, 500), t('16:06:00'), { userAgent: 'aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.198.1 karpenter.sh-1.1.1' }),
    ];
    expect(run(quiet)).toEqual([]);
  });

  it('counts distinct ids in either list shape', () => {
    expect(instanceIds({ instancesSet: items(['i-1', 'i-2', 'i-1']) })).toEqual(['i-1', 'i-2']);
    expect(instanceIds({ instanceIds: ['i-1', 'i-2', 'i-3'] })).toEqual(['i-1', 'i-2', 'i-3']);
    expect(instanceIds(null)).toEqual([]);
  });
});
