import { z } from 'zod';

/**
 * One CloudTrail record (eventVersion 1.0x), as delivered in an S3 object's `Records` array, in a
 * CloudTrail log group, or by LookupEvents' CloudTrailEvent string. Loose: unknown fields are kept.
 * Only eventSource and eventName are required: records cut down by other tools (detection test
 * suites, data-lake exports) often lack eventID, eventVersion, recipientAccountId or even eventTime,
 * and a record Seam rejects is a record no rule can see. Lower-cased keys (`eventsource`) are accepted
 * and renamed before mapping.
 */

export const SessionIssuer = z
  .looseObject({
    type: z.string().optional().describe('Role, IAMUser or Root.'),
    principalId: z.string().optional(),
    arn: z.string().optional().describe('ARN of the role (with its path) that issued the session.'),
    accountId: z.string().optional(),
    userName: z.string().optional().describe('Role name.'),
  })
  .describe('Who issued the temporary credentials.');

export const SessionContext = z
  .looseObject({
    sessionIssuer: SessionIssuer.optional(),
    webIdFederationData: z
      .looseObject({
        federatedProvider: z.string().optional().describe('OIDC provider, e.g. arn:aws:iam::<acct>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<ID>.'),
        attributes: z.record(z.string(), z.unknown()).optional(),
      })
      .optional()
      .describe('Web identity federation details for sessions from AssumeRoleWithWebIdentity.'),
    attributes: z
      .looseObject({
        creationDate: z.string().optional().describe('When the credentials were issued.'),
        mfaAuthenticated: z.string().optional().describe('"true" or "false".'),
      })
      .optional(),
    sourceIdentity: z.string().optional(),
    ec2RoleDelivery: z.string().optional(),
  })
  .describe('Temporary-credential context.');

export const UserIdentity = z
  .looseObject({
    type: z.string().describe('IAMUser, AssumedRole, Root, AWSService, AWSAccount, FederatedUser, WebIdentityUser, SAMLUser, IdentityCenterUser, Unknown.'),
    principalId: z.string().optional(),
    arn: z.string().optional(),
    accountId: z.string().optional(),
    accessKeyId: z.string().optional().describe('AKIA... (long-term) or ASIA... (temporary).'),
    userName: z.string().optional().describe('IAM user name; for WebIdentityUser the token subject, e.g. system:serviceaccount:<ns>:<sa>.'),
    sessionContext: SessionContext.optional(),
    invokedBy: z.string().optional().describe('Service that made the call on the principal\'s behalf.'),
    identityProvider: z.string().optional().describe('For WebIdentityUser/SAMLUser: the identity provider.'),
  })
  .describe('Who made the request.');

export const CloudTrailRecord = z
  .looseObject({
    eventVersion: z.string().optional().describe('Record format version, e.g. 1.09.'),
    userIdentity: UserIdentity.optional(),
    eventTime: z
      .string()
      .optional()
      .describe('When the request completed, ISO 8601 UTC (second precision); a time without a zone is UTC. When absent: p_event_time, else a Logstash @timestamp, else the time Seam received the record (and seam.time_missing is true).'),
    eventSource: z.string().describe('Service endpoint, e.g. sts.amazonaws.com.'),
    eventName: z.string().describe('API action, e.g. AssumeRoleWithWebIdentity.'),
    awsRegion: z.string().optional().describe('Region the request was made to.'),
    sourceIPAddress: z.string().optional().describe('Caller IP, or a service name for calls made by AWS services.'),
    userAgent: z.string().optional(),
    errorCode: z.string().optional().describe('Present when the call failed, e.g. AccessDenied.'),
    errorMessage: z.string().optional(),
    requestParameters: z.record(z.string(), z.unknown()).nullable().optional().describe('Request parameters; open-ended.'),
    responseElements: z.record(z.string(), z.unknown()).nullable().optional().describe('Response elements of write calls; open-ended.'),
    additionalEventData: z.unknown().optional(),
    requestID: z.string().optional(),
    eventID: z.string().optional().describe('Unique GUID of this record (the dedup id); when absent, a SHA-256 of the canonical record is.'),
    eventType: z.string().optional().describe('AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, AwsConsoleAction...'),
    readOnly: z.boolean().optional(),
    resources: z
      .array(z.looseObject({ ARN: z.string().optional(), accountId: z.string().optional(), type: z.string().optional() }))
      .optional(),
    recipientAccountId: z.string().optional().describe('Account that received the record.'),
    sharedEventID: z.string().optional(),
    vpcEndpointId: z.string().optional(),
    eventCategory: z.string().optional().describe('Management, Data, NetworkActivity, Insight.'),
    tlsDetails: z
      .looseObject({
        tlsVersion: z.string().optional(),
        cipherSuite: z.string().optional(),
        clientProvidedHostHeader: z.string().optional(),
      })
      .optional(),
  })
  .describe('One CloudTrail record.');
export type CloudTrailRecord = z.infer<typeof CloudTrailRecord>;

/** S3 delivery and `aws cloudtrail` exports: `{"Records":[...]}`. */
export const CloudTrailFile = z.looseObject({ Records: z.array(z.unknown()) }).describe('A CloudTrail log file.');
