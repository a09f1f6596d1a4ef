/**
 * A benign corpus: three days of an AWS account with two EKS clusters (prod-eks-01, staging-eks-01), built
 * from a seeded generator so every run is the same. Nothing in it is an attack; it is shaped after what such
 * an account logs (CloudTrail record and EKS audit event shapes as AWS and Kubernetes document them), not after
 * any rule. What it holds, per hour of event time:
 *
 * - EKS audit: kubelets (node leases, pod status, the secrets and configmaps their pods mount), controllers and
 *   the scheduler (leader-election leases, endpoint slices, replica sets), `eks:*` users, kube-system service
 *   accounts (coredns, aws-node, kube-proxy, the EBS CSI driver, cluster-autoscaler, metrics-server), platform
 *   workloads (Argo CD, cert-manager renewing TLS secrets, external-dns, Prometheus, Fluent Bit), applications'
 *   leader election; people in working hours running `kubectl get/describe/logs`; CI deploys (patch a
 *   deployment, Helm's release secrets, the rollout's replica set and pods, the scheduler's bindings, the old
 *   pods deleted).
 * - CloudTrail: node instance-role sessions (VPC CNI, ECR credential provider, SSM agent) from the clusters' NAT
 *   gateways; IRSA and Pod Identity workloads (token exchange, S3, KMS, Secrets Manager at start, SSM
 *   parameters); AWS services assuming roles and using KMS; the Auto Scaling and EKS node-group service-linked
 *   roles; Lambda functions; a bastion and a nightly batch instance with their own public (AWS) addresses;
 *   people in the console (SSO sessions) and the CLI from their offices and homes; GitHub Actions with OIDC
 *   running Terraform plans (reads) and a daily apply (non-admin policies and policy versions, scoped inline
 *   policies, internal bucket policies, security-group rules for the VPC, tags), image pushes and a Lambda
 *   deploy; more CI roles exchanging OIDC tokens from their runners (GitHub-hosted runners all over Azure's address
 *   space, a self-managed GitLab's runner behind the office egress, runners on EC2 in two regions, two workflows moved
 *   to their CI service's hosted runners, a deploy's runners moved from EC2 into the prod cluster); console sign-ins
 *   through IAM Identity Center.
 * - GuardDuty: low-severity findings about the bastion (port probes, SSH brute force against it), re-reported.
 * - Runtime (sidecar) telemetry of application pods: their processes, SDKs reading their web-identity token and
 *   calling the Pod Identity agent, connections to databases and AWS endpoints, DNS.
 * - Operators, controllers and service chatter (most of the CloudTrail volume of such an account): AWS Config's
 *   recorder and the Security Hub, Inspector, Access Analyzer and Trusted Advisor service-linked roles reading;
 *   platform controllers with IRSA roles (cluster-autoscaler, AWS Load Balancer Controller opening 80/443 to
 *   the internet on a new internet-facing ALB's own group, external-dns, EBS CSI, External Secrets reading every
 *   synced secret hourly, Fluent Bit, a CloudWatch exporter) and their Kubernetes side (kube-state-metrics
 *   listing secrets cluster-wide, the HPA reading the metrics API, cert-manager's CA injector updating webhook
 *   configurations, Kyverno); operators' routine changes (manual RDS snapshot and reboot, an office /32 SSH
 *   rule, an IRSA role trusting the cluster's own OIDC provider, an alarm).
 *
 * About 212k records over 72 hours, ~80k of them CloudTrail. staging-eks-01 scales with Karpenter (IRSA): instance-profile
 * housekeeping, CreateFleet, consolidation. prod-eks-01 has private endpoint access (its audit log shows pods and
 * kubelets at their VPC addresses); staging-eks-01 keeps the EKS API's default, a public endpoint only, so its
 * pods and kubelets reach the API server from its NAT gateway's public (AWS) address. Nodes join both clusters, and
 * the DaemonSet controller starts the EKS add-ons, a privileged runtime security agent and the node exporter on each.
 * Both run Cilium in chaining mode in kube-system (images from quay.io), whose pods start on each joining node, and
 * External Secrets mints the teams' IRSA tokens for STS (TokenRequest) at each hourly refresh. Flux's helm-controller
 * reads its HelmReleases' records every 10 minutes, and people run `helm list -A`. Flux's kustomize-controller and Argo CD
 * check for drift every 10 minutes with server-side dry-run applies, and people run `kubectl diff` (ADR 0045).
 * The account is a member of an AWS Organization: IAM Identity Center provisions permission sets into it, a CDK app
 * deploys through its bootstrap CloudFormation role, AWS Backup copies recovery points to the organisation's backup
 * account every night, EC2 Image Builder distributes the golden AMI, a security StackSet updates its baseline.
 */

import { seededRandom } from '../helpers/random.ts';

export const ACCOUNT = '111122223333';
export const REGION = 'us-west-2';
const T0 = Date.parse('2026-11-02T00:00:00Z'); // a Monday

const prng = seededRandom;

type Rec = Record<string, unknown>;
interface Out {
  t: number;
  line: string;
}

export interface BenignCorpus {
  /** CloudTrail, GuardDuty, runtime and prod-eks-01's audit log (replayed with --cluster prod-eks-01). */
  prod: string[];
  /** staging-eks-01's audit log (replayed with --cluster staging-eks-01). */
  staging: string[];
}

