// The one record both time-to-first-alert benches replay (bench/first-alert.ts, bench/peers.ts): a CloudTrail
// StopLogging call, which a rule in the SigmaHQ corpus and one in Seam's own pack match.
import { writeFileSync } from 'node:fs';

export const STOP_LOGGING_EVENT = {
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE000000001', arn: 'arn:aws:iam::111122223333:user/ops', accountId: '111122223333', userName: 'ops' },
  eventTime: '2024-11-05T14:09:12Z',
  eventSource: 'cloudtrail.amazonaws.com',
  eventName: 'StopLogging',
  awsRegion: 'us-west-2',
  sourceIPAddress: '198.51.100.7',
  userAgent: 'aws-cli/2.15.0',
  requestParameters: { name: 'org-trail' },
  responseElements: null,
  requestID: '11111111-2222-3333-4444-555555555555',
  eventID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: '111122223333',
  eventCategory: 'Management',
};

/** Writes the StopLogging record as a one-line JSONL file at `path`. */
export function writeFirstAlertEvent(path: string): void {
  writeFileSync(path, JSON.stringify(STOP_LOGGING_EVENT) + '\n');
}
