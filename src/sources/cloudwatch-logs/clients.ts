import { CloudWatchLogs, type CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { awsClientOptions } from '../aws/client.ts';
import type { CloudWatchLogsSourceConfig } from './config.ts';
import type { ResolvedGroup } from './parse.ts';
import type { FilterLogEventsApi } from './source.ts';

/**
 * The CloudWatch Logs client for each log group: the pod's own credentials for groups without `roleArn`, and
 * one client per distinct (roleArn, externalId) whose credentials come from sts:AssumeRole, called with the
 * pod's own credentials (IRSA / Pod Identity, or `credentials` when given, e.g. moto's in tests). The SDK's
 * temporary-credentials provider is memoized by the client and assumes the role again shortly before the
 * credentials expire. Only the CloudWatch Logs reads use the roles: the Kafka and OpenSearch clients never see
 * them.
 */
export function cloudWatchLogsClients(
  config: CloudWatchLogsSourceConfig,
  opts: { credentials?: CloudWatchLogsClientConfig['credentials']; own?: FilterLogEventsApi } = {},
): (group: ResolvedGroup) => FilterLogEventsApi {
  const base = { ...awsClientOptions(config), ...(opts.credentials === undefined ? {} : { credentials: opts.credentials }) };
  let own = opts.own;
  const byRole = new Map<string, FilterLogEventsApi>();
  return (group) => {
    if (group.roleArn === undefined) return (own ??= new CloudWatchLogs(base));
    const key = `${group.roleArn}|${group.externalId ?? ''}`;
    let client = byRole.get(key);
    if (client === undefined) {
      const credentials = fromTemporaryCredentials({
        params: {
          RoleArn: group.roleArn,
          RoleSessionName: config.roleSessionName,
          ...(group.externalId === undefined ? {} : { ExternalId: group.externalId }),
        },
        ...(opts.credentials === undefined ? {} : { masterCredentials: opts.credentials }),
        clientConfig: {
          ...(config.region ? { region: config.region } : {}),
          ...(config.stsEndpoint ? { endpoint: config.stsEndpoint } : {}),
          maxAttempts: config.maxAttempts,
          retryMode: config.retryMode,
        },
      });
      client = new CloudWatchLogs({ ...base, credentials });
      byRole.set(key, client);
    }
    return client;
  };
}