export function generateBenignCorpus(opts: { seed?: number; hours?: number } = {}): BenignCorpus {
  const rnd = prng(opts.seed ?? 20261102);
  const hours = opts.hours ?? 72;
  const prod: Out[] = [];
  const staging: Out[] = [];
  const ctOut = prod;

  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rnd() * 16)];
    return s;
  };
  const uuid = (): string => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const ctTime = (ms: number): string => iso(ms).replace(/\.\d+Z$/, 'Z');
  /** Poisson-ish count for a rate per hour (integer part always, fraction by chance). */
  const count = (rate: number): number => Math.floor(rate) + (rnd() < rate - Math.floor(rate) ? 1 : 0);
  const within = (h: number): number => T0 + h * 3600_000 + Math.floor(rnd() * 3600_000);
  const working = (h: number): boolean => {
    const hod = h % 24;
    const dow = Math.floor(h / 24) % 7; // 0 = Monday
    return hod >= 7 && hod < 19 && dow < 5;
  };

  // ── the account ──────────────────────────────────────────────────────────────────────────────────────
  interface Cluster {
    name: string;
    nat: string;
    out: Out[];
    nodes: { name: string; ip: string; instance: string }[];
    scale: number;
    oidc: string;
    nodeRole: string;
    nodeRoleId: string;
    /**
     * Endpoint access: 'private' (requests from inside the VPC use the private endpoint: pods and kubelets show
     * their VPC addresses) or 'public' (the EKS API's default, endpointPrivateAccess=false: they leave the VPC and
     * reach the public endpoint from the NAT gateway's address).
     */
    endpoint: 'private' | 'public';
    /** The VPC's prefix (its nodes' and pods' addresses). */
    vpc: string;
  }
  const mkNodes = (n: number, subnet: number): Cluster['nodes'] =>
    Array.from({ length: n }, () => {
      const ip = `10.${subnet}.${int(16, 190)}.${int(2, 250)}`;
      return { name: `ip-${ip.replace(/\./g, '-')}.${REGION}.compute.internal`, ip, instance: `i-0${hex(16)}` };
    });
  const clusters: Cluster[] = [
    { name: 'prod-eks-01', nat: '44.230.10.1', out: prod, nodes: mkNodes(6, 0), scale: 1, oidc: `oidc.eks.${REGION}.amazonaws.com/id/${hex(32).toUpperCase()}`, nodeRole: 'prod-eks-01-node-group-role', nodeRoleId: 'AROA' + hex(16).toUpperCase(), endpoint: 'private', vpc: '10.0.' },
    { name: 'staging-eks-01', nat: '35.90.20.7', out: staging, nodes: mkNodes(3, 1), scale: 0.4, oidc: `oidc.eks.${REGION}.amazonaws.com/id/${hex(32).toUpperCase()}`, nodeRole: 'staging-eks-01-node-group-role', nodeRoleId: 'AROA' + hex(16).toUpperCase(), endpoint: 'public', vpc: '10.1.' },
  ];

  interface Person {
    name: string;
    role: string;
    roleId: string;
    ips: string[];
    kubectl: boolean;
  }
  const sso = (perm: string): string => `AWSReservedSSO_${perm}_${hex(16)}`;
  const people: Person[] = [
    { name: 'alice@example.com', role: sso('AdministratorAccess'), roleId: 'AROA' + hex(16).toUpperCase(), ips: ['62.226.10.41', '91.64.10.77'], kubectl: true },
    { name: 'bob@example.com', role: sso('ReadOnlyAccess'), roleId: 'AROA' + hex(16).toUpperCase(), ips: ['24.4.10.19'], kubectl: true },
    { name: 'carol@example.com', role: sso('PowerUserAccess'), roleId: 'AROA' + hex(16).toUpperCase(), ips: ['84.46.10.200', '62.226.10.41'], kubectl: true },
    { name: 'dave@example.com', role: sso('ReadOnlyAccess'), roleId: 'AROA' + hex(16).toUpperCase(), ips: ['62.226.10.58'], kubectl: false },
  ];
  const GH_RUNNERS = ['20.42.10.', '20.42.11.', '20.42.73.'];
  const CI_ROLE = 'github-actions-deploy';
  const ciRoleId = 'AROA' + hex(16).toUpperCase();

  const apps = [
    { ns: 'payments', sa: 'api', role: 'payments-api-irsa', bucket: 'acme-payments-exports', secret: 'prod/payments/db', podIdentity: false },
    { ns: 'checkout', sa: 'worker', role: 'checkout-worker-irsa', bucket: 'acme-checkout-receipts', secret: 'prod/checkout/stripe', podIdentity: false },
    { ns: 'search', sa: 'indexer', role: 'search-indexer-pod-identity', bucket: 'acme-search-snapshots', secret: 'prod/search/opensearch', podIdentity: true },
  ];
  const appPods = new Map(apps.map((a) => [a.ns, [0, 1].map(() => `${a.sa}-${hex(9)}-${hex(5)}`)]));

  // ── CloudTrail ───────────────────────────────────────────────────────────────────────────────────────
  const assumed = (role: string, roleId: string, session: string, key: string, extra: Rec = {}): Rec => ({
    type: 'AssumedRole',
    principalId: `${roleId}:${session}`,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    accountId: ACCOUNT,
    accessKeyId: key,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${ACCOUNT}:role/${role.startsWith('AWSReservedSSO_') ? 'aws-reserved/sso.amazonaws.com/' : ''}${role}`, accountId: ACCOUNT, userName: role },
      attributes: { creationDate: '2026-11-02T00:00:00Z', mfaAuthenticated: 'false' },
      ...extra,
    },
  });
  const service = (svc: string): Rec => ({ type: 'AWSService', invokedBy: svc });
  const key = (): string => 'ASIA' + hex(16).toUpperCase();

  function ct(ms: number, identity: Rec, source: string, name: string, o: { ip: string; ua: string; rp?: unknown; re?: unknown; region?: string; readOnly?: boolean; data?: boolean; error?: string; extra?: Rec }): void {
    // Console sessions are marked on their identity below; CloudTrail writes the flag at the record's top level.
    const { sessionCredentialFromConsole, ...userIdentity } = identity;
    const r: Rec = {
      eventVersion: o.data ? '1.10' : '1.09',
      userIdentity,
      eventTime: ctTime(ms),
      eventSource: source,
      eventName: name,
      awsRegion: o.region ?? REGION,
      sourceIPAddress: o.ip,
      userAgent: o.ua,
      requestParameters: o.rp ?? null,
      responseElements: o.re ?? null,
      requestID: uuid(),
      eventID: uuid(),
      readOnly: o.readOnly ?? /^(Get|List|Describe|Head|Lookup|BatchGet)/.test(name),
      eventType: 'AwsApiCall',
      managementEvent: !o.data,
      recipientAccountId: ACCOUNT,
      eventCategory: o.data ? 'Data' : 'Management',
      ...(sessionCredentialFromConsole === undefined ? {} : { sessionCredentialFromConsole }),
      tlsDetails: o.ip.endsWith('.amazonaws.com') ? undefined : { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${source.split('.')[0]}.${o.region ?? REGION}.amazonaws.com` },
      ...o.extra,
    };
    if (o.error !== undefined) {
      r.errorCode = o.error;
      r.errorMessage = o.error === 'AccessDenied' ? 'User is not authorized to perform this operation' : 'The specified resource does not exist';
    }
    if (r.tlsDetails === undefined) delete r.tlsDetails;
    ctOut.push({ t: ms, line: JSON.stringify(r) });
  }

  const UA = {
    cni: 'amazon-vpc-cni-k8s/version/v1.18.5 aws-sdk-go-v2/1.30.4 os/linux lang/go#1.22.6 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.177.0',
    ecrCred: 'aws-sdk-go-v2/1.30.4 os/linux lang/go#1.22.6 md/GOOS#linux md/GOARCH#amd64 api/ecr#1.32.2 ecr-credential-provider',
    ssm: 'aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0',
    kubeletEc2: 'aws-sdk-go/1.55.5 (go1.22.5; linux; amd64) kubelet/v1.30.4-eks-a737599',
    botoApp: 'Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.54',
    jsApp: 'aws-sdk-js/3.679.0 ua/2.1 os/linux#5.10.226-214.880.amzn2.x86_64 lang/js md/nodejs#20.18.0 api/s3#3.679.0 m/E,N',
    goApp: 'aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.66.0 m/E',
    console: 'AWS Internal',
    consoleBrowser: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    cliMac: 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#',
    cliInstance: 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#s3.cp',
    terraform: 'APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.74.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/iam#1.37.2',
    ghaAssume: 'aws-sdk-nodejs/2.1692.0 linux/v20.18.0 configure-aws-credentials-for-github-actions promise',
    docker: 'docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.5.0-1025-azure os/linux arch/amd64 UpstreamClient(Docker-Client/27.3.1 \\(linux\\))',
    lambda: 'aws-sdk-js/3.679.0 ua/2.1 os/linux#5.10.227-239.884.amzn2.x86_64 lang/js md/nodejs#20.18.0 exec-env/AWS_Lambda_nodejs20.x api/dynamodb#3.679.0',
  };

  // Sessions that last: node instance sessions (one per instance, keys rotating), people's daily SSO sessions.
  const nodeKeys = new Map<string, string>();
  const nodeKey = (inst: string, h: number): string => {
    const k = `${inst}|${Math.floor(h / 6)}`;
    let v = nodeKeys.get(k);
    if (v === undefined) nodeKeys.set(k, (v = key()));
    return v;
  };
  const personKeys = new Map<string, string>();
  const personKey = (p: Person, h: number, cli: boolean): string => {
    const k = `${p.name}|${Math.floor(h / 12)}|${cli}`;
    let v = personKeys.get(k);
    if (v === undefined) personKeys.set(k, (v = key()));
    return v;
  };
  const personIp = (p: Person, h: number): string => p.ips[Math.floor(h / 24 + (h % 24) / 16) % p.ips.length]!;

  const CONSOLE_READS: [string, string, Rec | null][] = [
    ['ec2.amazonaws.com', 'DescribeInstances', { maxResults: 1000, instancesSet: {}, filterSet: {} }],
    ['ec2.amazonaws.com', 'DescribeSecurityGroups', { securityGroupSet: {}, filterSet: {} }],
    ['ec2.amazonaws.com', 'DescribeVpcs', { vpcSet: {}, filterSet: {} }],
    ['ec2.amazonaws.com', 'DescribeVolumes', { volumeSet: {}, filterSet: {} }],
    ['eks.amazonaws.com', 'DescribeCluster', { name: 'prod-eks-01' }],
    ['eks.amazonaws.com', 'ListNodegroups', { name: 'prod-eks-01' }],
    ['eks.amazonaws.com', 'ListClusters', null],
    ['s3.amazonaws.com', 'ListBuckets', { Host: 's3.amazonaws.com' }],
    ['s3.amazonaws.com', 'GetBucketPolicy', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', policy: '' }],
    ['s3.amazonaws.com', 'GetBucketVersioning', { bucketName: 'acme-search-snapshots', Host: 'acme-search-snapshots.s3.us-west-2.amazonaws.com', versioning: '' }],
    ['cloudwatch.amazonaws.com', 'DescribeAlarms', { maxRecords: 100 }],
    ['logs.amazonaws.com', 'DescribeLogGroups', { limit: 50 }],
    ['logs.amazonaws.com', 'StartQuery', { logGroupName: '/aws/eks/prod-eks-01/cluster', queryString: 'fields @timestamp, @message | limit 20' }],
    ['iam.amazonaws.com', 'ListRoles', { maxItems: 100 }],
    ['iam.amazonaws.com', 'GetRole', { roleName: 'payments-api-irsa' }],
    ['cloudtrail.amazonaws.com', 'LookupEvents', { maxResults: 50 }],
    ['rds.amazonaws.com', 'DescribeDBInstances', null],
    ['lambda.amazonaws.com', 'ListFunctions20150331', null],
    ['autoscaling.amazonaws.com', 'DescribeAutoScalingGroups', null],
    ['elasticloadbalancing.amazonaws.com', 'DescribeLoadBalancers', null],
    ['ce.amazonaws.com', 'GetCostAndUsage', { granularity: 'DAILY' }],
  ];
  const CLI_READS: [string, string, Rec | null][] = [
    ['eks.amazonaws.com', 'DescribeCluster', { name: 'prod-eks-01' }],
    ['sts.amazonaws.com', 'GetCallerIdentity', null],
    ['s3.amazonaws.com', 'ListBuckets', { Host: 's3.amazonaws.com' }],
    ['logs.amazonaws.com', 'FilterLogEvents', { logGroupName: '/aws/lambda/receipt-mailer', startTime: 0 }],
    ['ec2.amazonaws.com', 'DescribeInstances', { instancesSet: {}, filterSet: { items: [{ name: 'tag:Name', valueSet: { items: [{ value: 'bastion' }] } }] } }],
    ['ecr.amazonaws.com', 'DescribeImages', { repositoryName: 'payments-api' }],
  ];
  const TF_READS: [string, string, Rec | null][] = [
    ['sts.amazonaws.com', 'GetCallerIdentity', null],
    ['iam.amazonaws.com', 'GetRole', { roleName: 'payments-api-irsa' }],
    ['iam.amazonaws.com', 'GetRole', { roleName: 'checkout-worker-irsa' }],
    ['iam.amazonaws.com', 'ListRolePolicies', { roleName: 'payments-api-irsa' }],
    ['iam.amazonaws.com', 'ListAttachedRolePolicies', { roleName: 'payments-api-irsa' }],
    ['iam.amazonaws.com', 'GetPolicy', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/payments-exports-read` }],
    ['iam.amazonaws.com', 'GetPolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/payments-exports-read`, versionId: 'v3' }],
    ['iam.amazonaws.com', 'GetOpenIDConnectProvider', { openIDConnectProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE'}` }],
    ['s3.amazonaws.com', 'GetBucketPolicy', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', policy: '' }],
    ['s3.amazonaws.com', 'GetBucketAcl', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', acl: '' }],
    ['s3.amazonaws.com', 'GetBucketEncryption', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', encryption: '' }],
    ['s3.amazonaws.com', 'GetPublicAccessBlock', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', publicAccessBlock: '' }],
    ['s3.amazonaws.com', 'GetBucketVersioning', { bucketName: 'acme-checkout-receipts', Host: 'acme-checkout-receipts.s3.us-west-2.amazonaws.com', versioning: '' }],
    ['ec2.amazonaws.com', 'DescribeSecurityGroups', { securityGroupIdSet: { items: [{ groupId: 'sg-0a1b2c3d4e5f60718' }] } }],
    ['ec2.amazonaws.com', 'DescribeSecurityGroupRules', { filterSet: { items: [{ name: 'group-id', valueSet: { items: [{ value: 'sg-0a1b2c3d4e5f60718' }] } }] } }],
    ['ec2.amazonaws.com', 'DescribeVpcs', { vpcSet: { items: [{ vpcId: 'vpc-0a1b2c3d4e5f67890' }] } }],
    ['eks.amazonaws.com', 'DescribeCluster', { name: 'prod-eks-01' }],
    ['eks.amazonaws.com', 'DescribeNodegroup', { name: 'prod-eks-01', nodegroupName: 'general-2026' }],
    ['eks.amazonaws.com', 'DescribeAddon', { name: 'prod-eks-01', addonName: 'vpc-cni' }],
    ['kms.amazonaws.com', 'DescribeKey', { keyId: 'alias/payments' }],
    ['kms.amazonaws.com', 'GetKeyPolicy', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', policyName: 'default' }],
    ['lambda.amazonaws.com', 'GetFunction20150331v2', { functionName: 'receipt-mailer' }],
    ['ecr.amazonaws.com', 'DescribeRepositories', { repositoryNames: ['payments-api'] }],
    ['secretsmanager.amazonaws.com', 'DescribeSecret', { secretId: 'prod/payments/db' }],
    ['rds.amazonaws.com', 'DescribeDBInstances', { dBInstanceIdentifier: 'payments-db' }],
  ];

  const bucketPolicy = (bucket: string, role: string): string =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
        { Sid: 'AppAccess', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/${role}` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/*` },
      ],
    });
  const scopedPolicy = (bucket: string): string =>
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }] });

  for (let h = 0; h < hours; h++) {
    const work = working(h);
    for (const c of clusters) {
      // Node instance sessions, from the cluster's NAT gateway.
      for (const n of c.nodes) {
        const id = assumed(c.nodeRole, c.nodeRoleId, n.instance, nodeKey(n.instance, h), { ec2RoleDelivery: '2.0' });
        for (let i = count(4); i > 0; i--) ct(within(h), id, 'ec2.amazonaws.com', pick(['DescribeNetworkInterfaces', 'DescribeInstances', 'DescribeSubnets']), { ip: c.nat, ua: UA.cni, rp: { filterSet: { items: [{ name: 'attachment.instance-id', valueSet: { items: [{ value: n.instance }] } }] } } });
        if (rnd() < 0.3) ct(within(h), id, 'ec2.amazonaws.com', pick(['AssignPrivateIpAddresses', 'UnassignPrivateIpAddresses']), { ip: c.nat, ua: UA.cni, rp: { networkInterfaceId: `eni-0${hex(16)}`, secondaryPrivateIpAddressCount: 1 } });
        ct(within(h), id, 'ecr.amazonaws.com', 'GetAuthorizationToken', { ip: c.nat, ua: UA.ecrCred, rp: { registryIds: [ACCOUNT] } });
        for (let i = count(2); i > 0; i--) ct(within(h), id, 'ssm.amazonaws.com', 'UpdateInstanceInformation', { ip: c.nat, ua: UA.ssm, readOnly: false, rp: { instanceId: n.instance, agentVersion: '3.3.1142.0', platformType: 'Linux', platformName: 'Amazon Linux', iPAddress: n.ip } });
        if (rnd() < 0.2) ct(within(h), id, 'ec2.amazonaws.com', 'DescribeInstances', { ip: c.nat, ua: UA.kubeletEc2, rp: { instancesSet: { items: [{ instanceId: n.instance }] } } });
        // EC2 delivers the instance profile's credentials (the service assumes the role for the instance).
        if (h % 6 === 0) {
          ct(within(h), service('ec2.amazonaws.com'), 'sts.amazonaws.com', 'AssumeRole', {
            ip: 'ec2.amazonaws.com',
            ua: 'ec2.amazonaws.com',
            readOnly: true,
            rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${c.nodeRole}`, roleSessionName: n.instance },
            re: { credentials: { accessKeyId: nodeKey(n.instance, h), sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 6:00:00 AM' }, assumedRoleUser: { assumedRoleId: `${c.nodeRoleId}:${n.instance}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${c.nodeRole}/${n.instance}` } },
          });
        }
      }
      // Workloads: IRSA token exchange each hour per pod (Pod Identity: every 6 hours), then their calls.
      for (const a of apps) {
        const pods = c.scale < 1 ? appPods.get(a.ns)!.slice(0, 1).map((x) => 'stg-' + x) : appPods.get(a.ns)!;
        const role = c.scale < 1 ? `staging-${a.role}` : a.role;
        for (const pod of pods) {
          const k = key();
          const session = a.podIdentity ? `eks-${c.name}-${pod}`.slice(0, 64) : `botocore-session-${Math.floor(within(h) / 1000)}`;
          const roleId = 'AROA' + (role.toUpperCase().replace(/[^A-Z0-9]/g, '') + '0000000000000000').slice(0, 16);
          const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`;
          const at = T0 + h * 3600_000 + int(0, 120_000);
          if (a.podIdentity) {
            ct(at, service('pods.eks.amazonaws.com'), 'sts.amazonaws.com', 'AssumeRole', {
              ip: 'pods.eks.amazonaws.com',
              ua: 'pods.eks.amazonaws.com',
              readOnly: true,
              rp: {
                roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`,
                roleSessionName: session,
                durationSeconds: 21600,
                tags: [
                  { key: 'eks-cluster-arn', value: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${c.name}` },
                  { key: 'eks-cluster-name', value: c.name },
                  { key: 'kubernetes-namespace', value: a.ns },
                  { key: 'kubernetes-service-account', value: a.sa },
                  { key: 'kubernetes-pod-name', value: pod },
                ],
              },
              re: { credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 6:00:00 AM' }, assumedRoleUser: { assumedRoleId: `${roleId}:${session}`, arn: sessionArn } },
            });
            // The EKS Pod Identity agent on the node asks eks-auth for the pod's credentials, signed by the node's role.
            const node = c.nodes[pods.indexOf(pod) % c.nodes.length]!;
            ct(at, assumed(c.nodeRole, c.nodeRoleId, node.instance, nodeKey(node.instance, h), { ec2RoleDelivery: '2.0' }), 'eks-auth.amazonaws.com', 'AssumeRoleForPodIdentity', {
              ip: c.nat,
              ua: 'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/eksauth#1.7.3 eks-pod-identity-agent',
              readOnly: true,
              rp: { clusterName: c.name, token: 'HIDDEN_DUE_TO_SECURITY_REASONS' },
              re: {
                subject: { namespace: a.ns, serviceAccount: a.sa },
                audience: 'pods.eks.amazonaws.com',
                podIdentityAssociation: { associationArn: `arn:aws:eks:${REGION}:${ACCOUNT}:podidentityassociation/${c.name}/a-${hex(17)}`, associationId: `a-${hex(17)}` },
                assumedRoleUser: { arn: sessionArn, assumeRoleId: `${roleId}:${session}` },
                credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 6:00:00 AM' },
              },
            });
          } else {
            const subject = `system:serviceaccount:${a.ns}:${a.sa}`;
            const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${c.oidc}`;
            ct(at, { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
              ip: c.nat,
              ua: a.ns === 'payments' ? UA.botoApp : UA.jsApp,
              readOnly: true,
              rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, roleSessionName: session, durationSeconds: 3600 },
              re: {
                credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 1:00:00 AM' },
                subjectFromWebIdentityToken: subject,
                assumedRoleUser: { assumedRoleId: `${roleId}:${session}`, arn: sessionArn },
                provider,
                audience: 'sts.amazonaws.com',
              },
            });
          }
          const id = assumed(role, roleId, session, k);
          const ua = a.ns === 'payments' ? UA.botoApp : a.ns === 'checkout' ? UA.jsApp : UA.goApp;
          for (let i = count(work ? 14 : 5); i > 0; i--) {
            const put = rnd() < 0.4;
            const objKey = `${new Date(at).toISOString().slice(0, 10)}/${hex(12)}.json`;
            ct(at + int(1000, 3_500_000), id, 's3.amazonaws.com', put ? 'PutObject' : 'GetObject', {
              ip: c.nat,
              ua,
              data: true,
              readOnly: !put,
              rp: { bucketName: a.bucket, key: objKey, Host: `${a.bucket}.s3.${REGION}.amazonaws.com` },
              extra: { resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${a.bucket}/${objKey}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${a.bucket}` }], additionalEventData: { 'x-amz-id-2': hex(40), bytesTransferredIn: put ? int(200, 90000) : 0, bytesTransferredOut: put ? 0 : int(200, 90000) } },
            });
          }
          for (let i = count(3); i > 0; i--) {
            ct(at + int(1000, 3_500_000), id, 'kms.amazonaws.com', pick(['GenerateDataKey', 'Decrypt']), {
              ip: c.nat,
              ua,
              readOnly: true,
              rp: { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${a.bucket}` }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
            });
          }
          // Secrets are read at start (pods restart on deploys) and cached.
          if (h % 8 === 0) ct(at + int(1000, 5000), id, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: c.nat, ua, rp: { secretId: a.secret } });
          if (rnd() < 0.3) ct(at + int(1000, 3_500_000), id, 'ssm.amazonaws.com', 'GetParameter', { ip: c.nat, ua, rp: { name: `/${a.ns}/feature-flags`, withDecryption: false } });
        }
      }
    }

    // AWS services acting for the account.
    for (let i = count(8); i > 0; i--) {
      const svc = pick(['s3.amazonaws.com', 'secretsmanager.amazonaws.com', 'ebs.amazonaws.com', 'logs.amazonaws.com']);
      ct(within(h), service(svc), 'kms.amazonaws.com', pick(['Decrypt', 'GenerateDataKey']), { ip: svc, ua: svc, readOnly: true, rp: { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' } });
    }
    for (let i = count(3); i > 0; i--) {
      const fn = pick(['receipt-mailer', 'thumbnailer', 'nightly-report']);
      const role = `${fn}-lambda-role`;
      const k = key();
      ct(within(h), service('lambda.amazonaws.com'), 'sts.amazonaws.com', 'AssumeRole', {
        ip: 'lambda.amazonaws.com',
        ua: 'lambda.amazonaws.com',
        readOnly: true,
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}`, roleSessionName: fn },
        re: { credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 12:00:00 PM' }, assumedRoleUser: { assumedRoleId: `AROA${hex(16).toUpperCase()}:${fn}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${fn}` } },
      });
      const lid = assumed(role, 'AROA' + hex(16).toUpperCase(), fn, k);
      ct(within(h), lid, 'sqs.amazonaws.com', 'GetQueueAttributes', { ip: pick(['52.32.10.4', '54.70.10.9', '44.230.80.3']), ua: UA.lambda, rp: { queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${fn}-queue`, attributeNames: ['All'] } });
    }
    // Auto Scaling and the node-group service role keep the node groups in shape.
    for (let i = count(4); i > 0; i--) {
      const asg = assumed('AWSServiceRoleForAutoScaling', 'AROA' + 'AUTOSCALING00001', 'AutoScaling', 'ASIA' + hex(16).toUpperCase(), {});
      (asg as { invokedBy?: string }).invokedBy = 'autoscaling.amazonaws.com';
      ct(within(h), asg, 'ec2.amazonaws.com', pick(['DescribeInstances', 'DescribeInstanceStatus', 'DescribeLaunchTemplateVersions']), { ip: 'autoscaling.amazonaws.com', ua: 'autoscaling.amazonaws.com', rp: { instancesSet: {}, filterSet: {} } });
    }
    for (let i = count(3); i > 0; i--) {
      const ng = assumed('AWSServiceRoleForAmazonEKSNodegroup', 'AROA' + 'EKSNODEGROUP0001', 'EKS', 'ASIA' + hex(16).toUpperCase(), {});
      (ng as { invokedBy?: string }).invokedBy = 'eks-nodegroup.amazonaws.com';
      ct(within(h), ng, pick(['autoscaling.amazonaws.com', 'ec2.amazonaws.com']), pick(['DescribeAutoScalingGroups', 'DescribeLaunchTemplateVersions']), { ip: 'eks-nodegroup.amazonaws.com', ua: 'eks-nodegroup.amazonaws.com', rp: null });
    }
    // Node group scaling: a couple of times a day.
    if (h % 12 === 9) {
      const asg = assumed('AWSServiceRoleForAutoScaling', 'AROA' + 'AUTOSCALING00001', 'AutoScaling', 'ASIA' + hex(16).toUpperCase(), {});
      (asg as { invokedBy?: string }).invokedBy = 'autoscaling.amazonaws.com';
      const inst = `i-0${hex(16)}`;
      ct(within(h), asg, 'ec2.amazonaws.com', 'RunInstances', {
        ip: 'autoscaling.amazonaws.com',
        ua: 'autoscaling.amazonaws.com',
        readOnly: false,
        rp: { instancesSet: { items: [{ minCount: 1, maxCount: 1 }] }, launchTemplate: { launchTemplateId: 'lt-0a1b2c3d4e5f60718', version: '4' }, instanceType: 'm6i.xlarge' },
        re: { instancesSet: { items: [{ instanceId: inst, instanceType: 'm6i.xlarge', privateIpAddress: `10.0.${int(16, 190)}.${int(2, 250)}` }] } },
      });
    }

    // A bastion and a nightly batch instance, each with its own public address (AWS).
    {
      const bastion = 'i-0b45710a9c2d3e4f5';
      const id = assumed('bastion-instance-role', 'AROABASTIONINSTANCE1', bastion, nodeKey(bastion, h), { ec2RoleDelivery: '2.0' });
      for (let i = count(6); i > 0; i--) ct(within(h), id, 'ssm.amazonaws.com', 'UpdateInstanceInformation', { ip: '54.70.10.1', ua: UA.ssm, readOnly: false, rp: { instanceId: bastion, agentVersion: '3.3.1142.0', platformType: 'Linux' } });
      if (rnd() < 0.2) ct(within(h), id, 'ssm.amazonaws.com', 'ListInstanceAssociations', { ip: '54.70.10.1', ua: UA.ssm, rp: { instanceId: bastion, maxResults: 20 } });
      if (h % 24 === 2) {
        const batch = `i-0ba7c4${hex(11)}`;
        const bid = assumed('nightly-batch-instance-role', 'AROANIGHTLYBATCH0001', batch, key(), { ec2RoleDelivery: '2.0' });
        const ip = `18.246.10.${int(2, 250)}`;
        ct(within(h), bid, 's3.amazonaws.com', 'GetObject', { ip, ua: UA.cliInstance, data: true, rp: { bucketName: 'acme-batch-artifacts', key: 'jobs/reconcile.tar.gz', Host: 'acme-batch-artifacts.s3.us-west-2.amazonaws.com' } });
        for (let i = 0; i < 5; i++) ct(within(h), bid, 's3.amazonaws.com', 'PutObject', { ip, ua: UA.cliInstance, data: true, readOnly: false, rp: { bucketName: 'acme-reports', key: `reconcile/${ctTime(T0 + h * 3600_000).slice(0, 10)}/part-${i}.csv`, Host: 'acme-reports.s3.us-west-2.amazonaws.com' } });
        for (let i = 0; i < 6; i++) ct(within(h), bid, 'ssm.amazonaws.com', 'UpdateInstanceInformation', { ip, ua: UA.ssm, readOnly: false, rp: { instanceId: batch, agentVersion: '3.3.1142.0', platformType: 'Linux' } });
      }
    }

    // People: console and CLI in working hours, from their usual places.
    if (work) {
      for (const p of people) {
        const ip = personIp(p, h);
        const hod = h % 24;
        if (hod === 7 || (hod === 13 && rnd() < 0.5)) {
          ct(within(h), assumed(p.role, p.roleId, p.name, personKey(p, h, false)), 'signin.amazonaws.com', 'ConsoleLogin', {
            ip,
            ua: UA.consoleBrowser,
            readOnly: false,
            region: 'us-east-1',
            re: { ConsoleLogin: 'Success' },
            extra: { additionalEventData: { MobileVersion: 'No', MFAUsed: 'No' }, eventType: 'AwsConsoleSignIn', serviceEventDetails: undefined },
          });
          ct(within(h), { type: 'Unknown', principalId: p.name, accountId: ACCOUNT, userName: p.name }, 'sso.amazonaws.com', 'Federate', { ip, ua: UA.consoleBrowser, readOnly: false, region: 'us-east-1', extra: { eventType: 'AwsServiceEvent', serviceEventDetails: { role_name: p.role.split('_')[1], account_id: ACCOUNT } } });
        }
        const consoleId = assumed(p.role, p.roleId, p.name, personKey(p, h, false));
        (consoleId as Rec).sessionCredentialFromConsole = 'true';
        for (let i = count(10); i > 0; i--) {
          const [src, name, rp] = pick(CONSOLE_READS);
          const region = src === 'iam.amazonaws.com' || src === 'ce.amazonaws.com' || name === 'ListBuckets' ? 'us-east-1' : rnd() < 0.08 ? 'eu-central-1' : REGION;
          ct(within(h), consoleId, src, name, { ip, ua: UA.console, rp, region, readOnly: true, ...(rnd() < 0.03 ? { error: 'AccessDenied' } : {}) });
        }
        if (p.kubectl) {
          const cliId = assumed(p.role, p.roleId, p.name, personKey(p, h, true));
          for (let i = count(3); i > 0; i--) {
            const [src, name, rp] = pick(CLI_READS);
            ct(within(h), cliId, src, name, { ip, ua: UA.cliMac + (src === 'eks.amazonaws.com' ? 'eks.describe-cluster' : 'sts.get-caller-identity'), rp, region: name === 'ListBuckets' ? 'us-east-1' : REGION, readOnly: true });
          }
        }
      }
    }

    // Operations that happen a few times a week: Session Manager to the bastion, nightly backups, a secret
    // rotation, an access-key rotation for the one legacy IAM user, a node-group AMI update.
    const hod = h % 24;
    const day = Math.floor(h / 24);
    if (work && hod === 10) {
      const p = people[0]!;
      const id = assumed(p.role, p.roleId, p.name, personKey(p, h, false));
      (id as Rec).sessionCredentialFromConsole = 'true';
      const t = within(h);
      const sessionId = `${p.name}-${hex(17)}`;
      ct(t, id, 'ssm.amazonaws.com', 'StartSession', { ip: personIp(p, h), ua: UA.console, readOnly: false, rp: { target: 'i-0b45710a9c2d3e4f5' }, re: { sessionId, tokenValue: 'Value hidden due to security reasons.', streamUrl: `wss://ssmmessages.${REGION}.amazonaws.com/v1/data-channel/${sessionId}?role=publish_subscribe` } });
      ct(t + int(300_000, 1_500_000), id, 'ssm.amazonaws.com', 'TerminateSession', { ip: personIp(p, h), ua: UA.console, readOnly: false, rp: { sessionId }, re: { sessionId } });
    }
    if (hod === 3) {
      const backup = assumed('AWSServiceRoleForBackup', 'AROABACKUPSERVICE001', 'AWSBackup-AWSServiceRoleForBackup', key(), {});
      (backup as { invokedBy?: string }).invokedBy = 'backup.amazonaws.com';
      ct(within(h), service('backup.amazonaws.com'), 'backup.amazonaws.com', 'StartBackupJob', { ip: 'backup.amazonaws.com', ua: 'backup.amazonaws.com', readOnly: false, rp: { backupVaultName: 'Default', resourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0${hex(16)}`, iamRoleArn: `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole` } });
      for (let i = 0; i < 3; i++) ct(within(h), backup, 'ec2.amazonaws.com', 'CreateSnapshot', { ip: 'backup.amazonaws.com', ua: 'backup.amazonaws.com', readOnly: false, rp: { volumeId: `vol-0${hex(16)}`, description: 'This snapshot is created by the AWS Backup service.' }, re: { snapshotId: `snap-0${hex(16)}`, status: 'pending', ownerId: ACCOUNT } });
      ct(within(h), backup, 'ec2.amazonaws.com', 'DeleteSnapshot', { ip: 'backup.amazonaws.com', ua: 'backup.amazonaws.com', readOnly: false, rp: { snapshotId: `snap-0${hex(16)}` } });
    }
    if (day === 1 && hod === 4) {
      // Secrets Manager rotates the database secret with its rotation Lambda.
      ct(within(h), service('secretsmanager.amazonaws.com'), 'secretsmanager.amazonaws.com', 'RotationStarted', { ip: 'secretsmanager.amazonaws.com', ua: 'secretsmanager.amazonaws.com', readOnly: false, extra: { eventType: 'AwsServiceEvent', additionalEventData: { SecretId: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/payments/db-${hex(6)}` } } });
      const rot = assumed('payments-db-rotation-lambda-role', 'AROAROTATIONLAMBDA01', 'payments-db-rotation', key());
      const t = within(h);
      for (const [name, extra] of [
        ['GetSecretValue', { versionStage: 'AWSCURRENT' }],
        ['GetRandomPassword', { passwordLength: 32, excludeCharacters: '/@"\'\\' }],
        ['PutSecretValue', { versionStages: ['AWSPENDING'] }],
        ['GetSecretValue', { versionStage: 'AWSPENDING' }],
        ['UpdateSecretVersionStage', { versionStage: 'AWSCURRENT' }],
      ] as const) {
        ct(t + int(1000, 60_000), rot, 'secretsmanager.amazonaws.com', name, { ip: '52.32.10.4', ua: UA.lambda.replace('api/dynamodb', 'api/secrets-manager'), readOnly: name.startsWith('Get'), rp: { secretId: 'prod/payments/db', ...extra } });
      }
    }
    if (day === 1 && hod === 11) {
      // Alice rotates the legacy reporting user's access key (a new key, the old one deactivated then deleted).
      const p = people[0]!;
      const id = assumed(p.role, p.roleId, p.name, personKey(p, h, false));
      (id as Rec).sessionCredentialFromConsole = 'true';
      const t = within(h);
      const old = 'AKIA' + hex(16).toUpperCase();
      ct(t, id, 'iam.amazonaws.com', 'CreateAccessKey', { ip: personIp(p, h), ua: UA.console, region: 'us-east-1', readOnly: false, rp: { userName: 'svc-legacy-reporting' }, re: { accessKey: { userName: 'svc-legacy-reporting', accessKeyId: 'AKIA' + hex(16).toUpperCase(), status: 'Active', createDate: ctTime(t) } } });
      ct(t + 600_000, id, 'iam.amazonaws.com', 'UpdateAccessKey', { ip: personIp(p, h), ua: UA.console, region: 'us-east-1', readOnly: false, rp: { userName: 'svc-legacy-reporting', accessKeyId: old, status: 'Inactive' } });
      ct(t + 3_000_000, id, 'iam.amazonaws.com', 'DeleteAccessKey', { ip: personIp(p, h), ua: UA.console, region: 'us-east-1', readOnly: false, rp: { userName: 'svc-legacy-reporting', accessKeyId: old } });
    }
    if (day === 2 && hod === 14) {
      // The node group moves to a new AMI release: EKS's service-linked role rolls the instances.
      const ng = assumed('AWSServiceRoleForAmazonEKSNodegroup', 'AROA' + 'EKSNODEGROUP0001', 'EKS', key(), {});
      (ng as { invokedBy?: string }).invokedBy = 'eks-nodegroup.amazonaws.com';
      const p = people[2]!;
      ct(within(h), assumed(p.role, p.roleId, p.name, personKey(p, h, true)), 'eks.amazonaws.com', 'UpdateNodegroupVersion', { ip: personIp(p, h), ua: UA.cliMac + 'eks.update-nodegroup-version', readOnly: false, rp: { name: 'staging-eks-01', nodegroupName: 'general-2026', releaseVersion: '1.30.4-20261101' }, re: { update: { id: uuid(), status: 'InProgress', type: 'VersionUpdate' } } });
      const t = within(h);
      ct(t, ng, 'ec2.amazonaws.com', 'CreateLaunchTemplateVersion', { ip: 'eks-nodegroup.amazonaws.com', ua: 'eks-nodegroup.amazonaws.com', readOnly: false, rp: { CreateLaunchTemplateVersionRequest: { LaunchTemplateId: 'lt-0b1c2d3e4f5a60718', SourceVersion: '3', LaunchTemplateData: { ImageId: 'ami-0d1e2f3a4b5c6d7e8' } } } });
      ct(t + 20_000, ng, 'autoscaling.amazonaws.com', 'UpdateAutoScalingGroup', { ip: 'eks-nodegroup.amazonaws.com', ua: 'eks-nodegroup.amazonaws.com', readOnly: false, rp: { autoScalingGroupName: `eks-general-2026-${uuid()}`, launchTemplate: { launchTemplateId: 'lt-0b1c2d3e4f5a60718', version: '4' }, maxSize: 6, desiredCapacity: 4 } });
      for (let i = 0; i < 3; i++) ct(t + 600_000 * (i + 1), ng, 'autoscaling.amazonaws.com', 'TerminateInstanceInAutoScalingGroup', { ip: 'eks-nodegroup.amazonaws.com', ua: 'eks-nodegroup.amazonaws.com', readOnly: false, rp: { instanceId: `i-0${hex(16)}`, shouldDecrementDesiredCapacity: false } });
    }

    // CI: GitHub Actions with OIDC, Terraform plans on pull requests, one apply a day, image pushes, a Lambda deploy.
    if (work && rnd() < 0.5) {
      const runner = pick(GH_RUNNERS) + int(2, 250);
      const k = key();
      const session = 'GitHubActions';
      const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
      const t = within(h);
      ct(t, { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:repo:acme/infra:pull_request`, userName: 'repo:acme/infra:pull_request', identityProvider: provider }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
        ip: runner,
        ua: UA.ghaAssume,
        readOnly: true,
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${CI_ROLE}`, roleSessionName: session, durationSeconds: 3600 },
        re: {
          credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 1:00:00 PM' },
          subjectFromWebIdentityToken: 'repo:acme/infra:pull_request',
          assumedRoleUser: { assumedRoleId: `${ciRoleId}:${session}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${CI_ROLE}/${session}` },
          provider,
          audience: 'sts.amazonaws.com',
        },
      });
      const id = assumed(CI_ROLE, ciRoleId, session, k);
      for (const [src, name, rp] of TF_READS) ct(t + int(2000, 90_000), id, src, name, { ip: runner, ua: UA.terraform, rp, region: src === 'iam.amazonaws.com' ? 'us-east-1' : REGION });
      if (h % 24 === 15) {
        // The day's apply: non-admin changes only.
        const w = (src: string, name: string, rp: Rec, re: unknown = null): void => ct(t + int(90_000, 300_000), id, src, name, { ip: runner, ua: UA.terraform, rp, re, readOnly: false, region: src === 'iam.amazonaws.com' ? 'us-east-1' : REGION });
        const day = Math.floor(h / 24);
        w('iam.amazonaws.com', 'CreatePolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/payments-exports-read`, policyDocument: scopedPolicy('acme-payments-exports'), setAsDefault: true }, { policyVersion: { versionId: `v${4 + day}`, isDefaultVersion: true, createDate: ctTime(t) } });
        w('iam.amazonaws.com', 'DeletePolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/payments-exports-read`, versionId: `v${day}` });
        w('iam.amazonaws.com', 'PutRolePolicy', { roleName: 'checkout-worker-irsa', policyName: 'receipts-write', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::acme-checkout-receipts/*' }] }) });
        if (day === 1) {
          w('iam.amazonaws.com', 'CreatePolicy', { policyName: 'search-snapshots-read', policyDocument: scopedPolicy('acme-search-snapshots'), path: '/' }, { policy: { policyName: 'search-snapshots-read', arn: `arn:aws:iam::${ACCOUNT}:policy/search-snapshots-read`, defaultVersionId: 'v1' } });
          w('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'search-indexer-pod-identity', policyArn: `arn:aws:iam::${ACCOUNT}:policy/search-snapshots-read` });
          w('iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'nightly-batch-instance-role', policyArn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore' });
        }
        w('s3.amazonaws.com', 'PutBucketPolicy', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', policy: bucketPolicy('acme-payments-exports', 'payments-api-irsa') });
        w('s3.amazonaws.com', 'PutBucketEncryption', { bucketName: 'acme-checkout-receipts', Host: 'acme-checkout-receipts.s3.us-west-2.amazonaws.com', ServerSideEncryptionConfiguration: { Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/checkout' }, BucketKeyEnabled: true } } });
        w('s3.amazonaws.com', 'PutBucketPublicAccessBlock', { bucketName: 'acme-search-snapshots', Host: 'acme-search-snapshots.s3.us-west-2.amazonaws.com', PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } });
        w('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { groupId: 'sg-0a1b2c3d4e5f60718', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, ipRanges: { items: [{ cidrIp: '10.0.0.0/16', description: 'payments pods' }] } }] } }, { _return: true });
        w('ec2.amazonaws.com', 'CreateTags', { resourcesSet: { items: [{ resourceId: 'sg-0a1b2c3d4e5f60718' }] }, tagSet: { items: [{ key: 'owner', value: 'payments' }] } });
        w('eks.amazonaws.com', 'TagResource', { resourceArn: `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/prod-eks-01`, tags: { 'cost-center': 'platform' } });
      }
      if (rnd() < 0.5) {
        ct(t + int(100_000, 400_000), id, 'ecr.amazonaws.com', 'GetAuthorizationToken', { ip: runner, ua: UA.docker, rp: null });
        for (const name of ['InitiateLayerUpload', 'UploadLayerPart', 'CompleteLayerUpload', 'PutImage']) ct(t + int(400_000, 600_000), id, 'ecr.amazonaws.com', name, { ip: runner, ua: UA.docker, readOnly: false, rp: { repositoryName: pick(['payments-api', 'checkout-worker', 'search-indexer']), registryId: ACCOUNT } });
      }
      if (rnd() < 0.15) ct(t + int(300_000, 500_000), id, 'lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', { ip: runner, ua: UA.terraform, readOnly: false, rp: { functionName: 'receipt-mailer', s3Bucket: 'acme-lambda-artifacts', s3Key: `receipt-mailer/${hex(12)}.zip`, publish: true } });
    }
  }

  // ── EKS audit ────────────────────────────────────────────────────────────────────────────────────────
  function audit(c: Cluster, ms: number, user: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }, verb: string, ref: Rec, o: { ip: string; ua: string; code?: number; uri?: string; level?: string; reason?: string; requestObject?: Rec; responseObject?: Rec; stage?: string }): void {
    const ns = ref.namespace as string | undefined;
    const res = ref.resource as string;
    const group = ref.apiGroup as string | undefined;
    const base = group ? `/apis/${group}/${ref.apiVersion ?? 'v1'}` : '/api/v1';
    const path = `${base}${ns ? `/namespaces/${ns}` : ''}/${res}${ref.name ? `/${String(ref.name)}` : ''}${ref.subresource ? `/${String(ref.subresource)}` : ''}`;
    const uri = o.uri ?? (verb === 'watch' ? `${path}?allowWatchBookmarks=true&resourceVersion=${int(100000, 9999999)}&timeout=${int(5, 9)}m${int(0, 59)}s&timeoutSeconds=${int(300, 600)}&watch=true` : verb === 'list' ? `${path}?limit=500&resourceVersion=0` : path);
    const r: Rec = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: o.level ?? 'Metadata',
      auditID: uuid(),
      stage: o.stage ?? 'ResponseComplete',
      requestURI: uri,
      verb,
      user,
      // through a public-only endpoint, what runs in the VPC arrives from the NAT gateway
      sourceIPs: [c.endpoint === 'public' && o.ip.startsWith(c.vpc) ? c.nat : o.ip],
      userAgent: o.ua,
      objectRef: { apiVersion: 'v1', ...ref },
      responseStatus: { metadata: {}, code: o.code ?? (verb === 'create' ? 201 : 200) },
      requestReceivedTimestamp: iso(ms).replace('Z', `${int(100, 999)}Z`),
      stageTimestamp: iso(ms + int(1, 40)).replace('Z', `${int(100, 999)}Z`),
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': o.reason ?? 'RBAC: allowed by ClusterRoleBinding "system:controller" of ClusterRole "system:controller" to User' },
    };
    if (o.requestObject !== undefined) r.requestObject = o.requestObject;
    if (o.responseObject !== undefined) r.responseObject = o.responseObject;
    c.out.push({ t: ms, line: JSON.stringify(r) });
  }
  const sys = (username: string, groups: string[] = ['system:authenticated']): { username: string; groups: string[] } => ({ username, groups });
  const saUser = (ns: string, name: string, pod?: string, node?: string): { username: string; uid: string; groups: string[]; extra?: Record<string, string[]> } => ({
    username: `system:serviceaccount:${ns}:${name}`,
    uid: uuid(),
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    ...(pod ? { extra: { 'authentication.kubernetes.io/pod-name': [pod], 'authentication.kubernetes.io/pod-uid': [uuid()], ...(node ? { 'authentication.kubernetes.io/node-name': [node] } : {}) } } : {}),
  });
  const iamUser = (role: string, roleId: string, session: string, k: string, canonical = `arn:aws:iam::${ACCOUNT}:role/${role}`): { username: string; uid: string; groups: string[]; extra: Record<string, string[]> } => ({
    username: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
    uid: `aws-iam-authenticator:${ACCOUNT}:${roleId}`,
    groups: ['system:authenticated'],
    extra: { accessKeyId: [k], arn: [`arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`], canonicalArn: [canonical], principalId: [roleId], sessionName: [session] },
  });
  const KUBE = (name: string): string => `${name}/v1.30.4 (linux/amd64) kubernetes/a737599`;

  for (let h = 0; h < hours; h++) {
    const work = working(h);
    for (const c of clusters) {
      const n = (rate: number): number => count(rate * c.scale);
      const cp = '10.0.' + (c.scale < 1 ? '201.9' : '200.17'); // control-plane ENI addresses
      // Kubelets.
      for (const node of c.nodes) {
        const kubelet = { username: `system:node:${node.name}`, uid: `aws-iam-authenticator:${ACCOUNT}:${c.nodeRoleId}`, groups: ['system:bootstrappers', 'system:nodes', 'system:authenticated'], extra: { accessKeyId: [nodeKey(node.instance, h)], arn: [`arn:aws:sts::${ACCOUNT}:assumed-role/${c.nodeRole}/${node.instance}`], canonicalArn: [`arn:aws:iam::${ACCOUNT}:role/${c.nodeRole}`], principalId: [c.nodeRoleId], sessionName: [node.instance] } };
        const ua = KUBE('kubelet');
        for (let i = count(60); i > 0; i--) audit(c, within(h), kubelet, 'update', { resource: 'leases', namespace: 'kube-node-lease', name: node.name, apiGroup: 'coordination.k8s.io' }, { ip: node.ip, ua, reason: '' });
        for (let i = count(12); i > 0; i--) audit(c, within(h), kubelet, 'patch', { resource: 'nodes', name: node.name, subresource: 'status' }, { ip: node.ip, ua, reason: '' });
        for (let i = count(4); i > 0; i--) audit(c, within(h), kubelet, pick(['get', 'list', 'watch']), { resource: 'pods', ...(rnd() < 0.5 ? { namespace: pick(apps).ns } : {}) }, { ip: node.ip, ua, reason: '' });
        for (let i = count(3); i > 0; i--) {
          const a = pick(apps);
          audit(c, within(h), kubelet, pick(['get', 'watch']), { resource: pick(['secrets', 'configmaps']), namespace: a.ns, name: pick([`${a.sa}-config`, 'kube-root-ca.crt', `${a.sa}-tls`]) }, { ip: node.ip, ua, reason: '' });
        }
        for (let i = count(2); i > 0; i--) {
          const a = pick(apps);
          audit(c, within(h), kubelet, 'patch', { resource: 'pods', namespace: a.ns, name: pick(appPods.get(a.ns)!), subresource: 'status' }, { ip: node.ip, ua, reason: '' });
        }
        if (rnd() < 0.3) audit(c, within(h), kubelet, 'create', { resource: 'serviceaccounts', namespace: pick(apps).ns, name: pick(apps).sa, subresource: 'token' }, { ip: node.ip, ua, reason: '' });
      }
      // Control plane and EKS.
      for (const [who, ua] of [
        ['system:kube-controller-manager', KUBE('kube-controller-manager')],
        ['system:kube-scheduler', KUBE('kube-scheduler')],
      ] as const) {
        for (let i = n(60); i > 0; i--) audit(c, within(h), sys(who), pick(['get', 'update']), { resource: 'leases', namespace: 'kube-system', name: who.split(':')[1], apiGroup: 'coordination.k8s.io' }, { ip: cp, ua });
      }
      for (let i = n(25); i > 0; i--) {
        const ctl = pick(['endpointslice-controller', 'replicaset-controller', 'deployment-controller', 'horizontal-pod-autoscaler', 'namespace-controller', 'generic-garbage-collector', 'resourcequota-controller']);
        const res = ctl === 'endpointslice-controller' ? 'endpointslices' : ctl === 'replicaset-controller' ? 'pods' : ctl === 'deployment-controller' ? 'replicasets' : pick(['pods', 'deployments', 'namespaces']);
        const group = res === 'endpointslices' ? 'discovery.k8s.io' : res === 'replicasets' || res === 'deployments' ? 'apps' : undefined;
        audit(c, within(h), saUser('kube-system', ctl), pick(['get', 'list', 'watch', 'update']), { resource: res, namespace: pick(apps).ns, ...(group ? { apiGroup: group } : {}) }, { ip: cp, ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:' + ctl });
      }
      for (let i = n(30); i > 0; i--) {
        const who = pick(['eks:certificate-controller', 'eks:node-manager', 'eks:addon-manager', 'eks:cloud-controller-manager', 'eks:pod-identity-mutating-webhook', 'eks:k8s-metrics', 'eks:nodewatcher', 'eks:authenticator']);
        const [verb, res, ns] =
          who === 'eks:certificate-controller'
            ? [pick(['list', 'watch']), 'certificatesigningrequests', undefined]
            : who === 'eks:addon-manager'
              ? [pick(['get', 'patch']), pick(['daemonsets', 'deployments', 'configmaps']), 'kube-system']
              : who === 'eks:authenticator' || who === 'eks:pod-identity-mutating-webhook'
                ? [pick(['get', 'list', 'watch']), 'configmaps', 'kube-system']
                : [pick(['get', 'list', 'watch']), pick(['nodes', 'pods']), undefined];
        const group = res === 'certificatesigningrequests' ? 'certificates.k8s.io' : res === 'daemonsets' || res === 'deployments' ? 'apps' : undefined;
        audit(c, within(h), sys(who), verb, { resource: res, ...(ns ? { namespace: ns } : {}), ...(group ? { apiGroup: group } : {}), ...(res === 'configmaps' && who === 'eks:authenticator' ? { name: 'aws-auth' } : {}) }, { ip: cp, ua: `${who.split(':')[1]}/v0.0.0 (linux/amd64) kubernetes/$Format`, reason: `RBAC: allowed by ClusterRoleBinding "${who}" of ClusterRole "${who}" to User "${who}"` });
      }
      // kube-system service accounts, from their pods.
      const ksys: [string, string, [string, string, string | undefined][]][] = [
        ['coredns', 'coredns/v1.11.3', [['list', 'endpointslices', undefined], ['watch', 'endpointslices', undefined], ['watch', 'services', undefined], ['watch', 'namespaces', undefined]]],
        ['aws-node', 'aws-vpc-cni/v1.18.5', [['get', 'nodes', undefined], ['get', 'pods', undefined], ['list', 'pods', undefined], ['watch', 'eniconfigs', undefined]]],
        ['kube-proxy', KUBE('kube-proxy'), [['watch', 'endpointslices', undefined], ['watch', 'services', undefined], ['get', 'nodes', undefined]]],
        ['ebs-csi-controller-sa', 'csi-provisioner/v5.1.0', [['watch', 'persistentvolumeclaims', undefined], ['watch', 'persistentvolumes', undefined], ['get', 'leases', 'kube-system'], ['update', 'leases', 'kube-system']]],
        ['cluster-autoscaler', 'cluster-autoscaler/v1.30.2', [['list', 'nodes', undefined], ['list', 'pods', undefined], ['get', 'configmaps', 'kube-system'], ['update', 'configmaps', 'kube-system'], ['update', 'leases', 'kube-system']]],
        ['metrics-server', 'metrics-server/v0.7.2', [['get', 'nodes', undefined], ['list', 'nodes', undefined], ['get', 'configmaps', 'kube-system']]],
      ];
      for (const [sa, ua, calls] of ksys) {
        const pod = `${sa}-${hex(9)}-${hex(5)}`;
        for (let i = n(sa === 'aws-node' ? 20 : 10); i > 0; i--) {
          const [verb, res, ns] = pick(calls);
          const group = res === 'endpointslices' ? 'discovery.k8s.io' : res === 'leases' ? 'coordination.k8s.io' : res === 'eniconfigs' ? 'crd.k8s.amazonaws.com' : undefined;
          audit(c, within(h), saUser('kube-system', sa, pod, pick(c.nodes).name), verb, { resource: res, ...(ns ? { namespace: ns } : {}), ...(group ? { apiGroup: group } : {}), ...(res === 'configmaps' && sa === 'cluster-autoscaler' ? { name: 'cluster-autoscaler-status' } : {}), ...(res === 'leases' ? { name: sa } : {}) }, { ip: pick(c.nodes).ip, ua, reason: `RBAC: allowed by ClusterRoleBinding "${sa}" of ClusterRole "${sa}" to ServiceAccount "${sa}/kube-system"` });
        }
      }
      // Platform workloads.
      const platform: [string, string, string, [string, string, string | undefined, string?][]][] = [
        ['argocd', 'argocd-application-controller', 'argocd-application-controller/v2.12.6', [['list', 'deployments', undefined, 'apps'], ['watch', 'deployments', undefined, 'apps'], ['watch', 'services', undefined], ['watch', 'configmaps', undefined], ['get', 'applications', 'argocd', 'argoproj.io'], ['patch', 'applications', 'argocd', 'argoproj.io']]],
        ['cert-manager', 'cert-manager', 'cert-manager-controller/v1.16.1', [['get', 'secrets', 'cert-manager'], ['update', 'leases', 'kube-system', 'coordination.k8s.io'], ['list', 'certificates', undefined, 'cert-manager.io'], ['watch', 'certificaterequests', undefined, 'cert-manager.io']]],
        ['external-dns', 'external-dns', 'external-dns/v0.15.0', [['list', 'services', undefined], ['list', 'ingresses', undefined, 'networking.k8s.io'], ['list', 'nodes', undefined]]],
        ['monitoring', 'prometheus-k8s', 'Prometheus/2.55.0', [['list', 'pods', undefined], ['watch', 'pods', undefined], ['list', 'endpoints', undefined], ['watch', 'services', undefined], ['get', 'nodes', undefined, undefined]]],
        ['logging', 'fluent-bit', 'fluent-bit/3.1.9', [['get', 'pods', undefined], ['get', 'namespaces', undefined]]],
      ];
      for (const [ns, sa, ua, calls] of platform) {
        const pod = `${sa}-${hex(9)}-${hex(5)}`;
        for (let i = n(ns === 'argocd' || ns === 'monitoring' ? 20 : 8); i > 0; i--) {
          const [verb, res, rns, group] = pick(calls);
          audit(c, within(h), saUser(ns, sa, pod, pick(c.nodes).name), verb, { resource: res, ...(rns ? { namespace: rns } : {}), ...(group ? { apiGroup: group } : {}) }, { ip: pick(c.nodes).ip, ua, reason: `RBAC: allowed by ClusterRoleBinding "${sa}" of ClusterRole "${sa}" to ServiceAccount "${sa}/${ns}"` });
        }
      }
      // cert-manager renews a certificate now and then (the TLS secret is updated).
      if (rnd() < 0.05) {
        const a = pick(apps);
        audit(c, within(h), saUser('cert-manager', 'cert-manager', `cert-manager-${hex(9)}-${hex(5)}`, pick(c.nodes).name), 'update', { resource: 'secrets', namespace: a.ns, name: `${a.sa}-tls` }, { ip: pick(c.nodes).ip, ua: 'cert-manager-certificates-issuing/v1.16.1', reason: 'RBAC: allowed by ClusterRoleBinding "cert-manager-controller-certificates" of ClusterRole "cert-manager-controller-certificates" to ServiceAccount "cert-manager/cert-manager"' });
      }
      // Applications' leader election.
      for (const a of apps) {
        for (let i = n(6); i > 0; i--) audit(c, within(h), saUser(a.ns, a.sa, pick(appPods.get(a.ns)!), pick(c.nodes).name), pick(['get', 'update']), { resource: 'leases', namespace: a.ns, name: `${a.sa}-leader`, apiGroup: 'coordination.k8s.io' }, { ip: pick(c.nodes).ip, ua: `${a.sa}/1.42.0 (linux/amd64) kubernetes/client-go`, reason: `RBAC: allowed by RoleBinding "${a.sa}-leader-election/${a.ns}" of Role "leader-election" to ServiceAccount "${a.sa}/${a.ns}"` });
      }
      // People with kubectl, working hours.
      if (work) {
        for (const p of people.filter((x) => x.kubectl)) {
          const u = iamUser(p.role, p.roleId, p.name, personKey(p, h, true));
          const ip = personIp(p, h);
          const ua = `kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46`;
          for (let i = n(4); i > 0; i--) {
            const a = pick(apps);
            const t = within(h);
            const what = pick(['get-pods', 'describe', 'logs', 'get-deploy', 'get-events']);
            const reason = `RBAC: allowed by ClusterRoleBinding "eks-access-entry-view" of ClusterRole "view" to Group "eks-view"`;
            if (what === 'get-pods') audit(c, t, u, 'list', { resource: 'pods', namespace: a.ns }, { ip, ua, reason });
            else if (what === 'describe') {
              const pod = pick(appPods.get(a.ns)!);
              audit(c, t, u, 'get', { resource: 'pods', namespace: a.ns, name: pod }, { ip, ua, reason });
              audit(c, t + 40, u, 'list', { resource: 'events', namespace: a.ns }, { ip, ua, reason, uri: `/api/v1/namespaces/${a.ns}/events?fieldSelector=involvedObject.name%3D${pod}&limit=500` });
            } else if (what === 'logs') audit(c, t, u, 'get', { resource: 'pods', namespace: a.ns, name: pick(appPods.get(a.ns)!), subresource: 'log' }, { ip, ua, reason });
            else if (what === 'get-deploy') audit(c, t, u, 'get', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, { ip, ua, reason });
            else audit(c, t, u, 'list', { resource: 'events', namespace: a.ns }, { ip, ua, reason });
          }
          // Now and then: `kubectl auth can-i`, and a port-forward to look at an app's admin page.
          if (rnd() < 0.15) audit(c, within(h), u, 'create', { resource: 'selfsubjectaccessreviews', apiGroup: 'authorization.k8s.io' }, { ip, ua, reason: '' });
          if (rnd() < 0.05) {
            const a = pick(apps);
            audit(c, within(h), u, 'create', { resource: 'pods', namespace: a.ns, name: pick(appPods.get(a.ns)!), subresource: 'portforward' }, { ip, ua, reason: `RBAC: allowed by ClusterRoleBinding "eks-access-entry-edit" of ClusterRole "edit" to Group "eks-edit"`, code: 101 });
          }
        }
        // CI deploys (an access entry maps the CI role to an edit group in the app namespaces).
        if (rnd() < 0.35 * (c.scale < 1 ? 1.5 : 1)) {
          const a = pick(apps);
          const runner = pick(GH_RUNNERS) + int(2, 250);
          const u = iamUser(CI_ROLE, ciRoleId, 'GitHubActions', key());
          const t = within(h);
          const ua = 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46';
          const reason = `RBAC: allowed by RoleBinding "ci-deploy/${a.ns}" of ClusterRole "edit" to Group "ci-deployers"`;
          audit(c, t, u, 'get', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, { ip: runner, ua, reason });
          audit(c, t + 300, u, 'patch', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, { ip: runner, ua, reason, level: 'RequestResponse', requestObject: { spec: { template: { spec: { containers: [{ name: a.sa, image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${a.ns}-${a.sa}:1.${int(40, 60)}.${int(0, 9)}` }] } } } } });
          audit(c, t + 500, u, 'patch', { resource: 'configmaps', namespace: a.ns, name: `${a.sa}-config` }, { ip: runner, ua, reason });
          // Helm keeps its release history in secrets of the release's namespace: it lists them and writes the next.
          if (a.ns !== 'search') {
            const helm = 'Helm/3.16.2';
            const rev = int(20, 90);
            audit(c, t + 600, u, 'list', { resource: 'secrets', namespace: a.ns }, { ip: runner, ua: helm, reason, uri: `/api/v1/namespaces/${a.ns}/secrets?labelSelector=name%3D${a.sa}%2Cowner%3Dhelm` });
            audit(c, t + 700, u, 'create', { resource: 'secrets', namespace: a.ns, name: `sh.helm.release.v1.${a.sa}.v${rev}` }, { ip: runner, ua: helm, reason });
            audit(c, t + 20_000, u, 'update', { resource: 'secrets', namespace: a.ns, name: `sh.helm.release.v1.${a.sa}.v${rev - 1}` }, { ip: runner, ua: helm, reason });
          }
          for (let i = 0; i < 6; i++) audit(c, t + 1000 + i * 5000, u, pick(['get', 'watch']), { resource: pick(['deployments', 'replicasets']), namespace: a.ns, apiGroup: 'apps' }, { ip: runner, ua, reason });
          const rs = `${a.sa}-${hex(9)}`;
          audit(c, t + 900, saUser('kube-system', 'deployment-controller'), 'create', { resource: 'replicasets', namespace: a.ns, name: rs, apiGroup: 'apps' }, { ip: cp, ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:deployment-controller' });
          for (let i = 0; i < 2; i++) {
            const pod = `${rs}-${hex(5)}`;
            const node = pick(c.nodes);
            audit(c, t + 1200 + i * 100, saUser('kube-system', 'replicaset-controller'), 'create', { resource: 'pods', namespace: a.ns, name: pod }, { ip: cp, ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:replicaset-controller' });
            audit(c, t + 1300 + i * 100, sys('system:kube-scheduler'), 'create', { resource: 'pods', namespace: a.ns, name: pod, subresource: 'binding' }, { ip: cp, ua: KUBE('kube-scheduler') });
            audit(c, t + 4000 + i * 100, { username: `system:node:${node.name}`, groups: ['system:nodes', 'system:authenticated'] }, 'patch', { resource: 'pods', namespace: a.ns, name: pod, subresource: 'status' }, { ip: node.ip, ua: KUBE('kubelet') });
            audit(c, t + 30000 + i * 100, saUser('kube-system', 'replicaset-controller'), 'delete', { resource: 'pods', namespace: a.ns, name: pick(appPods.get(a.ns)!) }, { ip: cp, ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:replicaset-controller' });
          }
        }
      }
    }
  }

  // ── GuardDuty (low findings about the bastion, re-reported as their count grows) ─────────────────────────
  const findings = [
    { type: 'Recon:EC2/PortProbeUnprotectedPort', title: 'Unprotected port on EC2 instance i-0b45710a9c2d3e4f5 is being probed.', port: 22 },
    { type: 'UnauthorizedAccess:EC2/SSHBruteForce', title: 'i-0b45710a9c2d3e4f5 is being targeted by SSH brute force attacks.', port: 22 },
    { type: 'Recon:EC2/PortProbeUnprotectedPort', title: 'Unprotected port on EC2 instance i-0b45710a9c2d3e4f5 is being probed.', port: 3389 },
  ];
  findings.forEach((f, i) => {
    const id = hex(32);
    const first = T0 + (3 + i * 17) * 3600_000;
    for (let u = 0, last = first; last < T0 + hours * 3600_000; u++, last += 6 * 3600_000) {
      const remote = `${pick(['45.148.10.', '193.32.162.', '218.92.0.'])}${int(2, 250)}`;
      const finding = {
        accountId: ACCOUNT,
        arn: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/4eb0a1f0c2d3e4f5a6b7c8d9e0f1a2b3/finding/${id}`,
        createdAt: iso(first),
        description: `${f.title.replace(/\.$/, '')} from ${remote}.`,
        id,
        partition: 'aws',
        region: REGION,
        resource: {
          resourceType: 'Instance',
          instanceDetails: { instanceId: 'i-0b45710a9c2d3e4f5', instanceType: 't3.micro', instanceState: 'running', availabilityZone: `${REGION}a`, imageId: 'ami-0c2b8ca1dad447f8a', networkInterfaces: [{ publicIp: '54.70.10.1', privateIpAddress: '10.0.3.14', subnetId: 'subnet-0a1b2c3d', vpcId: 'vpc-0a1b2c3d4e5f67890' }], tags: [{ key: 'Name', value: 'bastion' }] },
        },
        schemaVersion: '2.0',
        service: {
          action: { actionType: 'NETWORK_CONNECTION', networkConnectionAction: { connectionDirection: 'INBOUND', localPortDetails: { port: f.port, portName: f.port === 22 ? 'SSH' : 'RDP' }, protocol: 'TCP', blocked: false, remoteIpDetails: { ipAddressV4: remote, organization: { asn: '51396', asnOrg: 'Pfcloud UG', isp: 'Pfcloud UG', org: 'Pfcloud UG' }, country: { countryName: 'Germany' } } } },
          archived: false,
          count: 3 + u * int(5, 40),
          detectorId: '4eb0a1f0c2d3e4f5a6b7c8d9e0f1a2b3',
          eventFirstSeen: iso(first),
          eventLastSeen: iso(last),
          resourceRole: 'TARGET',
          serviceName: 'guardduty',
          additionalInfo: { value: '{}', type: 'default' },
        },
        severity: 2,
        title: f.title,
        type: f.type,
        updatedAt: iso(last + 120_000),
      };
      prod.push({ t: last + 120_000, line: JSON.stringify(finding) });
    }
  });

  // ── Runtime telemetry of application pods ─────────────────────────────────────────────────────────────
  const prodCluster = clusters[0]!;
  for (const a of apps) {
    for (const pod of appPods.get(a.ns)!) {
      const node = pick(prodCluster.nodes);
      const podIp = `10.0.${int(16, 190)}.${int(2, 250)}`;
      const image = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${a.ns}-${a.sa}:1.42.0`;
      const exe = a.ns === 'payments' ? '/usr/local/bin/python3.12' : a.ns === 'checkout' ? '/usr/local/bin/node' : '/app/indexer';
      const rt = (ms: number, kind: string, body: Rec): void => {
        const r: Rec = {
          schema: 'seam.runtime/v1',
          cluster: prodCluster.name,
          account: ACCOUNT,
          region: REGION,
          namespace: a.ns,
          pod,
          container: a.sa,
          image,
          service_account: a.sa,
          node: node.name,
          sensor: { name: 'seam-sidecar', version: '0.1.0' },
          id: `01J${hex(23).toUpperCase()}`,
          time: iso(ms),
          kind,
          ...body,
        };
        prod.push({ t: ms, line: JSON.stringify(r) });
      };
      const proc = { pid: 1, ppid: 0, exe, uid: 10001 };
      rt(T0 + int(0, 60_000), 'process', { process: { pid: 1, ppid: 0, exe, cmdline: a.ns === 'payments' ? 'python3.12 -m gunicorn app:app -b 0.0.0.0:8080 -w 4' : a.ns === 'checkout' ? 'node /app/dist/worker.js' : '/app/indexer --config /etc/indexer/config.yaml', uid: 10001, user: 'app', cwd: '/app', parent_exe: '/usr/bin/containerd-shim-runc-v2' } });
      for (let h = 0; h < hours; h++) {
        // The SDK refreshes credentials: IRSA reads the projected token; Pod Identity asks the agent.
        if (a.podIdentity) rt(T0 + h * 3600_000 + int(0, 120_000), 'network', { process: proc, network: { direction: 'egress', protocol: 'tcp', src_ip: podIp, src_port: int(32768, 60999), dst_ip: '169.254.170.23', dst_port: 80, bytes_out: 210, bytes_in: 1480 } });
        else rt(T0 + h * 3600_000 + int(0, 120_000), 'file', { process: proc, file: { op: 'open', path: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token', flags: 'O_RDONLY' } });
        for (let i = count(12); i > 0; i--) {
          const dst = pick([
            ['10.0.40.12', 5432, 'payments-db.cluster-c9akciq32.us-west-2.rds.amazonaws.com'],
            ['52.92.180.65', 443, `${a.bucket}.s3.${REGION}.amazonaws.com`],
            ['52.94.133.131', 443, `sts.${REGION}.amazonaws.com`],
            ['172.20.55.3', 9200, 'opensearch.search.svc.cluster.local'],
            ['52.119.160.10', 443, `kms.${REGION}.amazonaws.com`],
          ] as const);
          const ms = within(h);
          rt(ms, 'dns', { process: proc, dns: { query: dst[2], qtype: 'A', rcode: 'NOERROR', answers: [dst[0]], server: '172.20.0.10' } });
          rt(ms + 3, 'network', { process: proc, network: { direction: 'egress', protocol: 'tcp', src_ip: podIp, src_port: int(32768, 60999), dst_ip: dst[0], dst_port: dst[1], bytes_out: int(200, 9000), bytes_in: int(200, 90000) } });
        }
        for (let i = count(4); i > 0; i--) rt(within(h), 'file', { process: proc, file: { op: pick(['open', 'read']), path: pick(['/app/config/settings.yaml', '/etc/ssl/certs/ca-certificates.crt', '/tmp/upload-buffer.json', '/etc/hosts']), flags: 'O_RDONLY' } });
        // An exec readiness probe on the payments pods (kubelet runs it through runc).
        if (a.ns === 'payments') for (let i = count(6); i > 0; i--) rt(within(h), 'process', { process: { pid: int(2000, 60000), ppid: 0, exe: '/usr/local/bin/python3.12', cmdline: 'python3.12 /app/healthcheck.py --ready', uid: 10001, user: 'app', cwd: '/app', parent_exe: '/usr/bin/runc' } });
      }
    }
  }

  // ── Benign neighbours of the cross-account / exposure rules (generated last, so every record above keeps its
  // random draws): a nightly DynamoDB export to the account's own bucket, payments pods reading their bucket
  // through the S3 gateway endpoint (the endpoint owner's network activity records, private addresses), an
  // organization-only RAM share of the VPC subnets and a VPC-endpoint-scoped bucket policy logged as an object
  // (Terraform), the reporting user's MFA-gated CLI session, one key deactivated by its own user, and a
  // mistyped MFA code followed by the right one.
  for (let day = 0; day < Math.ceil(hours / 24); day++) {
    const night = T0 + day * 86_400_000 + 2 * 3600_000;
    if (night - T0 >= hours * 3600_000) break;
    const exportRole = assumed('dynamodb-nightly-export-lambda-role', 'AROADYNAMODBEXPORT01', 'dynamodb-nightly-export', key());
    ct(night + int(0, 600_000), exportRole, 'dynamodb.amazonaws.com', 'ExportTableToPointInTime', {
      ip: '52.32.10.4',
      ua: UA.lambda,
      readOnly: false,
      rp: { tableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/checkout-orders`, s3Bucket: 'acme-analytics-exports', s3BucketOwner: ACCOUNT, s3Prefix: `checkout-orders/${ctTime(night).slice(0, 10)}/`, exportFormat: 'DYNAMODB_JSON', exportType: 'FULL_EXPORT' },
      re: { exportDescription: { exportArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/checkout-orders/export/0${hex(16)}`, exportStatus: 'IN_PROGRESS' } },
    });
    const payments = apps[0]!;
    for (let i = 0; i < 6; i++) {
      const pod = assumed(payments.role, 'AROAPAYMENTSAPIIRSA1', `botocore-session-${Math.floor(night / 1000) + i}`, key());
      const node = clusters[0]!.nodes[i % clusters[0]!.nodes.length]!;
      ct(night + 3600_000 * (i + 3) + int(0, 3_000_000), pod, 's3.amazonaws.com', 'GetObject', {
        ip: node.ip,
        ua: UA.botoApp,
        rp: { bucketName: payments.bucket, Host: `${payments.bucket}.s3.${REGION}.amazonaws.com`, key: `exports/${hex(8)}.csv` },
        extra: { eventType: 'AwsVpceEvent', eventCategory: 'NetworkActivity', managementEvent: false, vpcEndpointId: 'vpce-0a1b2c3d4e5f60718', vpcEndpointAccountId: ACCOUNT },
      });
    }
  }
  if (hours > 30) {
    const t = T0 + 24 * 3600_000 + 15 * 3600_000 + int(300_000, 900_000);
    const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
    const runner = GH_RUNNERS[0]! + int(2, 250);
    ct(t, tf, 'ram.amazonaws.com', 'CreateResourceShare', {
      ip: runner,
      ua: UA.terraform,
      readOnly: false,
      rp: { name: 'shared-app-subnets', resourceArns: [`arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-0${hex(16)}`], principals: ['222233334444'], allowExternalPrincipals: false },
      re: { resourceShare: { resourceShareArn: `arn:aws:ram:${REGION}:${ACCOUNT}:resource-share/${uuid()}`, allowExternalPrincipals: false, status: 'ACTIVE' } },
    });
    ct(t + 20_000, tf, 's3.amazonaws.com', 'PutBucketPolicy', {
      ip: runner,
      ua: UA.terraform,
      readOnly: false,
      rp: {
        bucketName: 'acme-search-snapshots',
        Host: 'acme-search-snapshots.s3.us-west-2.amazonaws.com',
        policy: '',
        bucketPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::acme-search-snapshots', 'arn:aws:s3:::acme-search-snapshots/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
            { Sid: 'ThroughOurEndpointOnly', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::acme-search-snapshots/*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-0a1b2c3d4e5f60718' } } },
            { Sid: 'Indexer', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/search-indexer-pod-identity` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::acme-search-snapshots/*' },
          ],
        },
      },
    });
    const legacy: Rec = { type: 'IAMUser', principalId: 'AIDALEGACYREPORTING1', arn: `arn:aws:iam::${ACCOUNT}:user/svc-legacy-reporting`, accountId: ACCOUNT, accessKeyId: 'AKIALEGACYREPORTING1', userName: 'svc-legacy-reporting' };
    const officeIp = people[1]!.ips[0]!;
    const morning = T0 + 24 * 3600_000 + 9 * 3600_000 + int(0, 600_000);
    const mfa = `arn:aws:iam::${ACCOUNT}:mfa/svc-legacy-reporting`;
    ct(morning, legacy, 'sts.amazonaws.com', 'GetSessionToken', { ip: officeIp, ua: UA.cliMac + 'sts.get-session-token', rp: { durationSeconds: 43200, serialNumber: mfa }, error: 'AccessDenied' });
    ctOut[ctOut.length - 1]!.line = ctOut[ctOut.length - 1]!.line.replace('User is not authorized to perform this operation', 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
    ct(morning + 40_000, legacy, 'sts.amazonaws.com', 'GetSessionToken', { ip: officeIp, ua: UA.cliMac + 'sts.get-session-token', rp: { durationSeconds: 43200, serialNumber: mfa }, re: { credentials: { accessKeyId: key(), sessionToken: '[REDACTED]', expiration: 'Nov 3, 2026, 9:00:00 PM' } } });
    ct(morning + 900_000, legacy, 'iam.amazonaws.com', 'UpdateAccessKey', { ip: officeIp, ua: UA.cliMac + 'iam.update-access-key', region: 'us-east-1', readOnly: false, rp: { userName: 'svc-legacy-reporting', accessKeyId: 'AKIALEGACYREPORTING0', status: 'Inactive' } });
  }

  // ── Operators, controllers and service chatter (generated after everything above, so the records above keep
  // their random draws). What a real account with two EKS clusters logs most of: AWS Config's recorder and the
  // security services' service-linked roles describing everything; the clusters' controllers with IRSA roles
  // (cluster-autoscaler, the AWS Load Balancer Controller, external-dns, the EBS CSI driver, External Secrets,
  // Fluent Bit, a CloudWatch metrics exporter) polling their APIs and now and then changing their own
  // resources; their Kubernetes side (kube-state-metrics, the HPA reading the metrics API, the load balancer
  // controller's target group bindings, External Secrets writing the secrets it syncs, cert-manager's CA
  // injector patching webhook CA bundles, Kyverno); and operators' routine changes in working hours (a
  // manual RDS snapshot before a migration, a database reboot, an office /32 SSH rule on the bastion's group,
  // an IAM role for a new IRSA workload trusting the cluster's own OIDC provider, a CloudWatch alarm).
  {
    const slr = (name: string, svc: string): Rec => {
      const id = assumed(name, 'AROA' + (name.toUpperCase().replace(/[^A-Z0-9]/g, '') + '0000000000000000').slice(0, 16), svc.split('.')[0]!.replace(/^./, (x) => x.toUpperCase()), key());
      (id as { invokedBy?: string }).invokedBy = svc;
      return id;
    };
    const CONFIG_READS: [string, string, Rec | null][] = [
      ['ec2.amazonaws.com', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeSecurityGroups', { securityGroupSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeNetworkInterfaces', { networkInterfaceIdSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeVolumes', { volumeSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeSubnets', { subnetSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeRouteTables', { routeTableIdSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeNetworkAcls', { networkAclIdSet: {}, filterSet: {} }],
      ['ec2.amazonaws.com', 'DescribeVpcEndpoints', { vpcEndpointId: {}, filterSet: {} }],
      ['iam.amazonaws.com', 'GetAccountAuthorizationDetails', { filter: ['Role', 'User', 'Group', 'LocalManagedPolicy'], maxItems: 100 }],
      ['iam.amazonaws.com', 'ListRoles', { maxItems: 100 }],
      ['iam.amazonaws.com', 'GetRole', { roleName: pick(['payments-api-irsa', 'checkout-worker-irsa', 'github-actions-deploy', 'prod-eks-01-node-group-role']) }],
      ['iam.amazonaws.com', 'ListAttachedRolePolicies', { roleName: 'github-actions-deploy' }],
      ['iam.amazonaws.com', 'ListUsers', { maxItems: 100 }],
      ['iam.amazonaws.com', 'GetPolicyVersion', { policyArn: `arn:aws:iam::${ACCOUNT}:policy/payments-exports-read`, versionId: 'v5' }],
      ['s3.amazonaws.com', 'GetBucketAcl', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', acl: '' }],
      ['s3.amazonaws.com', 'GetBucketPolicy', { bucketName: 'acme-checkout-receipts', Host: 'acme-checkout-receipts.s3.us-west-2.amazonaws.com', policy: '' }],
      ['s3.amazonaws.com', 'GetBucketLogging', { bucketName: 'acme-search-snapshots', Host: 'acme-search-snapshots.s3.us-west-2.amazonaws.com', logging: '' }],
      ['s3.amazonaws.com', 'GetBucketVersioning', { bucketName: 'acme-reports', Host: 'acme-reports.s3.us-west-2.amazonaws.com', versioning: '' }],
      ['s3.amazonaws.com', 'GetBucketPublicAccessBlock', { bucketName: 'acme-batch-artifacts', Host: 'acme-batch-artifacts.s3.us-west-2.amazonaws.com', publicAccessBlock: '' }],
      ['eks.amazonaws.com', 'DescribeCluster', { name: pick(['prod-eks-01', 'staging-eks-01']) }],
      ['rds.amazonaws.com', 'DescribeDBInstances', null],
      ['rds.amazonaws.com', 'DescribeDBSnapshots', { dBInstanceIdentifier: 'payments-db' }],
      ['lambda.amazonaws.com', 'GetPolicy20150331v2', { functionName: pick(['receipt-mailer', 'thumbnailer', 'nightly-report']) }],
      ['kms.amazonaws.com', 'DescribeKey', { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` }],
      ['kms.amazonaws.com', 'GetKeyRotationStatus', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }],
      ['cloudtrail.amazonaws.com', 'DescribeTrails', { includeShadowTrails: true }],
      ['cloudtrail.amazonaws.com', 'GetTrailStatus', { name: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/org-trail` }],
      ['secretsmanager.amazonaws.com', 'DescribeSecret', { secretId: pick(['prod/payments/db', 'prod/checkout/stripe', 'prod/search/opensearch']) }],
      ['sns.amazonaws.com', 'GetTopicAttributes', { topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:alerts` }],
      ['sqs.amazonaws.com', 'GetQueueAttributes', { queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/receipt-mailer-queue`, attributeNames: ['All'] }],
    ];
    const SECURITY_READS: [string, string, string, Rec | null][] = [
      ['AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com', 'DescribeFlowLogs', { filterSet: {} }],
      ['AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com', 'GetEbsEncryptionByDefault', null],
      ['AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com', 'GetAccountPasswordPolicy', null],
      ['AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com', 'GetCredentialReport', null],
      ['AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com', 'DescribeConfigurationRecorders', null],
      ['AWSServiceRoleForAmazonInspector2', 'inspector2.amazonaws.com', 'DescribeInstances', { instancesSet: {}, filterSet: {} }],
      ['AWSServiceRoleForAmazonInspector2', 'inspector2.amazonaws.com', 'DescribeImages', { imagesSet: {}, filterSet: {} }],
      ['AWSServiceRoleForAmazonInspector2', 'inspector2.amazonaws.com', 'ListFunctions20150331', null],
      ['AWSServiceRoleForAccessAnalyzer', 'access-analyzer.amazonaws.com', 'GetBucketPolicy', { bucketName: 'acme-payments-exports', Host: 'acme-payments-exports.s3.us-west-2.amazonaws.com', policy: '' }],
      ['AWSServiceRoleForAccessAnalyzer', 'access-analyzer.amazonaws.com', 'GetKeyPolicy', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', policyName: 'default' }],
      ['AWSServiceRoleForTrustedAdvisor', 'trustedadvisor.amazonaws.com', 'DescribeAddresses', { publicIpsSet: {}, filterSet: {} }],
      ['AWSServiceRoleForTrustedAdvisor', 'trustedadvisor.amazonaws.com', 'DescribeReservedInstances', null],
    ];
    const sourceFor = (name: string): string => {
      if (/Bucket/.test(name)) return 's3.amazonaws.com';
      if (/KeyPolicy/.test(name)) return 'kms.amazonaws.com';
      if (/PasswordPolicy|CredentialReport/.test(name)) return 'iam.amazonaws.com';
      if (/ConfigurationRecorders/.test(name)) return 'config.amazonaws.com';
      if (/Functions/.test(name)) return 'lambda.amazonaws.com';
      return 'ec2.amazonaws.com';
    };

    // IRSA workloads of the platform: one role per controller per cluster, credentials refreshed hourly.
    interface Ctl {
      ns: string;
      sa: string;
      role: string;
      ua: string;
      c: Cluster;
    }
    const ctlUa = (api: string, v = '1.32.2'): string => `aws-sdk-go-v2/${v} ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/${api}`;
    const controllers = (c: Cluster): Ctl[] => [
      { ns: 'kube-system', sa: 'cluster-autoscaler', role: `${c.name}-cluster-autoscaler`, ua: 'aws-sdk-go/1.48.7 (go1.22.5; linux; amd64) cluster-autoscaler/v1.30.2', c },
      { ns: 'kube-system', sa: 'aws-load-balancer-controller', role: `${c.name}-aws-load-balancer-controller`, ua: ctlUa('elasticloadbalancingv2#1.38.0') + ' elbv2.k8s.aws/v2.9.2', c },
      { ns: 'external-dns', sa: 'external-dns', role: `${c.name}-external-dns`, ua: 'aws-sdk-go/1.55.5 (go1.23.2; linux; amd64) ExternalDNS/v0.15.0', c },
      { ns: 'kube-system', sa: 'ebs-csi-controller-sa', role: `${c.name}-ebs-csi-driver`, ua: ctlUa('ec2#1.177.0') + ' ebs-csi-driver/v1.36.0', c },
      { ns: 'external-secrets', sa: 'external-secrets', role: `${c.name}-external-secrets`, ua: 'aws-sdk-go/1.55.5 (go1.23.1; linux; amd64) external-secrets/v0.10.4', c },
      { ns: 'logging', sa: 'fluent-bit', role: `${c.name}-fluent-bit`, ua: 'aws-fluent-bit-plugins/1.9.10 aws-sdk-c/1.11.300', c },
      { ns: 'monitoring', sa: 'yace', role: `${c.name}-cloudwatch-exporter`, ua: ctlUa('cloudwatch#1.42.0') + ' yace/v0.61.2', c },
    ];
    const syncedSecrets = ['prod/payments/db', 'prod/payments/api-keys', 'prod/checkout/stripe', 'prod/checkout/smtp', 'prod/search/opensearch', 'prod/search/admin', 'platform/grafana/admin', 'platform/argocd/github-app', 'platform/slack/webhook'];
    const zones = [
      { id: 'Z0123456789ABCDEFGHIJ', name: 'acme.example.' },
      { id: 'Z9876543210ZYXWVUTSRQ', name: 'internal.acme.example.' },
    ];
    const sessions = new Map<string, { id: Rec; until: number }>();
    const ctlSession = (x: Ctl, h: number): Rec => {
      const k = `${x.c.name}|${x.sa}`;
      const s = sessions.get(k);
      if (s !== undefined && s.until > h) return s.id;
      const session = `${x.sa}-${Math.floor((T0 + h * 3600_000) / 1000)}`.slice(0, 64);
      const roleId = 'AROA' + (x.role.toUpperCase().replace(/[^A-Z0-9]/g, '') + '0000000000000000').slice(0, 16);
      const k2 = key();
      const subject = `system:serviceaccount:${x.ns}:${x.sa}`;
      const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${x.c.oidc}`;
      const sessionArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${x.role}/${session}`;
      ct(T0 + h * 3600_000 + int(0, 60_000), { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
        ip: x.c.nat,
        ua: x.ua,
        readOnly: true,
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${x.role}`, roleSessionName: session, durationSeconds: 3600 },
        re: { credentials: { accessKeyId: k2, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 1:00:00 AM' }, subjectFromWebIdentityToken: subject, assumedRoleUser: { assumedRoleId: `${roleId}:${session}`, arn: sessionArn }, provider, audience: 'sts.amazonaws.com' },
      });
      const id = assumed(x.role, roleId, session, k2, { webIdFederationData: { federatedProvider: provider, attributes: {} } });
      sessions.set(k, { id, until: h + 1 });
      return id;
    };

    for (let h = 0; h < hours; h++) {
      const work = working(h);
      const hod = h % 24;
      const day = Math.floor(h / 24);
      // AWS Config records configuration changes and re-reads resources continuously.
      const config = slr('AWSServiceRoleForConfig', 'config.amazonaws.com');
      for (let i = count(260); i > 0; i--) {
        const [src, name, rp] = pick(CONFIG_READS);
        ct(within(h), config, src, name, { ip: 'config.amazonaws.com', ua: 'config.amazonaws.com', rp, region: src === 'iam.amazonaws.com' ? 'us-east-1' : REGION, readOnly: true });
      }
      for (let i = count(50); i > 0; i--) {
        const [role, svc, name, rp] = pick(SECURITY_READS);
        const src = sourceFor(name);
        ct(within(h), slr(role, svc), src, name, { ip: svc, ua: svc, rp, region: src === 'iam.amazonaws.com' ? 'us-east-1' : REGION, readOnly: true });
      }
      for (const c of clusters) {
        const s = c.scale;
        for (const x of controllers(c)) {
          const id = ctlSession(x, h);
          const call = (src: string, name: string, rp: Rec | null, o: { ro?: boolean; re?: unknown; at?: number; error?: string } = {}): void =>
            ct(o.at ?? within(h), id, src, name, { ip: c.nat, ua: x.ua, rp, re: o.re, readOnly: o.ro ?? /^(Get|List|Describe)/.test(name), ...(o.error ? { error: o.error } : {}) });
          if (x.sa === 'cluster-autoscaler') {
            for (let i = count(80 * s + 20); i > 0; i--) call('autoscaling.amazonaws.com', pick(['DescribeAutoScalingGroups', 'DescribeAutoScalingGroups', 'DescribeScalingActivities', 'DescribeAutoScalingInstances']), { autoScalingGroupNames: [`eks-general-2026-${c.name}`] });
            for (let i = count(6); i > 0; i--) call('ec2.amazonaws.com', pick(['DescribeLaunchTemplateVersions', 'DescribeInstanceTypes']), { launchTemplateId: 'lt-0a1b2c3d4e5f60718' });
            if (rnd() < 0.12) call('autoscaling.amazonaws.com', 'SetDesiredCapacity', { autoScalingGroupName: `eks-general-2026-${c.name}`, desiredCapacity: int(3, 8), honorCooldown: false }, { ro: false });
            if (rnd() < 0.05) call('autoscaling.amazonaws.com', 'TerminateInstanceInAutoScalingGroup', { instanceId: `i-0${hex(16)}`, shouldDecrementDesiredCapacity: true }, { ro: false });
          } else if (x.sa === 'aws-load-balancer-controller') {
            for (let i = count(30 * s + 10); i > 0; i--) call('elasticloadbalancing.amazonaws.com', pick(['DescribeTargetGroups', 'DescribeTargetHealth', 'DescribeLoadBalancers', 'DescribeListeners', 'DescribeTags', 'DescribeRules']), { targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/k8s-${pick(apps).ns}-${hex(10)}/${hex(16)}` });
            for (let i = count(4); i > 0; i--) call('ec2.amazonaws.com', pick(['DescribeSecurityGroups', 'DescribeInstances', 'DescribeSubnets']), { filterSet: { items: [{ name: 'tag:elbv2.k8s.aws/cluster', valueSet: { items: [{ value: c.name }] } }] } });
            if (rnd() < 0.25 * s + 0.05) {
              const tg = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/k8s-${pick(apps).ns}-${hex(10)}/${hex(16)}`;
              const t = within(h);
              call('elasticloadbalancing.amazonaws.com', 'RegisterTargets', { targetGroupArn: tg, targets: [{ id: `10.0.${int(16, 190)}.${int(2, 250)}`, port: 8080 }] }, { ro: false, at: t });
              call('elasticloadbalancing.amazonaws.com', 'DeregisterTargets', { targetGroupArn: tg, targets: [{ id: `10.0.${int(16, 190)}.${int(2, 250)}`, port: 8080 }] }, { ro: false, at: t + 30_000 });
            }
            // A new internet-facing Ingress, once: the controller creates the ALB's security group, opens 443 to the
            // world on it (what an internet-facing ALB is for) and lets the ALB's group reach the nodes.
            if (day === 1 && hod === 11 && s === 1) {
              const t = within(h);
              const sg = `sg-0${hex(16)}`;
              call('ec2.amazonaws.com', 'CreateSecurityGroup', { groupName: `k8s-checkout-web-${hex(10)}`, groupDescription: '[k8s] Managed SecurityGroup for LoadBalancer', vpcId: 'vpc-0a1b2c3d4e5f67890' }, { ro: false, at: t, re: { _return: true, groupId: sg } });
              call('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { groupId: sg, ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 443, toPort: 443, ipRanges: { items: [{ cidrIp: '0.0.0.0/0', description: '' }] } }, { ipProtocol: 'tcp', fromPort: 80, toPort: 80, ipRanges: { items: [{ cidrIp: '0.0.0.0/0', description: '' }] } }] } }, { ro: false, at: t + 2000, re: { _return: true } });
              call('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { groupId: 'sg-0a1b2c3d4e5f60718', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 8080, toPort: 8080, groups: { items: [{ groupId: sg, description: 'elbv2.k8s.aws/targetGroupBinding=shared' }] } }] } }, { ro: false, at: t + 3000, re: { _return: true } });
              call('elasticloadbalancing.amazonaws.com', 'CreateLoadBalancer', { name: `k8s-checkout-web-${hex(10)}`, scheme: 'internet-facing', type: 'application', securityGroups: [sg], subnets: ['subnet-0a1b2c3d', 'subnet-0e1f2a3b'] }, { ro: false, at: t + 5000 });
              call('elasticloadbalancing.amazonaws.com', 'CreateTargetGroup', { name: `k8s-checkout-web-${hex(10)}`, protocol: 'HTTP', port: 8080, targetType: 'ip', vpcId: 'vpc-0a1b2c3d4e5f67890' }, { ro: false, at: t + 6000 });
              call('elasticloadbalancing.amazonaws.com', 'CreateListener', { loadBalancerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/k8s-checkout-web/${hex(16)}`, protocol: 'HTTPS', port: 443, certificates: [{ certificateArn: `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${uuid()}` }] }, { ro: false, at: t + 7000 });
            }
          } else if (x.sa === 'external-dns') {
            for (let i = count(60); i > 0; i--) {
              const z = pick(zones);
              call('route53.amazonaws.com', pick(['ListResourceRecordSets', 'ListResourceRecordSets', 'ListHostedZones', 'ListTagsForResources']), { hostedZoneId: z.id }, { ro: true });
            }
            if (rnd() < 0.1 * s) call('route53.amazonaws.com', 'ChangeResourceRecordSets', { hostedZoneId: zones[0]!.id, changeBatch: { changes: [{ action: 'UPSERT', resourceRecordSet: { name: `${pick(apps).ns}.${zones[0]!.name}`, type: 'A', aliasTarget: { hostedZoneId: 'Z1H1FL5HABSF5', dNSName: `k8s-${hex(10)}.${REGION}.elb.amazonaws.com`, evaluateTargetHealth: true } } }] } }, { ro: false, re: { changeInfo: { id: `/change/C${hex(12).toUpperCase()}`, status: 'PENDING' } } });
          } else if (x.sa === 'ebs-csi-controller-sa') {
            for (let i = count(12 * s + 4); i > 0; i--) call('ec2.amazonaws.com', pick(['DescribeVolumes', 'DescribeVolumesModifications', 'DescribeInstances']), { volumeSet: {}, filterSet: { items: [{ name: 'tag:ebs.csi.aws.com/cluster', valueSet: { items: [{ value: 'true' }] } }] } });
            if (rnd() < 0.06) {
              const vol = `vol-0${hex(16)}`;
              const t = within(h);
              call('ec2.amazonaws.com', 'CreateVolume', { size: 20, zone: `${REGION}a`, volumeType: 'gp3', encrypted: true, tagSpecificationSet: { items: [{ resourceType: 'volume', tags: [{ key: 'kubernetes.io/created-for/pvc/namespace', value: 'monitoring' }] }] } }, { ro: false, at: t, re: { volumeId: vol, status: 'creating', encrypted: true } });
              call('ec2.amazonaws.com', 'AttachVolume', { volumeId: vol, instanceId: pick(c.nodes).instance, device: '/dev/xvdaa' }, { ro: false, at: t + 4000 });
            }
            if (rnd() < 0.04) {
              const vol = `vol-0${hex(16)}`;
              const t = within(h);
              call('ec2.amazonaws.com', 'DetachVolume', { volumeId: vol }, { ro: false, at: t });
              call('ec2.amazonaws.com', 'DeleteVolume', { volumeId: vol }, { ro: false, at: t + 60_000 });
            }
          } else if (x.sa === 'external-secrets') {
            // Each ExternalSecret refreshes hourly: every synced secret is read once an hour.
            for (const sec of c.scale < 1 ? syncedSecrets.slice(0, 4).map((x2) => x2.replace(/^prod\//, 'staging/')) : syncedSecrets) {
              const t = T0 + h * 3600_000 + int(60_000, 3_500_000);
              call('secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: sec, versionStage: 'AWSCURRENT' }, { at: t });
            }
            for (let i = count(3); i > 0; i--) call('ssm.amazonaws.com', 'GetParameter', { name: `/platform/${pick(['grafana', 'argocd', 'alertmanager'])}/config`, withDecryption: true });
          } else if (x.sa === 'fluent-bit') {
            for (let i = count(8 * s + 2); i > 0; i--) call('logs.amazonaws.com', pick(['CreateLogStream', 'DescribeLogStreams']), { logGroupName: `/aws/eks/${c.name}/containers`, logStreamName: `${pick(c.nodes).name}-${pick(apps).ns}` }, { ro: false });
          } else {
            for (let i = count(40 * s + 10); i > 0; i--) {
              const [src, name] = pick([['monitoring.amazonaws.com', 'GetMetricData'], ['monitoring.amazonaws.com', 'GetMetricData'], ['monitoring.amazonaws.com', 'ListMetrics'], ['tagging.amazonaws.com', 'GetResources']] as const);
              call(src, name, src === 'tagging.amazonaws.com' ? { resourceTypeFilters: [pick(['rds:db', 'elasticloadbalancing:loadbalancer', 'sqs'])] } : { namespace: pick(['AWS/RDS', 'AWS/ApplicationELB', 'AWS/SQS', 'AWS/EBS']) }, { ro: true });
            }
          }
        }
      }

      // Operators' routine changes, working hours.
      if (work) {
        const p = people[2]!; // carol, PowerUser, CLI
        const cli = assumed(p.role, p.roleId, p.name, personKey(p, h, true));
        const ip = personIp(p, h);
        if (day === 0 && hod === 16) {
          // Before a schema migration: a manual snapshot of the payments database, then a reboot to apply a parameter group.
          const t = within(h);
          ct(t, cli, 'rds.amazonaws.com', 'CreateDBSnapshot', { ip, ua: UA.cliMac + 'rds.create-db-snapshot', readOnly: false, rp: { dBSnapshotIdentifier: 'payments-db-pre-migration-20261102', dBInstanceIdentifier: 'payments-db' }, re: { dBSnapshotIdentifier: 'payments-db-pre-migration-20261102', dBInstanceIdentifier: 'payments-db', snapshotType: 'manual', status: 'creating', encrypted: true } });
          ct(t + 1_800_000, cli, 'rds.amazonaws.com', 'RebootDBInstance', { ip, ua: UA.cliMac + 'rds.reboot-db-instance', readOnly: false, rp: { dBInstanceIdentifier: 'payments-db', forceFailover: false } });
        }
        if (day === 2 && hod === 9) {
          // The bastion's group gets an SSH rule for the office (one address), then the old one is removed.
          const t = within(h);
          const a = people[0]!;
          const cid = assumed(a.role, a.roleId, a.name, personKey(a, h, false));
          (cid as Rec).sessionCredentialFromConsole = 'true';
          ct(t, cid, 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', { ip: personIp(a, h), ua: UA.console, readOnly: false, rp: { groupId: 'sg-0b45710a9c2d3e4f5', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: `${personIp(a, h)}/32`, description: 'office' }] } }] } }, re: { _return: true } });
          ct(t + 120_000, cid, 'ec2.amazonaws.com', 'RevokeSecurityGroupIngress', { ip: personIp(a, h), ua: UA.console, readOnly: false, rp: { groupId: 'sg-0b45710a9c2d3e4f5', ipPermissions: { items: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '62.226.10.0/28' }] } }] } }, re: { _return: true } });
        }
        if (day === 1 && hod === 15) {
          // Terraform adds an IRSA role for a new workload, trusting the prod cluster's own OIDC provider.
          const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
          const runner = GH_RUNNERS[1]! + int(2, 250);
          const prov = clusters[0]!.oidc;
          const t = within(h);
          ct(t, tf, 'iam.amazonaws.com', 'CreateRole', {
            ip: runner,
            ua: UA.terraform,
            region: 'us-east-1',
            readOnly: false,
            rp: { roleName: 'reports-exporter-irsa', assumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${prov}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${prov}:sub`]: 'system:serviceaccount:reports:exporter', [`${prov}:aud`]: 'sts.amazonaws.com' } } }] }) },
            re: { role: { roleName: 'reports-exporter-irsa', arn: `arn:aws:iam::${ACCOUNT}:role/reports-exporter-irsa`, roleId: 'AROA' + hex(16).toUpperCase(), path: '/' } },
          });
          ct(t + 3000, tf, 'iam.amazonaws.com', 'PutRolePolicy', { ip: runner, ua: UA.terraform, region: 'us-east-1', readOnly: false, rp: { roleName: 'reports-exporter-irsa', policyName: 'reports-write', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::acme-reports/exports/*' }] }) } });
          ct(t + 6000, tf, 'monitoring.amazonaws.com', 'PutMetricAlarm', { ip: runner, ua: UA.terraform, readOnly: false, rp: { alarmName: 'reports-exporter-errors', metricName: 'Errors', namespace: 'AWS/Lambda', threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold', evaluationPeriods: 1, period: 300, statistic: 'Sum', alarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:alerts`] } });
        }
      }
    }

    // The Kubernetes side of the same controllers, per cluster.
    for (let h = 0; h < hours; h++) {
      for (const c of clusters) {
        const n = (rate: number): number => count(rate * c.scale);
        const cp = '10.0.' + (c.scale < 1 ? '201.9' : '200.17');
        const node = (): string => pick(c.nodes).ip;
        const rbac = (sa: string, ns: string): string => `RBAC: allowed by ClusterRoleBinding "${sa}" of ClusterRole "${sa}" to ServiceAccount "${sa}/${ns}"`;
        const ksm = saUser('monitoring', 'kube-state-metrics', `kube-state-metrics-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
        for (let i = n(40); i > 0; i--) {
          const [res, group] = pick([['pods', undefined], ['deployments', 'apps'], ['replicasets', 'apps'], ['nodes', undefined], ['services', undefined], ['persistentvolumeclaims', undefined], ['jobs', 'batch'], ['cronjobs', 'batch'], ['horizontalpodautoscalers', 'autoscaling'], ['secrets', undefined], ['configmaps', undefined]] as const);
          audit(c, within(h), ksm, pick(['list', 'watch']), { resource: res, ...(group ? { apiGroup: group } : {}) }, { ip: node(), ua: 'kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format', reason: rbac('kube-state-metrics', 'monitoring') });
        }
        // The HPA controller reads the resource metrics API for each HPA every 15 s.
        const hpa = saUser('kube-system', 'horizontal-pod-autoscaler');
        for (let i = n(120); i > 0; i--) {
          const a = pick(apps);
          audit(c, within(h), hpa, 'list', { resource: 'pods', namespace: a.ns, apiGroup: 'metrics.k8s.io', apiVersion: 'v1beta1' }, { ip: cp, ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:horizontal-pod-autoscaler', uri: `/apis/metrics.k8s.io/v1beta1/namespaces/${a.ns}/pods?labelSelector=app%3D${a.sa}` });
        }
        const lbc = saUser('kube-system', 'aws-load-balancer-controller', `aws-load-balancer-controller-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
        for (let i = n(40); i > 0; i--) {
          const [verb, res, group, ns] = pick([['watch', 'targetgroupbindings', 'elbv2.k8s.aws', undefined], ['list', 'ingresses', 'networking.k8s.io', undefined], ['watch', 'endpointslices', 'discovery.k8s.io', undefined], ['get', 'leases', 'coordination.k8s.io', 'kube-system'], ['update', 'leases', 'coordination.k8s.io', 'kube-system'], ['patch', 'targetgroupbindings', 'elbv2.k8s.aws', pick(apps).ns]] as const);
          audit(c, within(h), lbc, verb, { resource: res, apiGroup: group, ...(ns ? { namespace: ns } : {}), ...(res === 'leases' ? { name: 'aws-load-balancer-controller-leader' } : {}) }, { ip: node(), ua: 'controller/v0.0.0 (linux/amd64) kubernetes/$Format', reason: rbac('aws-load-balancer-controller', 'kube-system') });
        }
        // External Secrets writes the Kubernetes secrets it syncs (an update when the value or labels change).
        const eso = saUser('external-secrets', 'external-secrets', `external-secrets-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
        for (let i = n(30); i > 0; i--) {
          const a = pick(apps);
          const [verb, res, group] = pick([['get', 'externalsecrets', 'external-secrets.io'], ['patch', 'externalsecrets', 'external-secrets.io'], ['get', 'secrets', undefined], ['update', 'secrets', undefined], ['watch', 'secretstores', 'external-secrets.io']] as const);
          audit(c, within(h), eso, verb, { resource: res, namespace: a.ns, ...(group ? { apiGroup: group } : {}), ...(res === 'secrets' ? { name: `${a.sa}-credentials` } : {}) }, { ip: node(), ua: 'external-secrets/v0.10.4 (linux/amd64) kubernetes/$Format', reason: rbac('external-secrets-controller', 'external-secrets') });
        }
        // cert-manager's CA injector keeps the webhooks' caBundle current.
        if (rnd() < 0.08) {
          const inj = saUser('cert-manager', 'cert-manager-cainjector', `cert-manager-cainjector-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
          for (const [res, name] of [['validatingwebhookconfigurations', 'kyverno-resource-validating-webhook-cfg'], ['mutatingwebhookconfigurations', 'cert-manager-webhook']] as const) {
            audit(c, within(h), inj, 'update', { resource: res, name, apiGroup: 'admissionregistration.k8s.io' }, { ip: node(), ua: 'cainjector/v1.16.1 (linux/amd64) kubernetes/$Format', reason: rbac('cert-manager-cainjector', 'cert-manager') });
          }
        }
        // Kyverno: its admission controller and background controller.
        const ky = saUser('kyverno', 'kyverno-admission-controller', `kyverno-admission-controller-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
        for (let i = n(25); i > 0; i--) {
          const [verb, res, group, ns] = pick([['get', 'leases', 'coordination.k8s.io', 'kyverno'], ['update', 'leases', 'coordination.k8s.io', 'kyverno'], ['watch', 'clusterpolicies', 'kyverno.io', undefined], ['create', 'policyreports', 'wgpolicyk8s.io', pick(apps).ns], ['list', 'validatingwebhookconfigurations', 'admissionregistration.k8s.io', undefined]] as const);
          audit(c, within(h), ky, verb, { resource: res, apiGroup: group, ...(ns ? { namespace: ns } : {}), ...(res === 'leases' ? { name: 'kyverno' } : {}) }, { ip: node(), ua: 'kyverno/v1.12.6 (linux/amd64) kubernetes/$Format', reason: rbac('kyverno:admission-controller', 'kyverno') });
        }
        // Cluster-autoscaler and the EBS CSI driver's Kubernetes side.
        for (let i = n(30); i > 0; i--) {
          const [verb, res, group] = pick([['list', 'pods', undefined], ['watch', 'nodes', undefined], ['list', 'poddisruptionbudgets', 'policy'], ['watch', 'csinodes', 'storage.k8s.io'], ['list', 'volumeattachments', 'storage.k8s.io']] as const);
          audit(c, within(h), saUser('kube-system', 'cluster-autoscaler', `cluster-autoscaler-${hex(9)}-${hex(5)}`, pick(c.nodes).name), verb, { resource: res, ...(group ? { apiGroup: group } : {}) }, { ip: node(), ua: 'cluster-autoscaler/v1.30.2', reason: rbac('cluster-autoscaler', 'kube-system') });
        }
      }
    }

    // Benign neighbours of the credential-harvesting and account-takeover detections (generated last, so the
    // records above keep their draws): External Secrets batch-reading an app's SecureString parameters with its
    // IRSA session each hour; a person decrypting three parameters from the CLI; Security Hub's control for the
    // security contact reading the alternate contacts; CI copying release artifacts with SSE-KMS.
    for (let h = 0; h < hours; h++) {
      const c = clusters[0]!;
      const eso = controllers(c).find((x) => x.sa === 'external-secrets')!;
      const id = ctlSession(eso, h);
      ct(T0 + h * 3600_000 + int(60_000, 3_500_000), id, 'ssm.amazonaws.com', 'GetParameters', { ip: c.nat, ua: eso.ua, rp: { names: ['db-host', 'db-user', 'db-password', 'api-key', 'smtp-password', 'sentry-dsn'].map((x) => `/payments/prod/${x}`), withDecryption: true }, readOnly: true });
      if (h % 24 === 6) ct(within(h), slr('AWSServiceRoleForSecurityHub', 'securityhub.amazonaws.com'), 'account.amazonaws.com', 'GetAlternateContact', { ip: 'securityhub.amazonaws.com', ua: 'securityhub.amazonaws.com', rp: { alternateContactType: 'SECURITY' }, region: 'us-east-1', readOnly: true });
      if (working(h) && h % 24 === 14) {
        const p = people[2]!;
        ct(within(h), assumed(p.role, p.roleId, p.name, personKey(p, h, true)), 'ssm.amazonaws.com', 'GetParameters', { ip: personIp(p, h), ua: UA.cliMac + 'ssm.get-parameters', rp: { names: ['/checkout/staging/db-host', '/checkout/staging/db-user', '/checkout/staging/db-password'], withDecryption: true }, readOnly: true });
      }
      if (working(h) && rnd() < 0.2) {
        const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
        const objKey = `releases/${hex(8)}/bundle.zip`;
        ct(within(h), tf, 's3.amazonaws.com', 'CopyObject', { ip: pick(GH_RUNNERS) + int(2, 250), ua: UA.terraform, data: true, readOnly: false, rp: { bucketName: 'acme-lambda-artifacts', key: objKey, 'x-amz-copy-source': `acme-batch-artifacts/${objKey}`, 'x-amz-server-side-encryption': 'aws:kms', Host: 'acme-lambda-artifacts.s3.us-west-2.amazonaws.com' }, extra: { additionalEventData: { SSEApplied: 'SSE_KMS', bytesTransferredIn: 0, bytesTransferredOut: 0 }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::acme-lambda-artifacts/${objKey}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::acme-lambda-artifacts' }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::acme-batch-artifacts' }] } });
      }
    }
    // On call, Tuesday afternoon: alice opens a shell in a payments pod to look at a stuck worker (an interactive
    // exec by a person: k8s_interactive_shell_exec_into_pod, low context; a shell driven by a service-account token
    // would be medium), restarts the deployment and deletes the stuck pod.
    if (hours > 40) {
      const c = clusters[0]!;
      const p = people[0]!;
      const h = 38;
      const u = iamUser(p.role, p.roleId, p.name, personKey(p, h, true));
      const a = apps[0]!;
      const pod = appPods.get(a.ns)![0]!;
      const ip = personIp(p, h);
      const ua = 'kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46';
      const reason = 'RBAC: allowed by ClusterRoleBinding "eks-access-entry-edit" of ClusterRole "edit" to Group "eks-edit"';
      const t = T0 + h * 3600_000 + int(0, 3_000_000);
      audit(c, t, u, 'get', { resource: 'pods', namespace: a.ns, name: pod }, { ip, ua, reason });
      const uri = `/api/v1/namespaces/${a.ns}/pods/${pod}/exec?command=%2Fbin%2Fsh&container=${a.sa}&stdin=true&stdout=true&tty=true`;
      audit(c, t + 300, u, 'create', { resource: 'pods', namespace: a.ns, name: pod, subresource: 'exec' }, { ip, ua, reason, uri, code: 101, stage: 'ResponseStarted' });
      audit(c, t + 420_000, u, 'create', { resource: 'pods', namespace: a.ns, name: pod, subresource: 'exec' }, { ip, ua, reason, uri, code: 101 });
      audit(c, t + 500_000, u, 'patch', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, { ip, ua: ua.replace('kubectl/', 'kubectl-rollout/'), reason, level: 'RequestResponse', requestObject: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': iso(t + 500_000) } } } } } });
      audit(c, t + 560_000, u, 'delete', { resource: 'pods', namespace: a.ns, name: pod }, { ip, ua, reason });
    }
    // staging-eks-01 scales with Karpenter (IRSA): it polls instance types, subnets, prices and the EKS AMI
    // parameter, keeps its node class's instance profile (create, tag, add the node role: the housekeeping that
    // ct_iam_changed_by_workload_session leaves out), launches capacity with CreateFleet and consolidates
    // (TerminateInstances); on the Kubernetes side it writes NodeClaims, evicts pods and deletes drained nodes.
    {
      const c = clusters[1]!;
      const kp: Ctl = { ns: 'kube-system', sa: 'karpenter', role: `${c.name}-karpenter`, ua: 'aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.187.0 karpenter.sh-1.0.6', c };
      const kpSa = saUser('kube-system', 'karpenter', `karpenter-${hex(9)}-${hex(5)}`, c.nodes[0]!.name);
      const profile = `${c.name}_${hex(20)}`;
      for (let h = 0; h < hours; h++) {
        const id = ctlSession(kp, h);
        const call = (src: string, name: string, rp: Rec | null, o: { at?: number; re?: unknown; region?: string } = {}): void =>
          ct(o.at ?? within(h), id, src, name, { ip: c.nat, ua: kp.ua, rp, re: o.re, region: o.region ?? REGION, readOnly: /^(Get|List|Describe)/.test(name) });
        for (let i = count(45); i > 0; i--) call('ec2.amazonaws.com', pick(['DescribeInstanceTypes', 'DescribeInstanceTypeOfferings', 'DescribeSubnets', 'DescribeSecurityGroups', 'DescribeLaunchTemplates', 'DescribeImages', 'DescribeSpotPriceHistory', 'DescribeInstances']), { filterSet: { items: [{ name: 'tag:karpenter.sh/discovery', valueSet: { items: [{ value: c.name }] } }] } });
        for (let i = count(4); i > 0; i--) call('ssm.amazonaws.com', 'GetParameter', { name: '/aws/service/eks/optimized-ami/1.30/amazon-linux-2023/x86_64/standard/recommended/image_id' });
        if (h % 12 === 0) call('pricing.amazonaws.com', 'GetProducts', { serviceCode: 'AmazonEC2', filters: [{ field: 'regionCode', type: 'TERM_MATCH', value: REGION }] }, { region: 'us-east-1' });
        for (let i = count(2); i > 0; i--) call('iam.amazonaws.com', 'GetInstanceProfile', { instanceProfileName: profile }, { region: 'us-east-1' });
        if (h === 5) {
          const t = within(h);
          call('iam.amazonaws.com', 'CreateInstanceProfile', { instanceProfileName: profile, path: '/karpenter/', tags: [{ key: 'karpenter.k8s.aws/ec2nodeclass', value: 'default' }] }, { at: t, region: 'us-east-1' });
          call('iam.amazonaws.com', 'AddRoleToInstanceProfile', { instanceProfileName: profile, roleName: c.nodeRole }, { at: t + 800, region: 'us-east-1' });
          call('iam.amazonaws.com', 'TagInstanceProfile', { instanceProfileName: profile, tags: [{ key: 'kubernetes.io/cluster/staging-eks-01', value: 'owned' }] }, { at: t + 1500, region: 'us-east-1' });
        }
        if (rnd() < 0.25) {
          const t = within(h);
          const inst = `i-0${hex(16)}`;
          call('ec2.amazonaws.com', 'CreateFleet', { CreateFleetRequest: { Type: 'instant', TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'spot' }, LaunchTemplateConfigs: { LaunchTemplateSpecification: { LaunchTemplateName: `karpenter.k8s.aws/${hex(16)}`, Version: '$Latest' } } } }, { at: t, re: { CreateFleetResponse: { fleetInstanceSet: { item: { instanceIds: { item: inst }, lifecycle: 'spot' } } } } });
          call('ec2.amazonaws.com', 'CreateTags', { resourcesSet: { items: [{ resourceId: inst }] }, tagSet: { items: [{ key: 'karpenter.sh/nodepool', value: 'default' }, { key: 'eks:eks-cluster-name', value: c.name }] } }, { at: t + 4000 });
          audit(c, t + 500, kpSa, 'create', { resource: 'nodeclaims', name: `default-${hex(5)}`, apiGroup: 'karpenter.sh' }, { ip: c.nodes[0]!.ip, ua: 'karpenter/v1.0.6', reason: 'RBAC: allowed by ClusterRoleBinding "karpenter-core" of ClusterRole "karpenter-core" to ServiceAccount "karpenter/kube-system"' });
        }
        if (rnd() < 0.15) {
          const t = within(h);
          const node = pick(c.nodes);
          const a = pick(apps);
          audit(c, t, kpSa, 'create', { resource: 'pods', namespace: a.ns, name: `stg-${pick(appPods.get(a.ns)!)}`, subresource: 'eviction' }, { ip: c.nodes[0]!.ip, ua: 'karpenter/v1.0.6', reason: 'RBAC: allowed by ClusterRoleBinding "karpenter-core" of ClusterRole "karpenter-core" to ServiceAccount "karpenter/kube-system"' });
          audit(c, t + 60_000, kpSa, 'delete', { resource: 'nodes', name: node.name }, { ip: c.nodes[0]!.ip, ua: 'karpenter/v1.0.6', reason: 'RBAC: allowed by ClusterRoleBinding "karpenter-core" of ClusterRole "karpenter-core" to ServiceAccount "karpenter/kube-system"' });
          call('ec2.amazonaws.com', 'TerminateInstances', { instancesSet: { items: [{ instanceId: node.instance }] } }, { at: t + 65_000 });
        }
        for (let i = count(20); i > 0; i--) {
          const [verb, res, group] = pick([['watch', 'nodeclaims', 'karpenter.sh'], ['list', 'nodepools', 'karpenter.sh'], ['watch', 'ec2nodeclasses', 'karpenter.k8s.aws'], ['list', 'pods', undefined], ['watch', 'nodes', undefined], ['update', 'leases', 'coordination.k8s.io']] as const);
          audit(c, within(h), kpSa, verb, { resource: res, ...(group ? { apiGroup: group } : {}), ...(res === 'leases' ? { namespace: 'kube-system', name: 'karpenter-leader-election' } : {}) }, { ip: c.nodes[0]!.ip, ua: 'karpenter/v1.0.6', reason: 'RBAC: allowed by ClusterRoleBinding "karpenter-core" of ClusterRole "karpenter-core" to ServiceAccount "karpenter/kube-system"' });
        }
      }
    }
    // Terraform hardens the region's defaults once: IMDSv2 required for new instances, EBS encrypted by default
    // under the account's own key; the bastion's hop limit is raised for a container agent.
    if (hours > 40) {
      const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
      const runner = GH_RUNNERS[2]! + int(2, 250);
      const t = T0 + 24 * 3600_000 + 15 * 3600_000 + int(1_000_000, 1_500_000);
      ct(t, tf, 'ec2.amazonaws.com', 'ModifyInstanceMetadataDefaults', { ip: runner, ua: UA.terraform, readOnly: false, rp: { ModifyInstanceMetadataDefaultsRequest: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 } }, re: { ModifyInstanceMetadataDefaultsResponse: { return: true } } });
      ct(t + 4000, tf, 'ec2.amazonaws.com', 'ModifyEbsDefaultKmsKeyId', { ip: runner, ua: UA.terraform, readOnly: false, rp: { ModifyEbsDefaultKmsKeyIdRequest: { KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` } }, re: { ModifyEbsDefaultKmsKeyIdResponse: { kmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` } } });
      ct(t + 6000, tf, 'ec2.amazonaws.com', 'EnableEbsEncryptionByDefault', { ip: runner, ua: UA.terraform, readOnly: false, rp: { EnableEbsEncryptionByDefaultRequest: {} }, re: { EnableEbsEncryptionByDefaultResponse: { ebsEncryptionByDefault: true } } });
      const p = people[0]!;
      const cid = assumed(p.role, p.roleId, p.name, personKey(p, T0 + 24 * 3600_000 + 10 * 3600_000, false));
      (cid as Rec).sessionCredentialFromConsole = 'true';
      ct(T0 + 24 * 3600_000 + 10 * 3600_000 + int(0, 3_000_000), cid, 'ec2.amazonaws.com', 'ModifyInstanceMetadataOptions', { ip: personIp(p, 34), ua: UA.console, readOnly: false, rp: { ModifyInstanceMetadataOptionsRequest: { InstanceId: 'i-0b45710a9c2d3e4f5', HttpPutResponseHopLimit: 2 } } });
    }
    // Benign neighbours of the 2026-12-03 rules: Terraform's nightly plan reads the bastion's user data back
    // (refresh), AWS Backup prunes the RDS snapshots it made, and a CloudFormation stack creates the SES SMTP
    // user. None of these is a person acting by hand, so none should raise a medium alert.
    if (hours > 40) {
      for (let d = 0; d * 24 + 16 < hours; d++) {
        const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
        const t = T0 + (d * 24 + 15) * 3600_000 + int(0, 1_800_000);
        ct(t, tf, 'ec2.amazonaws.com', 'DescribeInstanceAttribute', { ip: GH_RUNNERS[1]! + int(2, 250), ua: UA.terraform.replace('api/iam#1.37.2', 'api/ec2#1.187.0'), rp: { instanceId: 'i-0b45710a9c2d3e4f5', attribute: 'userData' } });
        const bk = assumed('AWSBackupDefaultServiceRole', 'AROAZ4BACKUPDEFAULT01', 'AWSBackup-AWSBackupDefaultServiceRole', key());
        (bk as { invokedBy?: string }).invokedBy = 'backup.amazonaws.com';
        const snap = `awsbackup:job-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
        ct(T0 + (d * 24 + 5) * 3600_000 + int(0, 600_000), bk, 'rds.amazonaws.com', 'DeleteDBSnapshot', { ip: 'backup.amazonaws.com', ua: 'backup.amazonaws.com', readOnly: false, rp: { dBSnapshotIdentifier: snap }, re: { dBSnapshotIdentifier: snap, dBInstanceIdentifier: 'payments-db', snapshotType: 'awsbackup', status: 'deleted', encrypted: true } });
      }
      const cfn = assumed('cfn-exec-role', 'AROAZ4CFNEXECROLE001', 'AWSCloudFormation', key());
      (cfn as { invokedBy?: string }).invokedBy = 'cloudformation.amazonaws.com';
      const t = T0 + 26 * 3600_000 + int(0, 1_800_000);
      ct(t, cfn, 'iam.amazonaws.com', 'CreateUser', { ip: 'cloudformation.amazonaws.com', ua: 'cloudformation.amazonaws.com', region: 'us-east-1', readOnly: false, rp: { userName: 'ses-smtp-receipts', path: '/' }, re: { user: { path: '/', userName: 'ses-smtp-receipts', userId: 'AIDAZ4SESSMTPRCPT01', arn: `arn:aws:iam::${ACCOUNT}:user/ses-smtp-receipts`, createDate: 'Nov 3, 2026, 2:10:00 AM' } } });
      ct(t + 2000, cfn, 'iam.amazonaws.com', 'PutUserPolicy', { ip: 'cloudformation.amazonaws.com', ua: 'cloudformation.amazonaws.com', region: 'us-east-1', readOnly: false, rp: { userName: 'ses-smtp-receipts', policyName: 'ses-send', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' }] }) } });
    }
    // Benign neighbours of the destruction and sign-in correlations (ct2, 2026-12-03): CI's Terraform destroys a
    // preview environment (functions, their log groups, a bucket, a secret, a database) in one run; a scheduler
    // Lambda stops the two development databases every evening; carol deletes two retired functions and their
    // log groups in the console; a legacy IAM user's (billing console) password is mistyped three times from the office
    // and from home before it works.
    if (hours > 40) {
      const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
      const runner = GH_RUNNERS[0]! + int(2, 250);
      let t = T0 + 24 * 3600_000 + 17 * 3600_000 + int(0, 600_000);
      const env = `preview-pr-${int(400, 900)}`;
      const tfUa = (api: string): string => UA.terraform.replace('api/iam#1.37.2', api);
      for (const fn of ['api', 'worker', 'webhook', 'authorizer', 'thumbnails', 'cron']) {
        ct((t += 1500), tf, 'lambda.amazonaws.com', 'DeleteFunction20150331', { ip: runner, ua: tfUa('api/lambda#1.64.0'), readOnly: false, rp: { functionName: `${env}-${fn}` } });
        ct((t += 800), tf, 'logs.amazonaws.com', 'DeleteLogGroup', { ip: runner, ua: tfUa('api/cloudwatchlogs#1.43.0'), readOnly: false, rp: { logGroupName: `/aws/lambda/${env}-${fn}` } });
      }
      ct((t += 2000), tf, 's3.amazonaws.com', 'DeleteBucket', { ip: runner, ua: tfUa('api/s3#1.66.0'), readOnly: false, rp: { bucketName: `acme-${env}-assets`, host: [`acme-${env}-assets.s3.${REGION}.amazonaws.com`] } });
      ct((t += 2000), tf, 'secretsmanager.amazonaws.com', 'DeleteSecret', { ip: runner, ua: tfUa('api/secretsmanager#1.34.0'), readOnly: false, rp: { secretId: `${env}/db`, forceDeleteWithoutRecovery: true } });
      ct((t += 2000), tf, 'rds.amazonaws.com', 'DeleteDBInstance', { ip: runner, ua: tfUa('api/rds#1.89.0'), readOnly: false, rp: { dBInstanceIdentifier: `${env}-db`, skipFinalSnapshot: true, deleteAutomatedBackups: true }, re: { dBInstanceIdentifier: `${env}-db`, dBInstanceStatus: 'deleting' } });
      const sched = assumed('rds-dev-scheduler', 'AROAZ4RDSDEVSCHED001', 'rds-dev-scheduler', key());
      for (let d = 0; d * 24 + 20 < hours; d++) {
        const ts = T0 + (d * 24 + 19) * 3600_000 + int(0, 120_000);
        for (const [i, db] of ['orders-dev', 'payments-dev'].entries()) {
          ct(ts + i * 900, sched, 'rds.amazonaws.com', 'StopDBInstance', { ip: '44.230.10.1', ua: UA.lambda.replace('api/dynamodb#3.679.0', 'api/rds#3.679.0'), readOnly: false, rp: { dBInstanceIdentifier: db }, re: { dBInstanceIdentifier: db, dBInstanceStatus: 'stopping' } });
        }
        // The same scheduler stops the development instances in one call; CI prunes old image tags nightly.
        const devs = [0, 1, 2, 3].map(() => `i-0${hex(16)}`);
        ct(ts + 3000, sched, 'ec2.amazonaws.com', 'StopInstances', { ip: '44.230.10.1', ua: UA.lambda.replace('api/dynamodb#3.679.0', 'api/ec2#3.679.0'), readOnly: false, rp: { instancesSet: { items: devs.map((instanceId) => ({ instanceId })) }, force: false }, re: { instancesSet: { items: devs.map((instanceId) => ({ instanceId, currentState: { code: 64, name: 'stopping' }, previousState: { code: 16, name: 'running' } })) } } });
        const prune = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
        const tp = T0 + (d * 24 + 2) * 3600_000 + int(0, 600_000);
        for (const [i, repo] of ['payments-api', 'checkout-worker', 'search-indexer'].entries()) {
          ct(tp + i * 4000, prune, 'ecr.amazonaws.com', 'BatchDeleteImage', { ip: GH_RUNNERS[1]! + int(2, 250), ua: UA.ghaAssume.replace('configure-aws-credentials-for-github-actions', 'ecr-prune'), readOnly: false, rp: { repositoryName: repo, registryId: ACCOUNT, imageIds: [{ imageTag: `sha-${hex(7)}` }, { imageTag: `sha-${hex(7)}` }] }, re: { imageIds: [], failures: [] } });
        }
      }
      // Terraform adds the CI runners' range to staging's public API endpoint allow-list (not the whole internet).
      ct(T0 + 28 * 3600_000 + int(0, 600_000), tf, 'eks.amazonaws.com', 'UpdateClusterConfig', { ip: runner, ua: tfUa('api/eks#1.51.0'), readOnly: false, rp: { name: 'staging-eks-01', resourcesVpcConfig: { endpointPublicAccess: true, endpointPrivateAccess: true, publicAccessCidrs: ['62.226.10.0/24', '91.64.10.77/32', `${GH_RUNNERS[0]!}0/24`] } }, re: { update: { id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`, status: 'InProgress', type: 'EndpointAccessUpdate', params: [{ type: 'PublicAccessCidrs', value: '["62.226.10.0/24","91.64.10.77/32","20.42.10.0/24"]' }], errors: [] } } });
      // A developer's `cdk destroy --all` of their three sandbox stacks.
      {
        const dev = people[2]!;
        const t0 = T0 + 52 * 3600_000 + int(0, 600_000);
        const sid = assumed(dev.role, dev.roleId, dev.name, personKey(dev, 52, true));
        for (const [i, st] of ['carol-sandbox-network', 'carol-sandbox-api', 'carol-sandbox-data'].entries()) {
          ct(t0 + i * 30_000, sid, 'cloudformation.amazonaws.com', 'DeleteStack', { ip: personIp(dev, 52), ua: 'aws-sdk-js/3.699.0 ua/2.1 os/darwin#24.1.0 lang/js md/nodejs#20.18.1 api/cloudformation#3.699.0 aws-cdk/2.171.1', readOnly: false, rp: { stackName: st } });
        }
      }
      const carol = people[2]!;
      const cid = assumed(carol.role, carol.roleId, carol.name, personKey(carol, 35, false));
      (cid as Rec).sessionCredentialFromConsole = 'true';
      t = T0 + 35 * 3600_000 + int(0, 1_200_000);
      for (const fn of ['legacy-invoice-pdf', 'legacy-invoice-mail']) {
        ct((t += 20_000), cid, 'lambda.amazonaws.com', 'DeleteFunction20150331', { ip: personIp(carol, 35), ua: UA.console, readOnly: false, rp: { functionName: fn } });
        ct((t += 30_000), cid, 'logs.amazonaws.com', 'DeleteLogGroup', { ip: personIp(carol, 35), ua: UA.console, readOnly: false, rp: { logGroupName: `/aws/lambda/${fn}` } });
      }
      const bg = { type: 'IAMUser', principalId: 'AIDAZ4BILLINGRPTS001', arn: `arn:aws:iam::${ACCOUNT}:user/billing-reports`, accountId: ACCOUNT, userName: 'billing-reports' };
      t = T0 + 50 * 3600_000 + int(0, 600_000);
      for (const [i, ip] of ['62.226.10.41', '62.226.10.41', '91.64.10.77', '91.64.10.77'].entries()) {
        const ok = i === 3;
        ct((t += 40_000 + i * 200_000), { ...bg, accessKeyId: '' }, 'signin.amazonaws.com', 'ConsoleLogin', { ip, ua: UA.consoleBrowser, readOnly: false, region: 'us-east-1', re: { ConsoleLogin: ok ? 'Success' : 'Failure' }, extra: { additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: 'Yes' }, eventType: 'AwsConsoleSignIn', ...(ok ? {} : { errorMessage: 'Failed authentication' }) } });
      }
    }
    // Benign neighbours of seam-native-device-code-token-elsewhere (ct, 2026-12-03): every CLI user's morning
    // `aws sso login`: the browser's Identity Center sign-in steps, then the CLI's CreateToken polls (pending,
    // then the token) from the same address; on the second day bob's browser reaches the sign-in page over
    // IPv6 while his CLI uses IPv4 (not comparable, so silent by design); a password typo before the right one.
    if (hours > 40) {
      // GuardDuty flags the legacy billing-reports user's unusual API use; alice (platform admin, not that user)
      // resolves it in Security Hub with a note the next morning: triage, not a finding hidden by its subject.
      const gdId = hex(32);
      const seen = T0 + 30 * 3600_000 + int(0, 1_800_000);
      prod.push({
        t: seen + 300_000,
        line: JSON.stringify({
          accountId: ACCOUNT,
          arn: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/4eb0a1f0c2d3e4f5a6b7c8d9e0f1a2b3/finding/${gdId}`,
          createdAt: iso(seen),
          description: 'APIs commonly used in Discovery tactics were invoked by user IAMUser : billing-reports under unusual circumstances.',
          id: gdId,
          partition: 'aws',
          region: REGION,
          resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: 'AKIAZ4BILLINGRPTS001', principalId: 'AIDAZ4BILLINGRPTS001', userName: 'billing-reports', userType: 'IAMUser' } },
          schemaVersion: '2.0',
          service: { action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api: 'GetCostAndUsage', serviceName: 'ce.amazonaws.com', callerType: 'Remote IP', remoteIpDetails: { ipAddressV4: '62.226.10.41', organization: { asn: '3320', asnOrg: 'Deutsche Telekom AG' }, country: { countryName: 'Germany' } } } }, archived: false, count: 1, detectorId: '4eb0a1f0c2d3e4f5a6b7c8d9e0f1a2b3', eventFirstSeen: iso(seen), eventLastSeen: iso(seen), resourceRole: 'TARGET', serviceName: 'guardduty' },
          severity: 2,
          title: 'User billing-reports is anomalously invoking APIs commonly used in Discovery tactics.',
          type: 'Discovery:IAMUser/AnomalousBehavior',
          updatedAt: iso(seen + 300_000),
        }),
      });
      const admin = people[0]!;
      const adminConsole = assumed(admin.role, admin.roleId, admin.name, personKey(admin, 33, false));
      (adminConsole as Rec).sessionCredentialFromConsole = 'true';
      ct(T0 + 33 * 3600_000 + int(0, 1_800_000), adminConsole, 'securityhub.amazonaws.com', 'BatchUpdateFindings', { ip: personIp(admin, 33), ua: UA.console, readOnly: false, rp: { FindingIdentifiers: [{ Id: `arn:aws:guardduty:${REGION}:${ACCOUNT}:detector/4eb0a1f0c2d3e4f5a6b7c8d9e0f1a2b3/finding/${gdId}`, ProductArn: `arn:aws:securityhub:${REGION}::product/aws/guardduty` }], Workflow: { Status: 'RESOLVED' }, Note: { Text: 'Monthly cost report run from the office; expected.', UpdatedBy: admin.name } } });
      const store = `arn:aws:identitystore::${ACCOUNT}:identitystore/d-9067f4a2b1`;
      const userIds = people.map(() => `${hex(10)}-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`);
      for (let d = 0; d * 24 + 9 < hours; d++) {
        const h = d * 24 + 8;
        if (!working(h)) continue;
        for (const [pi, p] of people.entries()) {
          if (!p.kubectl) continue;
          const userId = userIds[pi]!;
          const browser = { type: 'Unknown', principalId: ACCOUNT, arn: '', accountId: ACCOUNT, accessKeyId: '', userName: p.name, onBehalfOf: { userId, identityStoreArn: store } };
          const ip = personIp(p, h);
          const browserIp = d === 1 && pi === 1 ? '2001:db8:4b1:7e00:1c2d:3e4f:5a6b:7c8d' : ip;
          const wf = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
          const signInStep = (at: number, name: string, cred: string, verdict?: string): void =>
            ct(at, browser, 'signin.amazonaws.com', name, { ip: browserIp, ua: UA.consoleBrowser, readOnly: false, region: 'us-east-1', extra: { additionalEventData: { AuthWorkflowID: wf, LoginTo: 'https://d-9067f4a2b1.awsapps.com/start/', CredentialType: cred }, eventType: 'AwsServiceEvent', ...(verdict === undefined ? {} : { serviceEventDetails: { [name]: verdict } }) } });
          let t = h * 3600_000 + T0 + int(0, 1_800_000);
          const tokenAs = { type: 'Unknown', principalId: userId, accountId: ACCOUNT, userName: p.name, onBehalfOf: { userId, identityStoreArn: store } };
          const token = (at: number, pending: boolean): void =>
            ct(at, tokenAs, 'sso-oauth.amazonaws.com', 'CreateToken', { ip, ua: UA.cliMac + 'sso.login', readOnly: false, rp: { clientId: `${hex(22)}`, clientSecret: 'HIDDEN_DUE_TO_SECURITY_REASONS', deviceCode: 'HIDDEN_DUE_TO_SECURITY_REASONS', grantType: 'urn:ietf:params:oauth:grant-type:device_code' }, re: pending ? null : { accessToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', expiresIn: 28800, refreshToken: 'HIDDEN_DUE_TO_SECURITY_REASONS', tokenType: 'Bearer' }, ...(pending ? { error: 'AuthorizationPendingException' } : {}) });
          token((t += 5_000), true);
          signInStep((t += 3_000), 'CredentialChallenge', 'PASSWORD');
          if (d === 2 && pi === 0) signInStep((t += 9_000), 'CredentialVerification', 'PASSWORD', 'Failure');
          signInStep((t += 9_000), 'CredentialVerification', 'PASSWORD', 'Success');
          signInStep((t += 1_000), 'CredentialChallenge', 'TOTP');
          signInStep((t += 12_000), 'CredentialVerification', 'TOTP', 'Success');
          signInStep((t += 500), 'UserAuthentication', 'TOTP', 'Success');
          token((t += 4_000), true);
          token((t += 6_000), false);
          // Then the CLI takes role credentials for the profiles the person uses (alice, the platform admin,
          // works in four accounts), and again as each role session expires through the day.
          const pairs = (pi === 0 ? [[ACCOUNT, 'AdministratorAccess'], ['222233334444', 'AdministratorAccess'], ['333344445555', 'AdministratorAccess'], ['444455556666', 'SecurityAudit']] : pi === 1 ? [[ACCOUNT, 'ReadOnlyAccess']] : [[ACCOUNT, 'PowerUserAccess'], ['222233334444', 'PowerUserAccess']]) as [string, string][];
          const fetchAs = { type: 'IdentityCenterUser', accountId: ACCOUNT, onBehalfOf: { userId, identityStoreArn: store }, credentialId: `AAAAA${hex(40)}` };
          if (d === 1 && pi === 0) {
            // CI's Terraform turns on log file validation for the account trail (home region): UpdateTrail re-sends the bucket.
            const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
            const bucket = `acme-cloudtrail-${ACCOUNT}`;
            ct(t + 5 * 3600_000, tf, 'cloudtrail.amazonaws.com', 'UpdateTrail', { ip: GH_RUNNERS[0]! + int(2, 250), ua: UA.terraform.replace('api/iam#1.37.2', 'api/cloudtrail#1.46.2'), readOnly: false, rp: { name: 'account-trail', s3BucketName: bucket, enableLogFileValidation: true, includeGlobalServiceEvents: true, isMultiRegionTrail: true }, re: { name: 'account-trail', s3BucketName: bucket, includeGlobalServiceEvents: true, isMultiRegionTrail: true, trailARN: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/account-trail`, logFileValidationEnabled: true, isOrganizationTrail: false } });
          }
          for (let k = 0; k < 9; k += 2) {
            for (const [acct, role] of k === 0 ? pairs : [pairs[k % pairs.length]!]) {
              ct(k === 0 ? (t += 2_000) : t + k * 3600_000 + int(0, 600_000), fetchAs, 'sso.amazonaws.com', 'GetRoleCredentials', { ip, ua: UA.cliMac + 'eks.describe-cluster', readOnly: true, extra: { eventType: 'AwsServiceEvent', serviceEventDetails: { role_name: role, account_id: acct } } });
            }
          }
        }
      }
    }
  }

  // Benign neighbours of ct2's compute and data rules (2026-12-03), generated after everything above so the
  // records above keep their random draws: the payments service decrypting its envelope-encrypted records
  // directly with its KMS key every hour (a second key after a key rotation on day two; Decrypt logs the key in
  // resources[]); AWS Backup's nightly cross-region copy of the payments database snapshot; alice reading the
  // payments database's error log (and its replica's) during a working-hours incident; Terraform setting a
  // function's reserved concurrency, turning ECR scan-on-push and continuous registry scanning on, raising
  // work_mem with pgaudit on in the payments parameter group and exporting the PostgreSQL log; Karpenter
  // terminating a consolidated batch of twelve nodes in one call.
  {
    const prodNat = clusters[0]!.nat;
    const keyArn = (id: string): string => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
    const KEYS = [keyArn('7d0c3b1a-2f4e-4a6b-9c8d-1e2f3a4b5c6d'), keyArn('8e1d4c2b-3a5f-4b7c-8d9e-2f3a4b5c6d7e')];
    const payRoleId = 'AROA' + hex(16).toUpperCase();
    for (let h = 0; h < hours; h++) {
      const session = `botocore-session-${1_762_041_600 + h * 3600}`;
      const id = assumed('payments-api-irsa', payRoleId, session, key(), { webIdFederationData: { federatedProvider: `arn:aws:iam::${ACCOUNT}:oidc-provider/${clusters[0]!.oidc}`, attributes: {} } });
      const k = KEYS[h >= 30 && rnd() < 0.5 ? 1 : 0]!;
      for (let i = count(working(h) ? 12 : 4); i > 0; i--) {
        ct(T0 + h * 3600_000 + int(0, 3_599_000), id, 'kms.amazonaws.com', 'Decrypt', { ip: prodNat, ua: UA.botoApp, readOnly: true, rp: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { app: 'payments', table: 'cards' } }, re: null, extra: { resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: k }] } });
      }
    }
    const backup = assumed('AWSBackupDefaultServiceRole', 'AROA' + hex(16).toUpperCase(), 'AWSBackup-AWSBackupDefaultServiceRole', key());
    (backup as { invokedBy?: string }).invokedBy = 'backup.amazonaws.com';
    for (let d = 0; d * 24 + 3 < hours; d++) {
      const day = new Date(T0 + d * 86_400_000).toISOString().slice(0, 10);
      ct(T0 + (d * 24 + 3) * 3600_000 + int(0, 600_000), backup, 'rds.amazonaws.com', 'CopyDBSnapshot', { ip: 'backup.amazonaws.com', ua: 'backup.amazonaws.com', readOnly: false, region: 'us-east-2', rp: { sourceDBSnapshotIdentifier: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-${hex(8)}-${day}`, targetDBSnapshotIdentifier: `awsbackup:copyjob-${hex(8)}`, kmsKeyId: `arn:aws:kms:us-east-2:${ACCOUNT}:key/${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`, copyTags: true, sourceRegion: REGION }, re: { dBSnapshotIdentifier: `awsbackup:copyjob-${hex(8)}`, status: 'pending' } });
    }
    if (hours > 40) {
      const alice = people[0]!;
      const h = 33;
      const sid = assumed(alice.role, alice.roleId, alice.name, personKey(alice, h, true));
      let t = T0 + h * 3600_000 + int(0, 600_000);
      for (const [db, file] of [['payments-db', 'error/postgresql.log.2026-11-03-09'], ['payments-db', 'error/postgresql.log.2026-11-03-09'], ['payments-db', 'error/postgresql.log.2026-11-03-08'], ['payments-db-replica-1', 'error/postgresql.log.2026-11-03-09']] as const) {
        ct((t += int(20_000, 90_000)), sid, 'rds.amazonaws.com', 'DownloadDBLogFilePortion', { ip: personIp(alice, h), ua: UA.cliMac + 'rds.download-db-log-file-portion', readOnly: true, rp: { dBInstanceIdentifier: db, logFileName: file, numberOfLines: 10000 }, re: { logFileData: 'HIDDEN_DUE_TO_SECURITY_REASONS', additionalDataPending: false } });
      }
      const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
      const runner = GH_RUNNERS[1]! + int(2, 250);
      const tfUa = (api: string): string => UA.terraform.replace('api/iam#1.37.2', api);
      t = T0 + 45 * 3600_000 + int(0, 600_000);
      ct((t += 3_000), tf, 'lambda.amazonaws.com', 'PutFunctionConcurrency20171031', { ip: runner, ua: tfUa('api/lambda#1.64.0'), readOnly: false, rp: { functionName: 'receipt-mailer', reservedConcurrentExecutions: 20 }, re: { reservedConcurrentExecutions: 20 } });
      for (const repo of ['payments-api', 'checkout-worker', 'search-indexer']) {
        ct((t += 2_000), tf, 'ecr.amazonaws.com', 'PutImageScanningConfiguration', { ip: runner, ua: tfUa('api/ecr#1.36.2'), readOnly: false, rp: { repositoryName: repo, registryId: ACCOUNT, imageScanningConfiguration: { scanOnPush: true } }, re: { registryId: ACCOUNT, repositoryName: repo, imageScanningConfiguration: { scanOnPush: true } } });
      }
      const rules = [{ scanFrequency: 'CONTINUOUS_SCAN', repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' }] }];
      ct((t += 2_000), tf, 'ecr.amazonaws.com', 'PutRegistryScanningConfiguration', { ip: runner, ua: tfUa('api/ecr#1.36.2'), readOnly: false, rp: { scanType: 'ENHANCED', rules }, re: { registryScanningConfiguration: { scanType: 'ENHANCED', rules } } });
      ct((t += 4_000), tf, 'rds.amazonaws.com', 'ModifyDBParameterGroup', { ip: runner, ua: tfUa('api/rds#1.89.0'), readOnly: false, rp: { dBParameterGroupName: 'payments-pg16', parameters: [{ parameterName: 'work_mem', parameterValue: '65536', applyMethod: 'immediate' }, { parameterName: 'pgaudit.log', parameterValue: 'ddl,role', applyMethod: 'immediate' }, { parameterName: 'log_connections', parameterValue: '1', applyMethod: 'immediate' }] }, re: { dBParameterGroupName: 'payments-pg16' } });
      ct((t += 4_000), tf, 'rds.amazonaws.com', 'ModifyDBInstance', { ip: runner, ua: tfUa('api/rds#1.89.0'), readOnly: false, rp: { dBInstanceIdentifier: 'payments-db', cloudwatchLogsExportConfiguration: { enableLogTypes: ['postgresql'], disableLogTypes: ['upgrade'] }, applyImmediately: true }, re: { dBInstanceIdentifier: 'payments-db', dBInstanceStatus: 'available' } });
      const karpenter = assumed('karpenter-controller', 'AROA' + hex(16).toUpperCase(), `${1_762_200_000 + int(0, 99_999)}`, key(), { webIdFederationData: { federatedProvider: `arn:aws:iam::${ACCOUNT}:oidc-provider/${clusters[0]!.oidc}`, attributes: {} } });
      const consolidated = Array.from({ length: 12 }, () => `i-0${hex(16)}`);
      ct(T0 + 47 * 3600_000 + int(0, 600_000), karpenter, 'ec2.amazonaws.com', 'TerminateInstances', { ip: prodNat, ua: 'aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.198.1 karpenter.sh-1.1.1', readOnly: false, rp: { instancesSet: { items: consolidated.map((instanceId) => ({ instanceId })) } }, re: { instancesSet: { items: consolidated.map((instanceId) => ({ instanceId, currentState: { code: 32, name: 'shutting-down' }, previousState: { code: 16, name: 'running' } })) } } });
    }
  }

  // Nodes joining (node-group scaling on prod, Karpenter on staging): the DaemonSet controller makes each
  // DaemonSet's pod for the new node from its template, logged at RequestResponse like any pod write. Besides the
  // EKS add-ons (aws-node, kube-proxy), the site runs a runtime security agent (privileged, /proc and the
  // containerd socket) and Prometheus's node exporter (hostPID, hostNetwork, the node's root read-only): the
  // templates were installed before these three days. Generated last, so the records above are unchanged.
  const joined: { c: Cluster; at: number; nodeName: string; cp: string }[] = []; // read by realK8sAddOns below (no draw)
  for (const c of clusters) {
    const joins = Math.round((c.scale < 1 ? 6 : 2) * (hours / 24));
    for (let j = 0; j < joins; j++) {
      const at = T0 + Math.floor(((j + 0.5) * hours * 3600_000) / joins) + int(0, 600_000);
      const nodeIp = `${c.vpc}${int(16, 190)}.${int(2, 250)}`;
      const nodeName = `ip-${nodeIp.replace(/\./g, '-')}.${REGION}.compute.internal`;
      const cp = c.vpc === '10.0.' ? '10.0.200.17' : '10.0.201.9';
      joined.push({ c, at, nodeName, cp });
      const ds = (ns: string, name: string, spec: Rec, i: number): void => {
        const pod = `${name}-${hex(5)}`;
        audit(c, at + 2_000 + i * 150, saUser('kube-system', 'daemon-set-controller'), 'create', { resource: 'pods', namespace: ns }, {
          ip: cp,
          ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:daemon-set-controller',
          level: 'RequestResponse',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:controller:daemon-set-controller" of ClusterRole "system:controller:daemon-set-controller" to ServiceAccount "daemon-set-controller/kube-system"',
          requestObject: {
            kind: 'Pod',
            apiVersion: 'v1',
            metadata: { generateName: `${name}-`, name: pod, namespace: ns, labels: { 'app.kubernetes.io/name': name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid: uuid(), controller: true, blockOwnerDeletion: true }] },
            spec: { ...spec, nodeName, tolerations: [{ operator: 'Exists' }] },
            status: {},
          },
        });
      };
      const eks = `602401143452.dkr.ecr.${REGION}.amazonaws.com/`;
      ds('kube-system', 'aws-node', { hostNetwork: true, serviceAccountName: 'aws-node', containers: [{ name: 'aws-node', image: `${eks}amazon-k8s-cni:v1.19.0-eksbuild.1`, securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } } }], initContainers: [{ name: 'aws-vpc-cni-init', image: `${eks}amazon-k8s-cni-init:v1.19.0-eksbuild.1`, securityContext: { privileged: true } }] }, 0);
      ds('kube-system', 'kube-proxy', { hostNetwork: true, serviceAccountName: 'kube-proxy', containers: [{ name: 'kube-proxy', image: `${eks}eks/kube-proxy:v1.30.6-minimal-eksbuild.3`, securityContext: { privileged: true } }] }, 1);
      ds('falco', 'falco', {
        serviceAccountName: 'falco',
        containers: [{ name: 'falco', image: 'docker.io/falcosecurity/falco:0.39.2', securityContext: { privileged: true }, volumeMounts: [{ name: 'proc-fs', mountPath: '/host/proc', readOnly: true }, { name: 'containerd-socket', mountPath: '/host/run/containerd/containerd.sock' }, { name: 'boot-fs', mountPath: '/host/boot', readOnly: true }] }],
        volumes: [{ name: 'proc-fs', hostPath: { path: '/proc' } }, { name: 'containerd-socket', hostPath: { path: '/run/containerd/containerd.sock' } }, { name: 'boot-fs', hostPath: { path: '/boot' } }],
      }, 2);
      ds('monitoring', 'node-exporter', {
        hostPID: true,
        hostNetwork: true,
        serviceAccountName: 'node-exporter',
        containers: [{ name: 'node-exporter', image: 'quay.io/prometheus/node-exporter:v1.8.2', args: ['--path.rootfs=/host/root'], volumeMounts: [{ name: 'root', mountPath: '/host/root', readOnly: true, mountPropagation: 'HostToContainer' }] }],
        volumes: [{ name: 'root', hostPath: { path: '/' } }],
      }, 3);
    }
  }

  // realk8s (issue 12): routine shapes of common EKS add-ons, generated after everything above so those records
  // are unchanged. Kept in one function so other appended blocks stay separate.
  const realK8sAddOns = (): void => {
    // Cilium in chaining mode with the VPC CNI (its documented EKS install, Helm into kube-system): at each node
    // join the DaemonSet controller makes the agent's pod (capabilities, a privileged bpf-fs mount, host paths)
    // and cilium-envoy's, from images on quay.io.
    for (const { c, at, nodeName, cp } of joined) {
      const ds = (name: string, spec: Rec, i: number): void => {
        audit(c, at + 3_000 + i * 150, saUser('kube-system', 'daemon-set-controller'), 'create', { resource: 'pods', namespace: 'kube-system' }, {
          ip: cp,
          ua: KUBE('kube-controller-manager') + '/system:serviceaccount:kube-system:daemon-set-controller',
          level: 'RequestResponse',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:controller:daemon-set-controller" of ClusterRole "system:controller:daemon-set-controller" to ServiceAccount "daemon-set-controller/kube-system"',
          requestObject: {
            kind: 'Pod',
            apiVersion: 'v1',
            metadata: { generateName: `${name}-`, name: `${name}-${hex(5)}`, namespace: 'kube-system', labels: { 'k8s-app': name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid: uuid(), controller: true, blockOwnerDeletion: true }] },
            spec: { ...spec, nodeName, tolerations: [{ operator: 'Exists' }] },
            status: {},
          },
        });
      };
      const img = 'quay.io/cilium/cilium:v1.16.4@sha256:d55ec38938854133e06739b1af237932b9c4dd4e75e9b7b2ca3acc72540a44bf';
      const agentCaps = ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_MODULE', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];
      ds('cilium', {
        hostNetwork: true,
        serviceAccountName: 'cilium',
        priorityClassName: 'system-node-critical',
        containers: [{ name: 'cilium-agent', image: img, command: ['cilium-agent'], args: ['--config-dir=/tmp/cilium/config-map'], securityContext: { capabilities: { add: agentCaps, drop: ['ALL'] }, seLinuxOptions: { level: 's0', type: 'spc_t' } }, volumeMounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' }, { name: 'cilium-run', mountPath: '/var/run/cilium' }, { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }, { name: 'xtables-lock', mountPath: '/run/xtables.lock' }] }],
        initContainers: [
          { name: 'config', image: img, command: ['cilium-dbg', 'build-config'] },
          { name: 'mount-cgroup', image: img, securityContext: { capabilities: { add: ['SYS_ADMIN', 'SYS_CHROOT', 'SYS_PTRACE'], drop: ['ALL'] } }, volumeMounts: [{ name: 'hostproc', mountPath: '/hostproc' }, { name: 'cni-path', mountPath: '/hostbin' }] },
          { name: 'apply-sysctl-overwrites', image: img, securityContext: { capabilities: { add: ['SYS_ADMIN', 'SYS_CHROOT', 'SYS_PTRACE'], drop: ['ALL'] } }, volumeMounts: [{ name: 'hostproc', mountPath: '/hostproc' }, { name: 'cni-path', mountPath: '/hostbin' }] },
          { name: 'mount-bpf-fs', image: img, args: ['mount | grep "/sys/fs/bpf type bpf" || mount -t bpf bpf /sys/fs/bpf'], command: ['/bin/bash', '-c', '--'], securityContext: { privileged: true }, volumeMounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'Bidirectional' }] },
          { name: 'clean-cilium-state', image: img, command: ['/init-container.sh'], securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_MODULE', 'SYS_ADMIN', 'SYS_RESOURCE'], drop: ['ALL'] } }, volumeMounts: [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf' }, { name: 'cilium-run', mountPath: '/var/run/cilium' }] },
          { name: 'install-cni-binaries', image: img, command: ['/install-plugin.sh'], securityContext: { capabilities: { drop: ['ALL'] } }, volumeMounts: [{ name: 'cni-path', mountPath: '/host/opt/cni/bin' }] },
        ],
        volumes: [
          { name: 'cilium-run', hostPath: { path: '/var/run/cilium', type: 'DirectoryOrCreate' } },
          { name: 'bpf-maps', hostPath: { path: '/sys/fs/bpf', type: 'DirectoryOrCreate' } },
          { name: 'hostproc', hostPath: { path: '/proc', type: 'Directory' } },
          { name: 'cilium-cgroup', hostPath: { path: '/run/cilium/cgroupv2', type: 'DirectoryOrCreate' } },
          { name: 'cni-path', hostPath: { path: '/opt/cni/bin', type: 'DirectoryOrCreate' } },
          { name: 'etc-cni-netd', hostPath: { path: '/etc/cni/net.d', type: 'DirectoryOrCreate' } },
          { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
          { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
        ],
      }, 0);
      ds('cilium-envoy', {
        hostNetwork: true,
        serviceAccountName: 'cilium-envoy',
        containers: [{ name: 'cilium-envoy', image: 'quay.io/cilium/cilium-envoy:v1.30.7-1731393961-97edc2815e2c6a174d3d12e71731d54f5d32ea16', command: ['/usr/bin/cilium-envoy-starter'], securityContext: { capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'], drop: ['ALL'] }, seLinuxOptions: { level: 's0', type: 'spc_t' } }, volumeMounts: [{ name: 'envoy-sockets', mountPath: '/var/run/cilium/envoy/sockets' }, { name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' }] }],
        volumes: [{ name: 'envoy-sockets', hostPath: { path: '/var/run/cilium/envoy/sockets', type: 'DirectoryOrCreate' } }, { name: 'bpf-maps', hostPath: { path: '/sys/fs/bpf', type: 'DirectoryOrCreate' } }],
      }, 1);
    }
  };
  realK8sAddOns();

  // ── Organisation services acting in this member account (realct) ───────────────────────────────────
  // The account is a member of an AWS Organization. AWS services and the organisation's own automation act in it
  // for the customer, each call logged with the service as source address and user agent and the session of the
  // role the service assumed (a service-linked role, or a role the organisation's tooling made for the service):
  // IAM Identity Center provisioning permission sets (the AWSReservedSSO_* roles, their managed and inline
  // policies, the SAML provider), a CDK app deployed through its bootstrap CloudFormation execution role, AWS
  // Backup's nightly cross-account copies to the organisation's backup account (it shares the EBS and RDS
  // recovery points it made), EC2 Image Builder distributing the golden AMI to the organisation's workload
  // accounts, a service-managed StackSet of the security team, KMS rotating a key. Generated last, after the
  // 'nodes joining' section, so the records above are unchanged.
  if (hours > 40) {
    const svcRole = (role: string, path: string, session: string, svc: string): Rec => {
      const roleId = 'AROA' + hex(16).toUpperCase();
      return {
        type: 'AssumedRole',
        principalId: `${roleId}:${session}`,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
        accountId: ACCOUNT,
        accessKeyId: key(),
        sessionContext: {
          sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${ACCOUNT}:role/${path}${role}`, accountId: ACCOUNT, userName: role },
          attributes: { creationDate: '2026-11-03T00:00:00Z', mfaAuthenticated: 'false' },
        },
        invokedBy: svc,
      };
    };
    const bySvc = (svc: string): { ip: string; ua: string; readOnly: boolean } => ({ ip: svc, ua: svc, readOnly: false });
    const iamRegion = 'us-east-1';
    const BACKUP_ACCOUNT = '444455556666';
    const SECURITY_ACCOUNT = '777788889999';
    const WORKLOAD_ACCOUNTS = ['222233334444', '555566667777'];

    // IAM Identity Center: a permission set assigned to this account for the first time (day 2), and the
    // administrators' set updated and re-provisioned (day 3): the service creates or updates the role and
    // its policies, and refreshes the SAML provider's metadata.
    const ssoSvc = svcRole('AWSServiceRoleForSSO', 'aws-service-role/sso.amazonaws.com/', 'AWS-SSO', 'sso.amazonaws.com');
    const samlArn = `arn:aws:iam::${ACCOUNT}:saml-provider/AWSSSO_${hex(16)}_DO_NOT_DELETE`;
    const ssoTrust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: samlArn }, Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'], Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } } }] });
    const provision = (at: number, perm: string, managed: string[], inline: Rec | null, create: boolean): void => {
      const role = sso(perm);
      let t = at;
      ct((t += 1_000), ssoSvc, 'iam.amazonaws.com', 'UpdateSAMLProvider', { ...bySvc('sso.amazonaws.com'), region: iamRegion, rp: { sAMLProviderArn: samlArn, sAMLMetadataDocument: '<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor ...' }, re: { sAMLProviderArn: samlArn } });
      if (create) {
        ct((t += 1_000), ssoSvc, 'iam.amazonaws.com', 'CreateRole', { ...bySvc('sso.amazonaws.com'), region: iamRegion, rp: { path: '/aws-reserved/sso.amazonaws.com/', roleName: role, assumeRolePolicyDocument: ssoTrust, description: '', maxSessionDuration: 43200 }, re: { role: { path: '/aws-reserved/sso.amazonaws.com/', roleName: role, roleId: 'AROA' + hex(16).toUpperCase(), arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${role}`, createDate: 'Nov 3, 2026 10:00:00 AM', assumeRolePolicyDocument: encodeURIComponent(ssoTrust) } } });
      }
      for (const p of managed) ct((t += 700), ssoSvc, 'iam.amazonaws.com', 'AttachRolePolicy', { ...bySvc('sso.amazonaws.com'), region: iamRegion, rp: { roleName: role, policyArn: `arn:aws:iam::aws:policy/${p}` } });
      if (inline !== null) ct((t += 700), ssoSvc, 'iam.amazonaws.com', 'PutRolePolicy', { ...bySvc('sso.amazonaws.com'), region: iamRegion, rp: { roleName: role, policyName: 'AwsSSOInlinePolicy', policyDocument: JSON.stringify(inline) } });
    };
    provision(T0 + 34 * 3600_000 + int(0, 900_000), 'DataEngineer', ['AmazonAthenaFullAccess', 'AWSGlueConsoleFullAccess'], { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::acme-datalake-*'] }] }, true);
    provision(T0 + 34 * 3600_000 + int(1_000_000, 1_800_000), 'BreakGlassAdmin', ['AdministratorAccess'], null, true);
    provision(T0 + 58 * 3600_000 + int(0, 900_000), 'AdministratorAccess', ['AdministratorAccess'], { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: ['organizations:LeaveOrganization', 'account:CloseAccount'], Resource: '*' }] }, false);

    // A CDK app (the receipts API) deployed from CI: CloudFormation runs the change set with the bootstrap
    // stack's execution role, which is what CDK bootstrap creates and (by default) gives AdministratorAccess.
    const cdkExec = `cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
    const cfn = svcRole(cdkExec, '', 'AWSCloudFormation', 'cloudformation.amazonaws.com');
    {
      let t = T0 + 39 * 3600_000 + int(0, 900_000);
      const fnRole = `ReceiptsApiStack-HandlerServiceRole${hex(8).toUpperCase()}-${hex(12).toUpperCase()}`;
      const lambdaTrust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
      ct((t += 2_000), cfn, 'iam.amazonaws.com', 'CreateRole', { ...bySvc('cloudformation.amazonaws.com'), region: iamRegion, rp: { roleName: fnRole, assumeRolePolicyDocument: lambdaTrust, tags: [{ key: 'aws:cloudformation:stack-name', value: 'ReceiptsApiStack' }] }, re: { role: { path: '/', roleName: fnRole, roleId: 'AROA' + hex(16).toUpperCase(), arn: `arn:aws:iam::${ACCOUNT}:role/${fnRole}`, createDate: 'Nov 3, 2026 3:00:00 PM', assumeRolePolicyDocument: encodeURIComponent(lambdaTrust) } } });
      ct((t += 1_500), cfn, 'iam.amazonaws.com', 'AttachRolePolicy', { ...bySvc('cloudformation.amazonaws.com'), region: iamRegion, rp: { roleName: fnRole, policyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' } });
      ct((t += 1_500), cfn, 'iam.amazonaws.com', 'PutRolePolicy', { ...bySvc('cloudformation.amazonaws.com'), region: iamRegion, rp: { roleName: fnRole, policyName: 'HandlerServiceRoleDefaultPolicy', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], Resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/receipts`, Effect: 'Allow' }] }) } });
      const bucket = `receiptsapistack-archive${hex(8)}-${hex(12)}`;
      ct((t += 2_000), cfn, 's3.amazonaws.com', 'CreateBucket', { ...bySvc('cloudformation.amazonaws.com'), rp: { bucketName: bucket, Host: `${bucket}.s3.${REGION}.amazonaws.com` } });
      ct((t += 1_500), cfn, 's3.amazonaws.com', 'PutBucketPolicy', { ...bySvc('cloudformation.amazonaws.com'), rp: { bucketName: bucket, policy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] } } });
      ct((t += 4_000), cfn, 'lambda.amazonaws.com', 'CreateFunction20150331', { ...bySvc('cloudformation.amazonaws.com'), rp: { functionName: 'ReceiptsApiStack-Handler', runtime: 'nodejs20.x', role: `arn:aws:iam::${ACCOUNT}:role/${fnRole}`, handler: 'index.handler', code: { s3Bucket: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`, s3Key: `${hex(64)}.zip` } } });
      ct((t += 2_000), cfn, 'lambda.amazonaws.com', 'AddPermission20150331v2', { ...bySvc('cloudformation.amazonaws.com'), rp: { functionName: 'ReceiptsApiStack-Handler', statementId: `ReceiptsApiStack-ApiPermission${hex(8)}`, action: 'lambda:InvokeFunction', principal: 'apigateway.amazonaws.com', sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${hex(10)}/*/*/receipts` } });
    }

    // AWS Backup's nightly copy of the recovery points to the organisation's backup account: the service
    // shares the EBS snapshot and the RDS snapshot it made with the destination account, then stops sharing.
    const backup = svcRole('AWSBackupDefaultServiceRole', 'service-role/', 'AWSBackup-AWSBackupDefaultServiceRole', 'backup.amazonaws.com');
    for (let d = 0; d < Math.floor(hours / 24); d++) {
      let t = T0 + (d * 24 + 5) * 3600_000 + int(0, 1_800_000);
      for (let v = 0; v < 3; v++) {
        const snap = `snap-0${hex(16)}`;
        ct((t += int(60_000, 300_000)), backup, 'ec2.amazonaws.com', 'ModifySnapshotAttribute', { ...bySvc('backup.amazonaws.com'), rp: { snapshotId: snap, createVolumePermission: { add: { items: [{ userId: BACKUP_ACCOUNT }] } }, attributeType: 'CREATE_VOLUME_PERMISSION' }, re: { _return: true } });
        ct((t += int(600_000, 1_200_000)), backup, 'ec2.amazonaws.com', 'ModifySnapshotAttribute', { ...bySvc('backup.amazonaws.com'), rp: { snapshotId: snap, createVolumePermission: { remove: { items: [{ userId: BACKUP_ACCOUNT }] } }, attributeType: 'CREATE_VOLUME_PERMISSION' }, re: { _return: true } });
      }
      const dbSnap = `awsbackup:job-${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
      ct((t += int(60_000, 300_000)), backup, 'rds.amazonaws.com', 'ModifyDBSnapshotAttribute', { ...bySvc('backup.amazonaws.com'), rp: { dBSnapshotIdentifier: dbSnap, attributeName: 'restore', valuesToAdd: [BACKUP_ACCOUNT] }, re: { dBSnapshotIdentifier: dbSnap, dBSnapshotAttributes: [{ attributeName: 'restore', attributeValues: [BACKUP_ACCOUNT] }] } });
      ct((t += int(900_000, 1_800_000)), backup, 'rds.amazonaws.com', 'ModifyDBSnapshotAttribute', { ...bySvc('backup.amazonaws.com'), rp: { dBSnapshotIdentifier: dbSnap, attributeName: 'restore', valuesToRemove: [BACKUP_ACCOUNT] }, re: { dBSnapshotIdentifier: dbSnap, dBSnapshotAttributes: [{ attributeName: 'restore', attributeValues: [] }] } });
    }

    // EC2 Image Builder's weekly pipeline distributes the golden AMI (and its snapshot) to the workload accounts.
    {
      const ib = svcRole('AWSServiceRoleForImageBuilder', 'aws-service-role/imagebuilder.amazonaws.com/', 'Ec2ImageBuilderDistribution', 'imagebuilder.amazonaws.com');
      let t = T0 + 50 * 3600_000 + int(0, 900_000);
      const ami = `ami-0${hex(16)}`;
      ct((t += 5_000), ib, 'ec2.amazonaws.com', 'ModifyImageAttribute', { ...bySvc('imagebuilder.amazonaws.com'), rp: { imageId: ami, launchPermission: { add: { items: WORKLOAD_ACCOUNTS.map((userId) => ({ userId })) } }, attributeType: 'launchPermission' }, re: { _return: true } });
      ct((t += 2_000), ib, 'ec2.amazonaws.com', 'ModifySnapshotAttribute', { ...bySvc('imagebuilder.amazonaws.com'), rp: { snapshotId: `snap-0${hex(16)}`, createVolumePermission: { add: { items: WORKLOAD_ACCOUNTS.map((userId) => ({ userId })) } }, attributeType: 'CREATE_VOLUME_PERMISSION' }, re: { _return: true } });
    }

    // The security team's service-managed StackSet updates its baseline in every member account: CloudFormation
    // (stacksets-exec role) keeps the audit role the security account assumes, the Config recorder and the
    // account's S3 Block Public Access.
    {
      const ss = svcRole(`stacksets-exec-${hex(32)}`, '', `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`, 'cloudformation.amazonaws.com');
      let t = T0 + 52 * 3600_000 + int(0, 900_000);
      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SECURITY_ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }] });
      ct((t += 2_000), ss, 'iam.amazonaws.com', 'UpdateAssumeRolePolicy', { ...bySvc('cloudformation.amazonaws.com'), region: iamRegion, rp: { roleName: 'SecurityAuditFromSecurityAccount', policyDocument: trust } });
      ct((t += 1_500), ss, 'iam.amazonaws.com', 'AttachRolePolicy', { ...bySvc('cloudformation.amazonaws.com'), region: iamRegion, rp: { roleName: 'SecurityAuditFromSecurityAccount', policyArn: 'arn:aws:iam::aws:policy/SecurityAudit' } });
      ct((t += 2_000), ss, 'config.amazonaws.com', 'PutConfigurationRecorder', { ...bySvc('cloudformation.amazonaws.com'), rp: { configurationRecorder: { name: 'default', roleARN: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`, recordingGroup: { allSupported: true, includeGlobalResourceTypes: false } } } });
      ct((t += 2_000), ss, 's3.amazonaws.com', 'PutAccountPublicAccessBlock', { ...bySvc('cloudformation.amazonaws.com'), rp: { accountId: ACCOUNT, PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } } });
    }

    // KMS rotating a customer managed key on its schedule (an AWS service event).
    {
      const t = T0 + 44 * 3600_000 + int(0, 3_000_000);
      const keyId = uuid();
      ctOut.push({ t, line: JSON.stringify({ eventVersion: '1.10', userIdentity: { accountId: ACCOUNT, invokedBy: 'kms.amazonaws.com' }, eventTime: ctTime(t), eventSource: 'kms.amazonaws.com', eventName: 'RotateKey', awsRegion: REGION, sourceIPAddress: 'kms.amazonaws.com', userAgent: 'kms.amazonaws.com', requestParameters: null, responseElements: null, additionalEventData: { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`, rotationType: 'AUTO_ROTATION' }, eventID: uuid(), readOnly: false, resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}` }], eventType: 'AwsServiceEvent', managementEvent: true, recipientAccountId: ACCOUNT, serviceEventDetails: { keyId }, eventCategory: 'Management' }) });
    }

    // GuardDuty Malware Protection for EC2 scanning the bastion (GuardDuty-initiated, after a finding about it on
    // day 2): its service-linked role snapshots the instance's volumes and shares the snapshots with GuardDuty's
    // own service account, which scans them; the snapshots are deleted when the scan ends.
    {
      const gd = svcRole('AWSServiceRoleForAmazonGuardDutyMalwareProtection', 'aws-service-role/malware-protection.guardduty.amazonaws.com/', 'GuardDutyMalwareProtection', 'malware-protection.guardduty.amazonaws.com');
      const GUARDDUTY_SERVICE_ACCOUNT = '655088467813';
      let t = T0 + 38 * 3600_000 + int(0, 1_800_000);
      for (let v = 0; v < 2; v++) {
        const snap = `snap-0${hex(16)}`;
        ct((t += int(20_000, 60_000)), gd, 'ec2.amazonaws.com', 'ModifySnapshotAttribute', { ...bySvc('malware-protection.guardduty.amazonaws.com'), rp: { snapshotId: snap, createVolumePermission: { add: { items: [{ userId: GUARDDUTY_SERVICE_ACCOUNT }] } }, attributeType: 'CREATE_VOLUME_PERMISSION' }, re: { _return: true } });
        ct((t += int(600_000, 900_000)), gd, 'ec2.amazonaws.com', 'DeleteSnapshot', { ...bySvc('malware-protection.guardduty.amazonaws.com'), rp: { snapshotId: snap }, re: { _return: true } });
      }
    }
  }

  // realk8s (issue 12), second part: generated after the organisation services above so their records are unchanged.
  const realK8sTokenRequests = (): void => {
    // External Secrets with namespace SecretStores authenticating to AWS as the team's own IRSA service account
    // (provider.aws.auth.jwt.serviceAccountRef): at each ExternalSecret refresh (hourly) the operator asks the API
    // server for a short-lived token of that account for STS (TokenRequest, audience sts.amazonaws.com, 10 minutes).
    for (const c of clusters) {
      const esoPod = `external-secrets-${hex(9)}-${hex(5)}`;
      const esoNode = pick(c.nodes);
      const eso = saUser('external-secrets', 'external-secrets', esoPod, esoNode.name);
      for (let h = 0; h < hours; h++) {
        for (const a of apps.filter((x) => !x.podIdentity)) {
          for (let k = 0; k < (c.scale < 1 ? 1 : 2); k++) {
            audit(c, within(h), eso, 'create', { resource: 'serviceaccounts', namespace: a.ns, name: a.sa, subresource: 'token' }, {
              ip: esoNode.ip,
              ua: 'external-secrets/v0.10.4 (linux/amd64) kubernetes/$Format',
              level: 'Request',
              reason: 'RBAC: allowed by ClusterRoleBinding "external-secrets-controller" of ClusterRole "external-secrets-controller" to ServiceAccount "external-secrets/external-secrets"',
              requestObject: { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 600, boundObjectRef: null }, status: { token: '', expirationTimestamp: null } },
            });
          }
        }
      }
    }
  };
  realK8sTokenRequests();

  // realk8s (issue 12), third part: Helm release records read the way Helm reads them. Flux's helm-controller
  // reconciles the platform's HelmReleases (ingress, cert-manager, monitoring, logging, external-dns, external-secrets,
  // each in its own namespace) every 10 minutes: Helm's storage lists the release's records (secrets labelled
  // owner=helm) in the target namespace. People with kubectl run `helm list -A` a few times a working day: one list
  // of owner=helm secrets across all namespaces.
  const realK8sHelmReleases = (): void => {
    const releases = ['ingress-nginx', 'cert-manager', 'monitoring', 'logging', 'external-dns', 'external-secrets'];
    for (const c of clusters) {
      const hc = saUser('flux-system', 'helm-controller', `helm-controller-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
      const hcIp = pick(c.nodes).ip;
      const offsets = releases.map(() => int(0, 599_999));
      for (let t = T0; t < T0 + hours * 3600_000; t += 600_000) {
        releases.forEach((r, i) => {
          audit(c, t + offsets[i]!, hc, 'list', { resource: 'secrets', namespace: r }, {
            ip: hcIp,
            ua: 'helm-controller/v1.1.0 (linux/amd64) kubernetes/$Format',
            reason: 'RBAC: allowed by ClusterRoleBinding "cluster-reconciler-flux-system" of ClusterRole "cluster-admin" to ServiceAccount "helm-controller/flux-system"',
            uri: `/api/v1/namespaces/${r}/secrets?labelSelector=name%3D${r}%2Cowner%3Dhelm`,
          });
        });
      }
      for (let h = 0; h < hours; h++) {
        if (!working(h)) continue;
        for (const p of people.filter((x) => x.kubectl)) {
          if (rnd() > 0.15 * c.scale) continue;
          audit(c, within(h), iamUser(p.role, p.roleId, p.name, personKey(p, h, true)), 'list', { resource: 'secrets' }, {
            ip: personIp(p, h),
            ua: 'Helm/3.16.2',
            reason: 'EKS Access Policy: allowed by ClusterRoleBinding "platform-admin" of ClusterRole "cluster-admin"',
            uri: '/api/v1/secrets?labelSelector=owner%3Dhelm',
          });
        }
      }
    }
  };
  realK8sHelmReleases();

  // Benign neighbours of the ECS, instance-tag and instance-profile rules (cloudgoat, 2026-12-04), generated last so
  // the records above keep their random draws: a Fargate reports service whose task role (the role session named
  // after the 32-hex task id) reads its bucket and its secret from the prod NAT every hour, with new tasks after
  // CI's daily deploy (Terraform registering a revision whose entry point is a shell running the worker, then
  // UpdateService); an operator tagging a batch host in the morning and opening a session on the bastion; Terraform
  // replacing the batch hosts' instance-profile role (remove, then add) once.
  {
    const prodNat = clusters[0]!.nat;
    const taskRoleId = 'AROA' + hex(16).toUpperCase();
    const goEcs = 'aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_ECS_FARGATE';
    const tf = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
    const tfUa = (api: string): string => UA.terraform.replace('api/iam#1.37.2', api);
    let tasks = [hex(32), hex(32)];
    for (let h = 0; h < hours; h++) {
      if (h % 24 === 14) {
        const runner = GH_RUNNERS[0]! + int(2, 250);
        const t = T0 + h * 3600_000 + int(0, 600_000);
        const revision = 40 + Math.floor(h / 24);
        ct(t, tf, 'ecs.amazonaws.com', 'RegisterTaskDefinition', { ip: runner, ua: tfUa('api/ecs#1.52.1'), readOnly: false, rp: { family: 'reports-worker', taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/reports-worker-task`, executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ecsTaskExecutionRole`, networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], cpu: '512', memory: '1024', containerDefinitions: [{ name: 'worker', image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/reports-worker:2026.11.${2 + Math.floor(h / 24)}`, essential: true, entryPoint: ['/bin/sh', '-c'], command: ['exec /app/bin/worker --queue reports --metrics-port 9102 2>&1'], environment: [{ name: 'LOG_LEVEL', value: 'info' }], logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/reports-worker', 'awslogs-region': REGION, 'awslogs-stream-prefix': 'worker' } } }] }, re: { taskDefinition: { taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/reports-worker:${revision}`, family: 'reports-worker', revision, status: 'ACTIVE' } } });
        ct(t + 4_000, tf, 'ecs.amazonaws.com', 'UpdateService', { ip: runner, ua: tfUa('api/ecs#1.52.1'), readOnly: false, rp: { cluster: 'reports', service: 'reports-worker', taskDefinition: `reports-worker:${revision}` }, re: { service: { serviceName: 'reports-worker', status: 'ACTIVE', desiredCount: 2 } } });
        tasks = [hex(32), hex(32)];
      }
      for (const task of tasks) {
        const id = assumed('reports-worker-task', taskRoleId, task, key());
        for (let i = count(working(h) ? 3 : 1); i > 0; i--) {
          ct(within(h), id, 's3.amazonaws.com', 'GetObject', { ip: prodNat, ua: goEcs + ' api/s3#1.67.0', data: true, readOnly: true, rp: { bucketName: 'acme-reports', key: `in/${hex(12)}.json`, Host: 'acme-reports.s3.us-west-2.amazonaws.com' }, extra: { resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::acme-reports/in/x.json` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::acme-reports' }] } });
        }
        if (rnd() < 0.5) ct(within(h), id, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: prodNat, ua: goEcs + ' api/secretsmanager#1.34.3', readOnly: true, rp: { secretId: 'prod/reports/smtp' } });
      }
    }
    if (hours > 40) {
      const p = people[0]!;
      const h = 34;
      const id = assumed(p.role, p.roleId, p.name, personKey(p, h, false));
      (id as Rec).sessionCredentialFromConsole = 'true';
      const t = T0 + h * 3600_000 + int(0, 600_000);
      const batchHost = `i-0${hex(16)}`;
      ct(t, id, 'ec2.amazonaws.com', 'CreateTags', { ip: personIp(p, h), ua: UA.console, readOnly: false, rp: { resourcesSet: { items: [{ resourceId: batchHost }] }, tagSet: { items: [{ key: 'PatchGroup', value: 'batch-weekly' }] } }, re: { _return: true } });
      const sessionId = `${p.name}-${hex(17)}`;
      ct(t + int(60_000, 600_000), id, 'ssm.amazonaws.com', 'StartSession', { ip: personIp(p, h), ua: UA.console, readOnly: false, rp: { target: 'i-0b45710a9c2d3e4f5' }, re: { sessionId, tokenValue: 'Value hidden due to security reasons.', streamUrl: `wss://ssmmessages.${REGION}.amazonaws.com/v1/data-channel/${sessionId}?role=publish_subscribe` } });
      const runner = GH_RUNNERS[2]! + int(2, 250);
      const t2 = T0 + 38 * 3600_000 + int(0, 600_000);
      ct(t2, tf, 'iam.amazonaws.com', 'RemoveRoleFromInstanceProfile', { ip: runner, ua: UA.terraform, region: 'us-east-1', readOnly: false, rp: { instanceProfileName: 'batch-hosts', roleName: 'batch-hosts-2025' } });
      ct(t2 + 2_000, tf, 'iam.amazonaws.com', 'AddRoleToInstanceProfile', { ip: runner, ua: UA.terraform, region: 'us-east-1', readOnly: false, rp: { instanceProfileName: 'batch-hosts', roleName: 'batch-hosts-2026' } });
      // Secrets Manager listed, then a value read, the benign ways: a person on the console page, Terraform resolving
      // a data source (list by name, then read the version) in CI's nightly plan.
      const p2 = people[1]!;
      const cid = assumed(p2.role, p2.roleId, p2.name, personKey(p2, 35, false));
      (cid as Rec).sessionCredentialFromConsole = 'true';
      const t3 = T0 + 35 * 3600_000 + int(0, 600_000);
      ct(t3, cid, 'secretsmanager.amazonaws.com', 'ListSecrets', { ip: personIp(p2, 35), ua: UA.console, readOnly: true, rp: { maxResults: 25, sortOrder: 'asc' } });
      ct(t3 + int(20_000, 90_000), cid, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: personIp(p2, 35), ua: UA.console, readOnly: true, rp: { secretId: 'prod/checkout/stripe' } });
      for (let d = 0; d * 24 + 2 < hours; d++) {
        const t4 = T0 + (d * 24 + 2) * 3600_000 + int(0, 600_000);
        const r2 = GH_RUNNERS[1]! + int(2, 250);
        ct(t4, tf, 'secretsmanager.amazonaws.com', 'ListSecrets', { ip: r2, ua: tfUa('api/secretsmanager#1.34.6'), readOnly: true, rp: { filters: [{ key: 'name', values: ['prod/reports/smtp'] }] } });
        ct(t4 + 1_500, tf, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: r2, ua: tfUa('api/secretsmanager#1.34.6'), readOnly: true, rp: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/reports/smtp-AbC123` } });
      }
    }
  }

  // Other accounts reading and writing this account's buckets (object-level data events in the owner's trail,
  // userIdentity type AWSAccount): the organisation's security account's SIEM role pulls the ALB access logs every
  // 15 minutes, and a partner uploads its nightly feed. Appended last, so the records above are unchanged.
  {
    const SECURITY = '210987654321';
    const PARTNER = '345678901234';
    const other = (account: string, roleId: string, session: string): Rec => ({ type: 'AWSAccount', principalId: `${roleId}:${session}`, accountId: account });
    const s3 = (ms: number, who: Rec, name: string, bucket: string, objectKey: string | undefined, ip: string, ua: string): void => {
      const rp: Rec = { bucketName: bucket, Host: `${bucket}.s3.${REGION}.amazonaws.com` };
      if (objectKey === undefined) Object.assign(rp, { 'list-type': '2', prefix: 'AWSLogs/', 'max-keys': '1000' });
      else rp.key = objectKey;
      const resources: Rec[] = [{ accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }];
      if (objectKey !== undefined) resources.unshift({ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${objectKey}` });
      ct(ms, who, 's3.amazonaws.com', name, { ip, ua, rp, data: true, readOnly: name !== 'PutObject', extra: { resources, additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: 'AuthHeader', 'x-amz-id-2': hex(32) } } });
    };
    const siem = other(SECURITY, 'AROA' + hex(16).toUpperCase(), 'siem-s3-poller');
    const siemUa = 'aws-sdk-java/2.29.6 Linux/5.10.228-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.13+11-LTS Java/17.0.13 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy';
    const bucket = `alb-access-logs-${ACCOUNT}`;
    for (let q = 0; q < hours * 4; q++) {
      const t = T0 + q * 900_000 + int(0, 60_000);
      const ip = `3.${int(80, 95)}.${int(0, 255)}.${int(1, 254)}`;
      s3(t, siem, 'ListObjects', bucket, undefined, ip, siemUa);
      for (let i = 0; i < 3; i++) {
        const day = new Date(t).toISOString().slice(0, 10).replace(/-/g, '/');
        s3(t + 500 + i * 200, siem, 'GetObject', bucket, `AWSLogs/${ACCOUNT}/elasticloadbalancing/${REGION}/${day}/${ACCOUNT}_elasticloadbalancing_${REGION}_app.prod-ingress.${hex(16)}_${hex(8)}.log.gz`, ip, siemUa);
      }
    }
    const partner = other(PARTNER, 'AROA' + hex(16).toUpperCase(), 'feed-uploader');
    for (let d = 0; d * 24 + 1 < hours; d++) {
      const t = T0 + (d * 24 + 1) * 3600_000 + int(0, 1_200_000);
      const day = new Date(t).toISOString().slice(0, 10);
      s3(t, partner, 'PutObject', 'partner-inbound-feeds', `acme/${day}/orders.csv.gz`, `198.18.${int(0, 255)}.${int(1, 254)}`, 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/command#s3.cp');
    }
  }

  // ── Benign neighbours of session 22's credential detections (generated last, so every record above is unchanged) ──
  // A Lambda function that hands out presigned S3 links: its own calls carry the runtime's user agent from Lambda's
  // addresses, and customers' browsers open the links from home (S3 records the signer's session with the browser's
  // address, AuthenticationMethod QueryString). A GitHub Actions deploy job that chains from its OIDC role into a
  // per-environment deploy role (configure-aws-credentials role-chaining) and uses both from its runner.
  if (hours > 40) {
    const fnRole = 'media-links-lambda-role';
    const fnRoleId = 'AROA' + hex(16).toUpperCase();
    const bucket = 'acme-customer-media';
    for (let h = 0; h < hours; h++) {
      const k = key();
      const fnId = assumed(fnRole, fnRoleId, 'media-links', k);
      const t = T0 + h * 3600_000 + int(0, 600_000);
      ct(t, fnId, 's3.amazonaws.com', 'HeadObject', { ip: pick(['52.32.10.4', '54.70.10.9']), ua: UA.lambda.replace('api/dynamodb', 'api/s3'), data: true, readOnly: true, rp: { bucketName: bucket, key: `uploads/${hex(12)}.jpg`, Host: `${bucket}.s3.${REGION}.amazonaws.com` }, extra: { additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: 'AuthHeader' } } });
      for (let i = count(h % 24 >= 8 && h % 24 < 22 ? 6 : 1); i > 0; i--) {
        const ip = `${pick(['84.160', '91.64', '62.226', '77.11'])}.${int(0, 255)}.${int(1, 254)}`;
        const get = rnd() < 0.7;
        ct(t + int(1000, 3_000_000), fnId, 's3.amazonaws.com', get ? 'GetObject' : 'PutObject', {
          ip,
          ua: pick([UA.consoleBrowser, 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1']),
          data: true,
          readOnly: get,
          rp: { bucketName: bucket, key: `${get ? 'media' : 'uploads'}/${hex(12)}.jpg`, Host: `${bucket}.s3.${REGION}.amazonaws.com`, 'X-Amz-Expires': '900' },
          extra: { additionalEventData: { SignatureVersion: 'SigV4', AuthenticationMethod: 'QueryString', 'x-amz-id-2': hex(32) } },
        });
      }
    }
    const ghProvider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const oidcRole = 'gha-oidc-entry';
    const oidcRoleId = 'AROA' + hex(16).toUpperCase();
    const deployRole = 'prod-deployer';
    const deployRoleId = 'AROA' + hex(16).toUpperCase();
    for (let d = 0; d * 24 + 10 < hours; d++) {
      const runner = pick(GH_RUNNERS) + int(2, 250);
      const t = T0 + (d * 24 + 10) * 3600_000 + int(0, 1_800_000);
      const k1 = key();
      const k2 = key();
      const subject = 'repo:acme/platform:environment:production';
      ct(t, { type: 'WebIdentityUser', principalId: `${ghProvider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: ghProvider }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
        ip: runner,
        ua: UA.ghaAssume,
        readOnly: true,
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${oidcRole}`, roleSessionName: 'GitHubActions', durationSeconds: 3600 },
        re: { credentials: { accessKeyId: k1, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 11:00:00 AM' }, subjectFromWebIdentityToken: subject, assumedRoleUser: { assumedRoleId: `${oidcRoleId}:GitHubActions`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${oidcRole}/GitHubActions` }, provider: ghProvider, audience: 'sts.amazonaws.com' },
      });
      const entry = assumed(oidcRole, oidcRoleId, 'GitHubActions', k1);
      ct(t + 2000, entry, 'sts.amazonaws.com', 'AssumeRole', {
        ip: runner,
        ua: UA.ghaAssume,
        readOnly: true,
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${deployRole}`, roleSessionName: 'GitHubActions', durationSeconds: 3600 },
        re: { credentials: { accessKeyId: k2, sessionToken: '[REDACTED]', expiration: 'Nov 2, 2026, 11:00:00 AM' }, assumedRoleUser: { assumedRoleId: `${deployRoleId}:GitHubActions`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${deployRole}/GitHubActions` } },
      });
      const deployer = assumed(deployRole, deployRoleId, 'GitHubActions', k2);
      ct(t + 5000, deployer, 'eks.amazonaws.com', 'DescribeCluster', { ip: runner, ua: UA.terraform, rp: { name: 'prod-eks-01' } });
      ct(t + 9000, deployer, 'ecr.amazonaws.com', 'GetAuthorizationToken', { ip: runner, ua: UA.docker, rp: null });
      ct(t + 60_000, deployer, 's3.amazonaws.com', 'GetObject', { ip: runner, ua: UA.terraform, data: true, readOnly: true, rp: { bucketName: 'acme-terraform-state', key: 'platform/prod.tfstate', Host: `acme-terraform-state.s3.${REGION}.amazonaws.com` } });
    }
  }

  // ── Benign neighbours of the OIDC exchange baseline (seam-native-web-identity-exchange-new-network; generated last) ──
  // CI roles whose tokens are exchanged the way CI services do it: GitHub-hosted runners from addresses all over Azure's
  // space (one AS), a self-managed GitLab's runner behind the office's egress, self-hosted runners on EC2 in two regions
  // (two Amazon ASes from the third day), a docs workflow moved from the office runner to GitHub-hosted runners on the
  // third day, and a GitLab.com project moved from the office runner to GitLab's hosted runners (Google Cloud) then too.
  // Each job uses its key from its runner.
  if (hours > 40) {
    const AZURE = ['20.42', '20.57', '40.84', '4.148', '172.183', '52.154', '13.105', '20.1', '20.14', '20.22', '40.70', '52.184', '20.119', '4.227', '20.98', '172.200', '52.225', '74.235', '40.65', '20.161'];
    const GCP = ['34.74', '35.231', '104.196', '34.145', '35.196', '34.73', '35.237'];
    const addr = (prefixes: readonly string[]): string => `${pick(prefixes)}.${int(0, 255)}.${int(1, 254)}`;
    interface CiRole {
      role: string;
      roleId: string;
      issuer: string;
      session: string;
    }
    const ciRole = (role: string, issuer: string, session: string): CiRole => ({ role, roleId: 'AROA' + hex(16).toUpperCase(), issuer, session });
    const job = (t: number, r: CiRole, subject: string, ip: string, uses: [string, string, Rec | null, boolean][]): void => {
      const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${r.issuer}`;
      const k = key();
      ct(t, { type: 'WebIdentityUser', principalId: `${provider}:sts.amazonaws.com:${subject}`, userName: subject, identityProvider: provider }, 'sts.amazonaws.com', 'AssumeRoleWithWebIdentity', {
        ip,
        ua: UA.ghaAssume,
        readOnly: true,
        region: 'us-east-1',
        rp: { roleArn: `arn:aws:iam::${ACCOUNT}:role/${r.role}`, roleSessionName: r.session, durationSeconds: 3600 },
        re: {
          credentials: { accessKeyId: k, sessionToken: '[REDACTED]', expiration: ctTime(t + 3600_000) },
          subjectFromWebIdentityToken: subject,
          assumedRoleUser: { assumedRoleId: `${r.roleId}:${r.session}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${r.role}/${r.session}` },
          provider,
          audience: 'sts.amazonaws.com',
        },
      });
      const id = assumed(r.role, r.roleId, r.session, k);
      let at = t;
      for (const [src, name, rp, data] of uses) ct((at += int(2000, 40_000)), id, src, name, { ip, ua: src === 'ecr.amazonaws.com' ? UA.docker : UA.terraform, rp, ...(data ? { data: true, readOnly: true } : {}) });
    };
    const cache = (bucket: string): [string, string, Rec, boolean] => ['s3.amazonaws.com', 'GetObject', { bucketName: bucket, key: `cache/${hex(16)}.tar.zst`, Host: `${bucket}.s3.${REGION}.amazonaws.com` }, true];
    const ecrLogin: [string, string, null, boolean] = ['ecr.amazonaws.com', 'GetAuthorizationToken', null, false];
    const GH = 'token.actions.githubusercontent.com';
    const matrix = ciRole('gha-ci-matrix', GH, 'GitHubActions');
    const gitlabSelf = ciRole('gitlab-deploy', 'gitlab.acme.example', 'GitLabRunner');
    const fleet = ciRole('runner-fleet-deploy', GH, 'GitHubActions');
    const docs = ciRole('gha-docs-publish', GH, 'GitHubActions');
    const gitlabCom = ciRole('gitlab-com-publish', 'gitlab.com', 'GitLabRunner');
    const OFFICE_RUNNER = '62.226.10.';
    for (let h = 0; h < hours; h++) {
      if (!working(h)) continue;
      const day = Math.floor(h / 24);
      for (let i = count(4); i > 0; i--) {
        const repo = pick(['payments', 'checkout', 'search', 'web']);
        job(within(h), matrix, `repo:acme/${repo}:${pick(['pull_request', 'ref:refs/heads/main'])}`, addr(AZURE), [ecrLogin, cache('acme-ci-cache')]);
      }
      if (h % 2 === 0) job(within(h), gitlabSelf, 'project_path:platform/infra:ref_type:branch:ref:main', OFFICE_RUNNER + int(200, 210), [cache('acme-terraform-state')]);
      if (rnd() < 0.5) job(within(h), fleet, 'repo:acme/platform:ref:refs/heads/main', day < 2 ? `54.210.${int(0, 255)}.${int(1, 254)}` : pick([`54.210.${int(0, 255)}.${int(1, 254)}`, `3.80.${int(0, 255)}.${int(1, 254)}`, `18.204.${int(0, 255)}.${int(1, 254)}`]), [ecrLogin]);
      if (h % 3 === 0) job(within(h), docs, 'repo:acme/docs:ref:refs/heads/main', day < 2 ? OFFICE_RUNNER + int(200, 210) : addr(AZURE), [cache('acme-docs-site')]);
      if (h % 4 === 1) job(within(h), gitlabCom, 'project_path:acme/website:ref_type:branch:ref:main', day < 2 ? OFFICE_RUNNER + int(200, 210) : addr(GCP), [cache('acme-website')]);
    }
    // A production deploy's runners moved from EC2 instances into the prod cluster (actions-runner-controller) on the
    // third day: their exchanges then come from the cluster's NAT gateway, an AWS /16 new to the role but the address
    // the cluster's own IRSA exchanges reach STS from (its learned egress).
    const arc = ciRole('arc-deploy', GH, 'GitHubActions');
    for (let h = 0; h < hours; h++) {
      if (!working(h) || h % 2 === 1) continue;
      job(within(h), arc, 'repo:acme/payments:environment:production', Math.floor(h / 24) < 2 ? `54.210.${int(0, 255)}.${int(1, 254)}` : clusters[0]!.nat, [ecrLogin]);
    }
  }

  // ── Server-side dry runs (ADR 0045; generated last, so every record above is unchanged) ──
  // Flux's kustomize-controller checks the platform Kustomization for drift every 10 minutes in each cluster: a
  // server-side apply with dryRun=All of each object it manages (namespaces, the applications' service accounts with
  // their IRSA annotation, a viewer ClusterRole and its binding, the applications' Deployments), logged at
  // RequestResponse with the object as it would be. Argo CD's server-side diff does the same for the applications'
  // Deployments. People run `kubectl diff` on a Deployment now and then in working hours, and on the second day one
  // tries a manifest that adds an OpenTelemetry collector sidecar to payments/api (not applied). Nothing here is
  // written; before Seam told dry runs apart, the Deployments' dry-run objects taught the container detection their
  // names, and the diff with the sidecar raised it.
  if (hours > 40) {
    const fluxReason = 'RBAC: allowed by ClusterRoleBinding "cluster-reconciler-flux-system" of ClusterRole "cluster-admin" to ServiceAccount "kustomize-controller/flux-system"';
    const argoReason = 'RBAC: allowed by ClusterRoleBinding "argocd-application-controller" of ClusterRole "argocd-application-controller" to ServiceAccount "argocd-application-controller/argocd"';
    const deployment = (c: Cluster, a: (typeof apps)[number], extra: Rec[] = []): Rec => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: a.sa, namespace: a.ns, labels: { 'app.kubernetes.io/name': a.sa, 'kustomize.toolkit.fluxcd.io/name': 'apps' } },
      spec: {
        replicas: c.scale < 1 ? 1 : 2,
        selector: { matchLabels: { app: a.sa } },
        template: {
          metadata: { labels: { app: a.sa } },
          spec: { serviceAccountName: a.sa, containers: [{ name: a.sa, image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${a.ns}-${a.sa}:1.52.0`, ports: [{ containerPort: 8080 }] }, ...extra] },
        },
      },
    });
    interface Managed {
      ref: Rec;
      body: Rec;
    }
    const managed = (c: Cluster): Managed[] => [
      ...apps.map((a) => ({ ref: { resource: 'namespaces', name: a.ns }, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: a.ns, labels: { 'kustomize.toolkit.fluxcd.io/name': 'platform' } } } })),
      ...apps.map((a) => ({
        ref: { resource: 'serviceaccounts', namespace: a.ns, name: a.sa },
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: a.sa, namespace: a.ns, annotations: a.podIdentity ? {} : { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/${c.scale < 1 ? 'staging-' : ''}${a.role}` } } },
      })),
      { ref: { resource: 'clusterroles', name: 'platform-viewer', apiGroup: 'rbac.authorization.k8s.io' }, body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'platform-viewer' }, rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments', 'services', 'events'], verbs: ['get', 'list', 'watch'] }] } },
      {
        ref: { resource: 'clusterrolebindings', name: 'platform-viewers', apiGroup: 'rbac.authorization.k8s.io' },
        body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'platform-viewers' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'platform-viewer' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'platform:viewers' }] },
      },
      ...apps.map((a) => ({ ref: { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, body: deployment(c, a) })),
    ];
    const dryApply = (c: Cluster, t: number, user: ReturnType<typeof saUser>, m: Managed, o: { ip: string; ua: string; reason: string; manager: string }): void => {
      const ref = m.ref;
      const group = ref.apiGroup as string | undefined;
      const path = `${group ? `/apis/${group}/v1` : '/api/v1'}${ref.namespace ? `/namespaces/${String(ref.namespace)}` : ''}/${String(ref.resource)}/${String(ref.name)}`;
      audit(c, t, user, 'patch', ref, { ip: o.ip, ua: o.ua, reason: o.reason, level: 'RequestResponse', uri: `${path}?dryRun=All&fieldManager=${o.manager}&force=true`, requestObject: m.body, responseObject: { ...m.body, metadata: { ...(m.body.metadata as Rec), resourceVersion: String(int(1_000_000, 9_999_999)), generation: 3 } } });
    };
    for (const c of clusters) {
      const kc = saUser('flux-system', 'kustomize-controller', `kustomize-controller-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
      const kcIp = pick(c.nodes).ip;
      const objects = managed(c);
      const offset = int(0, 599_999);
      for (let t = T0 + offset; t < T0 + hours * 3600_000; t += 600_000) {
        objects.forEach((m, i) => dryApply(c, t + i * 40, kc, m, { ip: kcIp, ua: 'kustomize-controller/v1.4.0 (linux/amd64) kubernetes/$Format', reason: fluxReason, manager: 'kustomize-controller' }));
      }
      const argo = saUser('argocd', 'argocd-application-controller', `argocd-application-controller-0`, pick(c.nodes).name);
      const argoIp = pick(c.nodes).ip;
      const argoOffset = int(0, 599_999);
      for (let t = T0 + argoOffset; t < T0 + hours * 3600_000; t += 600_000) {
        apps.forEach((a, i) => dryApply(c, t + i * 60, argo, { ref: { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, body: deployment(c, a) }, { ip: argoIp, ua: 'argocd-application-controller/v2.12.6 (linux/amd64) kubernetes/$Format', reason: argoReason, manager: 'argocd-controller' }));
      }
      for (let h = 0; h < hours; h++) {
        if (!working(h)) continue;
        for (const p of people.filter((x) => x.kubectl)) {
          if (rnd() > 0.2 * c.scale) continue;
          const a = pick(apps);
          const body = deployment(c, a);
          const path = `/apis/apps/v1/namespaces/${a.ns}/deployments/${a.sa}`;
          audit(c, within(h), iamUser(p.role, p.roleId, p.name, personKey(p, h, true)), 'patch', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, {
            ip: personIp(p, h),
            ua: 'kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46',
            reason: 'RBAC: allowed by ClusterRoleBinding "eks-access-entry-edit" of ClusterRole "edit" to Group "eks-edit"',
            level: 'RequestResponse',
            uri: `${path}?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict`,
            requestObject: { spec: { template: { spec: { containers: (body.spec as { template: { spec: { containers: Rec[] } } }).template.spec.containers } } } },
            responseObject: body,
          });
        }
      }
      // The day-two sidecar diff (kubectl's three-way patch: $setElementOrder names the new container).
      if (c.scale === 1) {
        const p = people[0]!;
        const a = apps[0]!;
        const body = deployment(c, a, [{ name: 'otel-collector', image: 'otel/opentelemetry-collector-contrib:0.114.0', args: ['--config=/conf/otel.yaml'] }]);
        audit(c, T0 + 34 * 3600_000 + int(0, 3_000_000), iamUser(p.role, p.roleId, p.name, personKey(p, 34, true)), 'patch', { resource: 'deployments', namespace: a.ns, name: a.sa, apiGroup: 'apps' }, {
          ip: personIp(p, 34),
          ua: 'kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46',
          reason: 'RBAC: allowed by ClusterRoleBinding "eks-access-entry-edit" of ClusterRole "edit" to Group "eks-edit"',
          level: 'RequestResponse',
          uri: `/apis/apps/v1/namespaces/${a.ns}/deployments/${a.sa}?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict`,
          requestObject: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: a.sa }, { name: 'otel-collector' }], containers: [{ name: 'otel-collector', image: 'otel/opentelemetry-collector-contrib:0.114.0', args: ['--config=/conf/otel.yaml'] }] } } } },
          responseObject: body,
        });
      }
    }
  }

  // ── GitOps drift checks of sensitive objects (ADR 0047; generated last, so every record above is unchanged) ──
  // The platform Kustomization also manages kube-system/aws-auth (the node group role, and an SSO admin role mapped
  // to system:masters) and a ClusterRoleBinding of cluster-admin for the break-glass group; Argo CD manages the
  // security team's node agent, a privileged DaemonSet with host PID and a hostPath of /, from their own ECR
  // repository. Each is dry-run applied every 10 minutes (a server-side apply with dryRun=All, at RequestResponse),
  // never written during the three days: 2,592 records. With rules.driftCheckUsers set to [] they raise 5,184
  // medium+ alerts (aws-auth modified, cluster-admin bound, privileged container, sensitive host path: high; host
  // PID, DaemonSet image outside the lists: medium; 864 each); with the default list, none.
  if (hours > 40) {
    const fluxReason = 'RBAC: allowed by ClusterRoleBinding "cluster-reconciler-flux-system" of ClusterRole "cluster-admin" to ServiceAccount "kustomize-controller/flux-system"';
    const argoReason = 'RBAC: allowed by ClusterRoleBinding "argocd-application-controller" of ClusterRole "argocd-application-controller" to ServiceAccount "argocd-application-controller/argocd"';
    const sensitive = (c: Cluster): { flux: { path: string; ref: Rec; body: Rec }[]; argo: { path: string; ref: Rec; body: Rec } } => {
      const mapRoles =
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/${c.nodeRole}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n` +
        `- rolearn: arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_AdministratorAccess_da846ddd39f5c28e\n  username: sso-admin:{{SessionName}}\n  groups:\n  - system:masters\n`;
      return {
        flux: [
          {
            path: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
            ref: { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth' },
            body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system', labels: { 'kustomize.toolkit.fluxcd.io/name': 'platform' } }, data: { mapRoles } },
          },
          {
            path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/break-glass-admins',
            ref: { resource: 'clusterrolebindings', name: 'break-glass-admins', apiGroup: 'rbac.authorization.k8s.io' },
            body: {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: 'ClusterRoleBinding',
              metadata: { name: 'break-glass-admins', labels: { 'kustomize.toolkit.fluxcd.io/name': 'platform' } },
              roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
              subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'platform:break-glass' }],
            },
          },
        ],
        argo: {
          path: '/apis/apps/v1/namespaces/security/daemonsets/node-agent',
          ref: { resource: 'daemonsets', namespace: 'security', name: 'node-agent', apiGroup: 'apps' },
          body: {
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            metadata: { name: 'node-agent', namespace: 'security', labels: { 'app.kubernetes.io/instance': 'node-agent' } },
            spec: {
              selector: { matchLabels: { app: 'node-agent' } },
              template: {
                metadata: { labels: { app: 'node-agent' } },
                spec: {
                  serviceAccountName: 'node-agent',
                  hostPID: true,
                  tolerations: [{ operator: 'Exists' }],
                  containers: [
                    {
                      name: 'agent',
                      image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/security/node-agent:2.3.1`,
                      securityContext: { privileged: true },
                      volumeMounts: [{ name: 'host-root', mountPath: '/host', readOnly: true }],
                    },
                  ],
                  volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
                },
              },
            },
          },
        },
      };
    };
    const check = (c: Cluster, t: number, user: ReturnType<typeof saUser>, m: { path: string; ref: Rec; body: Rec }, o: { ip: string; ua: string; reason: string; manager: string }): void => {
      audit(c, t, user, 'patch', m.ref, {
        ip: o.ip,
        ua: o.ua,
        reason: o.reason,
        level: 'RequestResponse',
        uri: `${m.path}?dryRun=All&fieldManager=${o.manager}&force=true`,
        requestObject: m.body,
        responseObject: { ...m.body, metadata: { ...(m.body.metadata as Rec), resourceVersion: String(int(1_000_000, 9_999_999)) } },
      });
    };
    for (const c of clusters) {
      const objs = sensitive(c);
      const kc = saUser('flux-system', 'kustomize-controller', `kustomize-controller-${hex(9)}-${hex(5)}`, pick(c.nodes).name);
      const kcIp = pick(c.nodes).ip;
      const offset = int(0, 599_999);
      for (let t = T0 + offset; t < T0 + hours * 3600_000; t += 600_000) {
        objs.flux.forEach((m, i) => check(c, t + 2_000 + i * 40, kc, m, { ip: kcIp, ua: 'kustomize-controller/v1.4.0 (linux/amd64) kubernetes/$Format', reason: fluxReason, manager: 'kustomize-controller' }));
      }
      const argo = saUser('argocd', 'argocd-application-controller', 'argocd-application-controller-0', pick(c.nodes).name);
      const argoIp = pick(c.nodes).ip;
      const argoOffset = int(0, 599_999);
      for (let t = T0 + argoOffset; t < T0 + hours * 3600_000; t += 600_000) {
        check(c, t, argo, objs.argo, { ip: argoIp, ua: 'argocd-application-controller/v2.12.6 (linux/amd64) kubernetes/$Format', reason: argoReason, manager: 'argocd-controller' });
      }
    }
  }

  // ── Benign neighbours of the self-tagging and Cognito rules (2026-12-05; generated last, so every record above is unchanged) ──
  // The infra repository manages the CI role itself, so each day's Terraform apply re-applies the organisation's
  // default tags to it (TagRole on its own role, the ABAC self-tagging shape) and to a workload role; it also
  // re-tags a Secrets Manager secret and reads it back through a data source (current version, no version id).
  // A person re-tags a secret in the console and reads nothing. The photo app's browser clients fetch guest
  // credentials from its identity pool and read their own objects; Terraform re-applies the pool's roles on day 2.
  if (hours > 40) {
    for (let day = 0; day < Math.floor(hours / 24); day++) {
      const t = T0 + (day * 24 + 15) * 3600_000 + 1_500_000;
      const runner = GH_RUNNERS[0]! + String(40 + day);
      const id = assumed(CI_ROLE, ciRoleId, 'GitHubActions', key());
      const tfUa = (api: string): string => UA.terraform.replace('api/iam#1.37.2', api);
      const tags = [{ key: 'owner', value: 'platform' }, { key: 'cost-center', value: 'cc-1042' }, { key: 'managed-by', value: 'terraform' }];
      ct(t, id, 'iam.amazonaws.com', 'TagRole', { ip: runner, ua: tfUa('api/iam#1.37.2'), region: 'us-east-1', readOnly: false, rp: { roleName: CI_ROLE, tags } });
      ct(t + 1_200, id, 'iam.amazonaws.com', 'TagRole', { ip: runner, ua: tfUa('api/iam#1.37.2'), region: 'us-east-1', readOnly: false, rp: { roleName: 'checkout-worker-irsa', tags } });
      ct(t + 2_500, id, 'secretsmanager.amazonaws.com', 'TagResource', { ip: runner, ua: tfUa('api/secretsmanager#1.34.3'), readOnly: false, rp: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/checkout/stripe-AbCdEf`, tags } });
      ct(t + 40_000, id, 'secretsmanager.amazonaws.com', 'GetSecretValue', { ip: runner, ua: tfUa('api/secretsmanager#1.34.3'), rp: { secretId: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/checkout/stripe-AbCdEf` } });
    }
    const carol = people[2]!;
    const carolId = assumed(carol.role, carol.roleId, carol.name, key(), {});
    ct(T0 + (24 + 11) * 3600_000 + 420_000, { ...carolId, sessionCredentialFromConsole: 'true' }, 'secretsmanager.amazonaws.com', 'TagResource', { ip: carol.ips[0]!, ua: 'AWS Internal', readOnly: false, rp: { secretId: 'prod/search/opensearch', tags: [{ key: 'data-classification', value: 'internal' }] } });
    const pool = `${REGION}:6f1c2a9e-4b7d-4e21-9c3a-0d5e8f7a1b2c`;
    ct(T0 + (24 + 15) * 3600_000 + 2_000_000, assumed(CI_ROLE, ciRoleId, 'GitHubActions', key()), 'cognito-identity.amazonaws.com', 'SetIdentityPoolRoles', { ip: GH_RUNNERS[1]! + '17', ua: UA.terraform.replace('api/iam#1.37.2', 'api/cognitoidentity#1.27.4'), readOnly: false, rp: { identityPoolId: pool, roles: { authenticated: `arn:aws:iam::${ACCOUNT}:role/photoapp-auth`, unauthenticated: `arn:aws:iam::${ACCOUNT}:role/photoapp-guest` } } });
    for (let i = 0; i < 60; i++) {
      const t = T0 + i * 3600_000 * (hours / 60) + 600_000;
      const guestId = assumed('photoapp-guest', 'AROAPHOTOAPPGUEST0001', 'CognitoIdentityCredentials', key(), {
        webIdFederationData: { federatedProvider: 'cognito-identity.amazonaws.com', attributes: { 'cognito-identity.amazonaws.com:amr': '["unauthenticated"]', 'cognito-identity.amazonaws.com:aud': pool, 'cognito-identity.amazonaws.com:sub': `${REGION}:${uuid()}` } },
      });
      const ip = `73.${(i * 37) % 250}.${(i * 11) % 250}.${1 + (i % 250)}`;
      const ua = 'aws-sdk-js/3.600.0 ua/2.0 os/iOS#17.5 lang/js md/browser#Safari_17.5';
      ct(t, guestId, 's3.amazonaws.com', 'GetObject', { ip, ua, data: true, rp: { bucketName: 'photoapp-public', key: `public/${hex(8)}.jpg`, Host: 'photoapp-public.s3.us-west-2.amazonaws.com' } });
      ct(t + 900, guestId, 'lambda.amazonaws.com', 'Invoke', { ip, ua, data: true, readOnly: false, rp: { functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:photoapp-resize` } });
    }
  }

  const done = (xs: Out[]): string[] => xs.sort((x, y) => x.t - y.t).map((x) => x.line);
  return { prod: done(prod), staging: done(staging) };
}
