import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A site's own rule that needs a placeholders file (`%site_admins%`), as users keep them beside seam.yml:
 * the fixture the CLI tests for rule paths, placeholders and `rules test` share.
 */
export const SITE_ADMIN_ARN = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';

/** The placeholders file's text: `site_admins` lists SITE_ADMIN_ARN. */
export const SITE_PLACEHOLDERS = `site_admins: ['${SITE_ADMIN_ARN}']\n`;

/** A CloudTrail CreateUser made by SITE_ADMIN_ARN: the record the site rule matches. */
export const SITE_CREATE_USER = {
  eventVersion: '1.08',
  eventTime: '2026-01-01T00:00:00Z',
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateUser',
  awsRegion: 'us-east-1',
  eventID: 'e1',
  recipientAccountId: '111122223333',
  userIdentity: { type: 'AssumedRole', arn: SITE_ADMIN_ARN, accountId: '111122223333' },
};

/** Writes `site_user_created.yml` (rule id `id`) into `folder` and returns its path. */
export function writeSiteRule(folder: string, id: string): string {
  const path = join(folder, 'site_user_created.yml');
  writeFileSync(
    path,
    `title: Site User Created
id: ${id}
status: test
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: CreateUser
        userIdentity.arn|expand: '%site_admins%'
    condition: selection
falsepositives:
    - the site's admins at work
level: low
`,
  );
  return path;
}
