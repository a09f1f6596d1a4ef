/**
 * Every AWS, EKS and Kubernetes technique of Stratus Red Team (snapshot of 2026-08-19), the detections of
 * Seam's pack that catch it (Sigma rule or correlation names, `seam-native-*` ids), the events they key on and
 * how that was verified. `seam coverage` renders this as the Stratus table of docs/coverage.md with each
 * detection's level read from its rule file or the native registry, and fails a technique none of whose
 * detections is at medium or above. Edit here, then run `seam coverage --doc docs/coverage.md`.
 */
export interface StratusTechnique {
  technique: string;
  /** Text after the id in the table's first column (e.g. "(older id of the above)"). */
  note?: string;
  detections: string[];
  keysOn: string;
  verified: string;
}

export const STRATUS_TECHNIQUES: readonly StratusTechnique[] = [
  {
    technique: "aws.credential-access.ec2-get-password-data",
    detections: ["ct_ec2_password_data_request_denied", "corr_ec2_password_data_requested_for_many_instances"],
    keysOn: "ec2 GetPasswordData refused; or ≥ 5 distinct instanceId per identity in 10 min (allowed or refused)",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.credential-access.ec2-steal-instance-credentials",
    detections: ["corr_ssm_shell_command_then_instance_credentials_from_sender_address", "ct_ssm_send_command_runs_shell_script", "seam-native-instance-creds-outside-aws"],
    keysOn: "ssm SendCommand AWS-RunShellScript by a non-instance principal, then calls by the instance role session (`…/i-…`) from the sender's address within 30 min; native: the instance session used from outside AWS",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.credential-access.secretsmanager-batch-retrieve-secrets",
    detections: ["ct_secrets_manager_batch_read_by_filter", "ct_secrets_manager_batch_read_with_negated_filter"],
    keysOn: "secretsmanager BatchGetSecretValue with `filters` (all values `!`-negated = catch-all: high)",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.credential-access.secretsmanager-retrieve-secrets",
    detections: ["corr_secrets_harvested_from_secrets_manager_and_parameter_store"],
    keysOn: "≥ 10 distinct secrets / decrypted parameters read (GetSecretValue, BatchGetSecretValue, SSM withDecryption) per identity in 10 min; infrastructure code reading back what it manages (Terraform/Pulumi user agent with a version-pinned GetSecretValue or one GetParameter per parameter) not counted",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.credential-access.ssm-retrieve-securestring-parameters",
    detections: ["corr_ssm_parameters_listed_then_read_with_decryption", "seam-native-ssm-bulk-decrypt", "ct_ssm_all_parameters_read_recursively", "corr_secrets_harvested_from_secrets_manager_and_parameter_store"],
    keysOn: "ssm DescribeParameters (not a lookup by exact name) then GetParameter(s)/GetParametersByPath withDecryption=true by one identity in 10 min; GetParameters decrypting ≥ 5 names in one call by a non-workload; GetParametersByPath path=/ recursive, decrypted",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.cloudtrail-delete",
    detections: ["ct_cloudtrail_logging_stopped_or_trail_deleted", "ct_cloudtrail_switch_off_attempt_failed"],
    keysOn: "cloudtrail DeleteTrail, no errorCode; failed for a reason other than a refusal (e.g. TrailNotFoundException), not Terraform/Pulumi destroying a trail already gone",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.cloudtrail-event-selectors",
    detections: ["ct_cloudtrail_management_events_excluded", "ct_cloudtrail_trail_or_event_selectors_modified"],
    keysOn: "PutEventSelectors with every selector includeManagementEvents=false or read-only only; PutAdvancedEventSelectors without Management; UpdateTrail narrowing regions/global events",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.cloudtrail-lifecycle-rule",
    detections: ["ct_s3_lifecycle_rule_expires_logs_quickly", "ct_s3_lifecycle_rule_removes_noncurrent_versions_within_a_day"],
    keysOn: "s3 PutBucketLifecycle(Configuration), enabled rule with Expiration.Days ≤ 1 (≤ 7 on log-named buckets), or NoncurrentDays ≤ 1",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.defense-evasion.cloudtrail-stop",
    detections: ["ct_cloudtrail_logging_stopped_or_trail_deleted", "ct_cloudtrail_switch_off_attempt_failed"],
    keysOn: "cloudtrail StopLogging, no errorCode; or failed for a reason other than a refusal (e.g. TrailNotFoundException)",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.dns-delete-logs",
    detections: ["ct_route53_resolver_query_logging_deleted"],
    keysOn: "route53resolver Delete/DisassociateResolverQueryLogConfig, route53 DeleteQueryLoggingConfig",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.organizations-leave",
    detections: ["ct_organizations_leave_attempted"],
    keysOn: "organizations LeaveOrganization, allowed or denied",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.defense-evasion.vpc-remove-flow-logs",
    detections: ["ct_vpc_flow_logs_deleted"],
    keysOn: "ec2 DeleteFlowLogs, no errorCode",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.discovery.ec2-download-user-data",
    detections: ["ct_ec2_user_data_read_denied", "ct_ec2_instance_user_data_read_outside_infrastructure_code", "corr_ec2_user_data_read_for_many_instances"],
    keysOn: "ec2 DescribeInstanceAttribute attribute=userData: refused (console excluded), read by anyone but AWS, CloudFormation or Terraform, or ≥ 5 distinct instances per identity in 10 min",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.discovery.ec2-enumerate-from-instance",
    detections: ["corr_instance_credentials_used_for_account_discovery", "corr_account_inventory_discovery_burst", "corr_caller_identity_checked_then_account_inventoried"],
    keysOn: "≥ 5 distinct account-wide List/Describe calls by an instance session (`…/i-…`) in 10 min; ≥ 10 by any identity; GetCallerIdentity then listings",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.discovery.ses-enumerate",
    detections: ["corr_ses_enumeration_by_one_identity"],
    keysOn: "≥ 3 distinct SES account reconnaissance calls (GetAccountSendingEnabled, GetSendQuota, ListIdentities, …) per identity in 10 min (console sessions and AWS services left out)",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.execution.ec2-launch-unusual-instances",
    detections: ["ct_ec2_accelerated_instance_launched", "corr_accelerated_instances_requested_in_many_regions", "corr_ec2_instances_launched_in_many_regions", "ct_ec2_many_instances_requested_in_one_call"],
    keysOn: "RunInstances / RequestSpotInstances / CreateFleet of GPU/accelerator types (p, g, inf, trn, dl, f, vt1), allowed or over limit; in ≥ 3 regions in 30 min; maxCount ≥ 10",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.execution.ec2-user-data",
    detections: ["ct_ec2_instance_user_data_modified", "corr_ec2_user_data_modified_between_stop_and_start"],
    keysOn: "ec2 ModifyInstanceAttribute userData; StopInstances → userData change → StartInstances by one identity within 1 h",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.execution.sagemaker-update-lifecycle-config",
    detections: ["ct_sagemaker_notebook_lifecycle_config_attached"],
    keysOn: "sagemaker UpdateNotebookInstance with lifecycleConfigName; UpdateNotebookInstanceLifecycleConfig",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.execution.ssm-send-command",
    detections: ["ct_ssm_send_command_runs_shell_script", "corr_ssm_shell_commands_sent_to_many_instances"],
    keysOn: "ssm SendCommand with AWS-RunShellScript / RunPowerShellScript / RunRemoteScript, not by SSM itself (no userIdentity needed); ≥ 3 instance lists per identity in 15 min",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.execution.ssm-start-session",
    detections: ["corr_ssm_sessions_to_many_instances"],
    keysOn: "ssm StartSession / ResumeSession to ≥ 3 distinct targets per identity in 15 min",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.exfiltration.ec2-security-group-open-port-22-ingress",
    detections: ["ct_security_group_ingress_opened_to_internet_on_admin_port"],
    keysOn: "ec2 AuthorizeSecurityGroupIngress from 0.0.0.0/0 or ::/0 on a range covering 22 or 3389, or all protocols",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.exfiltration.ec2-share-ami",
    detections: ["ct_ami_shared_with_another_account"],
    keysOn: "ec2 ModifyImageAttribute launchPermission add: a 12-digit account id or group=all",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.exfiltration.ec2-share-ebs-snapshot",
    detections: ["ct_ebs_snapshot_shared_with_another_account", "ct_ebs_shared_snapshot_copied_or_mounted_by_another_account"],
    keysOn: "ec2 ModifySnapshotAttribute createVolumePermission add: account id or all; the other account copying or mounting it",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.exfiltration.rds-share-snapshot",
    detections: ["ct_rds_snapshot_shared_with_another_account"],
    keysOn: "rds ModifyDB(Cluster)SnapshotAttribute attributeName=restore, valuesToAdd an account id or all",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.exfiltration.s3-backdoor-bucket-policy",
    detections: ["ct_s3_bucket_policy_grants_access_to_another_account", "ct_s3_bucket_policy_allows_public_access"],
    keysOn: "s3 PutBucketPolicy with a foreign account principal (not the caller's or recipient's, not ELB log delivery / CloudFront OAI); an unconditioned Allow for \"*\"",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.impact.bedrock-invoke-model",
    detections: ["ct_bedrock_model_access_enabled", "corr_bedrock_model_enabled_then_invoked"],
    keysOn: "bedrock PutUseCaseForModelAccess / CreateFoundationModelAgreement / PutFoundationModelEntitlement; then InvokeModel/Converse by the same identity within 1 h",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.impact.ec2-deregister-ami",
    detections: ["ct_ami_deregistered_by_a_person"],
    keysOn: "ec2 DeregisterImage by an IAM user, root, federated user or SSO session (pipeline roles excluded: see \"Not covered\")",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.impact.s3-ransomware-batch-deletion",
    detections: ["corr_s3_object_versions_listed_then_deleted_in_batch", "ct_s3_ransom_note_like_object_uploaded"],
    keysOn: "S3 data events: ListObjectVersions then DeleteObjects, same identity and bucket, 10 min; PutObject of a ransom-note-like key",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.impact.s3-ransomware-client-side-encryption",
    detections: ["ct_s3_object_rewritten_with_customer_provided_key", "corr_s3_objects_rewritten_with_customer_provided_key_in_bulk"],
    keysOn: "S3 data events: CopyObject with SSE-C (x-amz-server-side-encryption-customer-algorithm, or additionalEventData.SSEApplied SSE_C); ≥ 10 per identity and bucket in 10 min",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.impact.s3-ransomware-individual-deletion",
    detections: ["corr_s3_many_objects_deleted_by_one_identity", "ct_s3_ransom_note_like_object_uploaded"],
    keysOn: "S3 data events: ≥ 30 DeleteObject by one identity on one bucket in 10 min; ransom-note-like PutObject",
    verified: "test case from the technique page",
  },
  {
    technique: "aws.initial-access.console-login-without-mfa",
    detections: ["ct_console_login_without_mfa"],
    keysOn: "signin ConsoleLogin by an IAM user, Success, MFAUsed=No",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.lateral-movement.ec2-instance-connect",
    detections: ["ct_ec2_instance_connect_ssh_key_sent", "corr_ec2_instance_connect_same_key_pushed_to_many_instances"],
    keysOn: "ec2-instance-connect SendSSHPublicKey, no errorCode; the same identity and key to ≥ 2 instances in 10 min",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
    detections: ["ct_ec2_serial_console_access_enabled", "ct_ec2_serial_console_ssh_key_sent"],
    keysOn: "ec2 EnableSerialConsoleAccess; ec2-instance-connect SendSerialConsoleSSHPublicKey",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.iam-backdoor-role",
    detections: ["ct_role_trust_policy_grants_foreign_or_public_access", "ct_role_trust_policy_updated"],
    keysOn: "iam UpdateAssumeRolePolicy naming a \"*\" principal without an org/account condition, or another account",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.iam-backdoor-user",
    detections: ["ct_iam_access_key_created_for_another_user"],
    keysOn: "iam CreateAccessKey with userName other than the caller",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.iam-create-admin-user",
    detections: ["corr_iam_user_created_granted_admin_and_given_credentials", "corr_iam_user_created_then_granted_admin", "ct_administrator_policy_attached_outside_infrastructure_code", "ct_administrator_policy_attached", "ct_iam_access_key_created_for_another_user"],
    keysOn: "iam CreateUser + AttachUserPolicy AdministratorAccess (or equivalent) + CreateAccessKey for that user within 1 h",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.iam-create-backdoor-role",
    detections: ["corr_iam_role_created_with_foreign_trust_then_granted_admin", "ct_administrator_policy_attached_outside_infrastructure_code", "ct_administrator_policy_attached", "ct_iam_role_created_with_foreign_or_public_trust"],
    keysOn: "iam CreateRole trusting another account or \"*\", + AttachRolePolicy AdministratorAccess, same role within 1 h",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.iam-create-user-login-profile",
    detections: ["ct_iam_login_profile_created_for_another_user_outside_infrastructure_code", "ct_iam_login_profile_created_for_another_user", "corr_console_password_created_for_another_user_then_used"],
    keysOn: "iam CreateLoginProfile for another user without passwordResetRequired; then that user signs in",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.lambda-backdoor-function",
    detections: ["ct_lambda_function_policy_allows_any_principal", "ct_lambda_function_policy_grants_another_account"],
    keysOn: "lambda AddPermission with principal \"*\" and no source ARN/account/org condition; or a foreign account",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.lambda-layer-extension",
    detections: ["ct_lambda_layer_attached_by_a_person"],
    keysOn: "lambda UpdateFunctionConfiguration with layers, by a person (see \"Not covered\"); any other role: `seam-native-lambda-new-deployer` (medium) when the role never changed that function, after the account's learning period",
    verified: "detonation log replayed; native: test timeline (src/detect/native/lambda-new-deployer.test.ts)",
  },
  {
    technique: "aws.persistence.lambda-overwrite-code",
    detections: ["ct_lambda_function_code_updated_by_a_person"],
    keysOn: "lambda UpdateFunctionCode by a person (see \"Not covered\"); any other role: `seam-native-lambda-new-deployer` (medium) when the role never changed that function, after the account's learning period",
    verified: "detonation log replayed; native: test timeline (src/detect/native/lambda-new-deployer.test.ts)",
  },
  {
    technique: "aws.persistence.rolesanywhere-create-trust-anchor",
    detections: ["ct_rolesanywhere_trust_anchor_created_or_updated", "corr_rolesanywhere_trust_anchor_and_profile_created"],
    keysOn: "rolesanywhere Create/UpdateTrustAnchor; then Create/UpdateProfile by the same principal within 1 h",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.persistence.sts-federation-token",
    detections: ["ct_sts_federation_token_issued"],
    keysOn: "sts GetFederationToken, no errorCode",
    verified: "detonation log replayed",
  },
  {
    technique: "aws.privilege-escalation.iam-update-user-login-profile",
    detections: ["ct_iam_login_profile_updated_for_another_user", "corr_console_password_updated_for_another_user_then_used"],
    keysOn: "iam UpdateLoginProfile for another user without passwordResetRequired; then that user signs in",
    verified: "detonation log replayed",
  },
  {
    technique: "eks.lateral-movement.create-access-entry",
    detections: ["ct_eks_cluster_admin_access_policy_associated", "corr_eks_access_entry_created_then_granted_cluster_admin", "ct_eks_access_entry_created", "seam-native-access-entry-grant"],
    keysOn: "eks CreateAccessEntry, AssociateAccessPolicy AmazonEKSClusterAdminPolicy; native: the entry's first use in the cluster",
    verified: "test case from the technique page",
  },
  {
    technique: "eks.persistence.backdoor-aws-auth-configmap",
    detections: ["k8s_aws_auth_configmap_modified", "seam-native-aws-auth-backdoor"],
    keysOn: "`update configmaps` kube-system/aws-auth by a non-eks: identity (no body needed: EKS logs configmaps at Metadata); native: the new mapping and its first use",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.credential-access.dump-secrets",
    detections: ["k8s_secrets_listed_across_all_namespaces", "corr_secrets_read_in_many_namespaces_by_one_identity", "corr_many_secrets_read_by_one_identity"],
    keysOn: "`list secrets` without a namespace (cluster-wide), 200, caller not the control plane; many secrets / namespaces by one identity",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.credential-access.steal-serviceaccount-token",
    detections: ["k8s_exec_command_reading_service_account_token"],
    keysOn: "`create pods/exec` whose command reads `…/serviceaccount/token`",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.persistence.create-admin-clusterrole",
    detections: ["corr_admin_service_account_planted_in_kube_system", "k8s_role_with_wildcard_permissions_created", "k8s_service_account_created_in_kube_system_namespace"],
    keysOn: "`create clusterroles` with `*` rules, a service account created in kube-system by a non-system identity, and a binding, by one identity within 15 min",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.privilege-escalation.create-admin-clusterrole",
    note: "(older id of the above)",
    detections: ["corr_admin_service_account_planted_in_kube_system", "k8s_role_with_wildcard_permissions_created"],
    keysOn: "same as above",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.persistence.create-client-certificate",
    detections: ["k8s_client_certificate_signing_request_created", "k8s_certificate_signing_request_approved_by_user", "corr_client_certificate_requested_and_approved_by_same_identity", "k8s_control_plane_identity_used_from_public_ip"],
    keysOn: "`create certificatesigningrequests` signer kube-apiserver-client; `update …/approval` by a non-controller; requests as system:kube-controller-manager from a public IPv4",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.persistence.create-token",
    detections: ["k8s_service_account_token_requested_for_kube_system_account", "k8s_service_account_token_requested_by_user", "seam-native-sa-token-off-cluster"],
    keysOn: "`create serviceaccounts/token` (201) in kube-system by an identity other than kubelet / controller-manager / eks:*; native: the token then used from outside the cluster",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.privilege-escalation.hostpath-volume",
    detections: ["k8s_sensitive_host_path_mounted_into_pod"],
    keysOn: "`create pods` with a hostPath volume of `/` or another sensitive path",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.privilege-escalation.nodes-proxy",
    detections: ["k8s_node_proxy_subresource_accessed", "k8s_service_account_token_requested_by_user", "seam-native-k8s-sa-token-outside-aws"],
    keysOn: "`get nodes/proxy` (e.g. `/proxy/runningpods/`) by a service account or user; the TokenRequest before it; native: the token used from outside AWS",
    verified: "fixture replayed + test case",
  },
  {
    technique: "k8s.privilege-escalation.privileged-pod",
    detections: ["k8s_privileged_pod_created"],
    keysOn: "`create pods` with securityContext.privileged true",
    verified: "fixture replayed + test case",
  },
];
