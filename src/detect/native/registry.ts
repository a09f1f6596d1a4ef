/** Every native detection, listed once (no registration by import side effect). */
import { accessEntryGrant } from './access-entry-grant.ts';
import { auditLoggingDisabled } from './audit-logging-disabled.ts';
import { awsAuthBackdoor } from './aws-auth-backdoor.ts';
import { containerAdded } from './container-added.ts';
import { consoleSessionShared } from './console-session-shared.ts';
import { deviceCodeTokenElsewhere } from './device-code-token-elsewhere.ts';
import { ec2BulkStop } from './ec2-bulk-stop.ts';
import { ecrNewPusher } from './ecr-new-pusher.ts';
import { ecsTaskCredsOutsideAws } from './ecs-task-creds-outside-aws.ts';
import { execThenAws } from './exec-then-aws.ts';
import { findingHiddenByItsSubject } from './finding-hidden-by-its-subject.ts';
import { guardDutyIncident } from './guardduty-incident.ts';
import { iamRbacDrift } from './iam-rbac-drift.ts';
import { impossibleTravel } from './impossible-travel.ts';
import { instanceCredsOutsideAws } from './instance-creds-outside-aws.ts';
import { irsaOverpermission } from './irsa-overpermission.ts';
import { lambdaCredsOutsideAws } from './lambda-creds-outside-aws.ts';
import { k8sNodeIdentityMoved } from './k8s-node-identity-moved.ts';
import { k8sNodeIdentityOutsideAws } from './k8s-node-identity-outside-aws.ts';
import { k8sSaTokenFromUnknownAwsAddress } from './k8s-sa-token-from-unknown-aws-address.ts';
import { k8sSaTokenOutsideAws } from './k8s-sa-token-outside-aws.ts';
import { lambdaNewDeployer } from './lambda-new-deployer.ts';
import { listedAddress } from './listed-address.ts';
import { newNetwork } from './new-network.ts';
import { newRegion } from './new-region.ts';
import { newClient, newK8sAction, newSecretVerb, newService } from './new-terms.ts';
import { nodeCredsOffNode } from './node-creds-off-node.ts';
import { rdsAuditLoggingOff } from './rds-audit-logging-off.ts';
import { runtimeSensorSequenceRegression, runtimeSensorSilent } from './runtime-sensor-silent.ts';
import { resourcePolicyOpenStatement } from './resource-policy-open-statement.ts';
import { s3CopyCrossAccount } from './s3-copy-cross-account.ts';
import { s3ForeignAccountAccess } from './s3-foreign-account-access.ts';
import { saTokenOffCluster } from './sa-token-off-cluster.ts';
import { secretsFirstReadBurst } from './secrets-first-read-burst.ts';
import { ssmBulkDecrypt } from './ssm-bulk-decrypt.ts';
import { ssoRoleCredentialsSweep } from './sso-role-credentials-sweep.ts';
import type { AnyNativeDetection } from './types.ts';
import { webIdentityCredsElsewhere } from './web-identity-creds-elsewhere.ts';
import { webIdentityExchangeNewNetwork } from './web-identity-exchange-new-network.ts';
import { workloadCredsOffCluster } from './workload-creds-off-cluster.ts';

/** Every native detection, in the order the engine runs them. */
export const NATIVE_DETECTION_LIST: readonly AnyNativeDetection[] = [
  workloadCredsOffCluster,
  nodeCredsOffNode,
  k8sNodeIdentityOutsideAws,
  k8sNodeIdentityMoved,
  k8sSaTokenOutsideAws,
  k8sSaTokenFromUnknownAwsAddress,
  execThenAws,
  awsAuthBackdoor,
  accessEntryGrant,
  iamRbacDrift,
  irsaOverpermission,
  saTokenOffCluster,
  auditLoggingDisabled,
  guardDutyIncident,
  instanceCredsOutsideAws,
  ecsTaskCredsOutsideAws,
  webIdentityCredsElsewhere,
  webIdentityExchangeNewNetwork,
  lambdaCredsOutsideAws,
  newNetwork,
  newRegion,
  newService,
  newClient,
  newSecretVerb,
  newK8sAction,
  impossibleTravel,
  listedAddress,
  s3CopyCrossAccount,
  s3ForeignAccountAccess,
  lambdaNewDeployer,
  ecrNewPusher,
  resourcePolicyOpenStatement,
  ssmBulkDecrypt,
  secretsFirstReadBurst,
  deviceCodeTokenElsewhere,
  ssoRoleCredentialsSweep,
  findingHiddenByItsSubject,
  rdsAuditLoggingOff,
  ec2BulkStop,
  consoleSessionShared,
  containerAdded,
  runtimeSensorSilent,
  runtimeSensorSequenceRegression,
];

/** The native detections by id (the registry test checks that ids are unique, so none hides another here). */
export const NATIVE_DETECTIONS: Readonly<Record<string, AnyNativeDetection>> = Object.fromEntries(NATIVE_DETECTION_LIST.map((d) => [d.id, d]));
