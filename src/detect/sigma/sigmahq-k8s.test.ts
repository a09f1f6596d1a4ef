import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED, sharedPresent } from '../../../test/helpers/shared.ts';
import type { SeamEvent } from '../../core/envelope.ts';
import { normalizeRecord } from '../../core/normalize/normalize.ts';
import { lintRules } from './lint.ts';
import { loadRules } from './ruleset.ts';
import type { SigmaRuleset } from './ruleset.ts';

// Does each of SigmaHQ's Kubernetes audit rules fire on an audit record of the behaviour its title names? The records
// are written here from the audit.k8s.io/v1 Event reference (kubernetes.io/docs/reference/config-api/apiserver-audit.v1)
// and the API each request calls, as EKS writes them (level Request: request bodies of writes); they run through the
// normalizer and the rule index, as records do in `seam run`. TABLE is the answer, rule by rule.

const K8S = join(SHARED, 'sigma', 'rules', 'application', 'kubernetes', 'audit');
const SAML = join(SHARED, 'sigma', 'rules', 'cloud', 'aws', 'cloudtrail', 'aws_delete_saml_provider.yml');

let n = 0;
/** An audit Event of one request at ResponseComplete, `objectRef` and the rest as the request has them. */
function audit(verb: string, uri: string, objectRef: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Request',
    auditID: `0b7c2f4e-5a61-4d0e-9f3a-${String(n).padStart(12, '0')}`,
    stage: 'ResponseComplete',
    requestURI: uri,
    verb,
    user: { username: 'arn:aws:sts::111122223333:assumed-role/dev-admin/alice', groups: ['system:authenticated'] },
    sourceIPs: ['203.0.113.40'],
    userAgent: 'kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8',
    objectRef,
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestReceivedTimestamp: '2026-11-05T10:00:00.000000Z',
    stageTimestamp: '2026-11-05T10:00:00.004000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "dev-admin"' },
    ...extra,
  };
}

/** A pod create: `spec` is the request body's pod spec. */
function podCreate(namespace: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return audit('create', `/api/v1/namespaces/${namespace}/pods`, { resource: 'pods', namespace, name, apiVersion: 'v1' }, {
    requestObject: { kind: 'Pod', apiVersion: 'v1', metadata: { name, namespace }, spec },
  });
}

const alpine = { name: 'main', image: 'public.ecr.aws/docker/library/alpine:3.20', command: ['sleep', 'infinity'] };

interface Row {
  /** The rule's file name in rules/application/kubernetes/audit. */
  rule: string;
  /** The behaviour the record shows. */
  record: string;
  event: Record<string, unknown>;
  fires: boolean;
  /** Why not, when it does not. */
  why?: string;
}

/** SigmaHQ Kubernetes audit rule → does it fire on a record of its own behaviour? */
const TABLE: Row[] = [
  {
    rule: 'kubernetes_audit_change_admission_controller.yml',
    record: 'kubectl apply of a new ValidatingWebhookConfiguration',
    event: audit('create', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', { resource: 'validatingwebhookconfigurations', name: 'policy-hook', apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_cronjob_modification.yml',
    record: 'a CronJob created in default',
    event: audit('create', '/apis/batch/v1/namespaces/default/cronjobs', { resource: 'cronjobs', namespace: 'default', name: 'backup', apiGroup: 'batch', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_deployment_deleted.yml',
    record: 'kubectl delete deployment',
    event: audit('delete', '/apis/apps/v1/namespaces/default/deployments/web', { resource: 'deployments', namespace: 'default', name: 'web', apiGroup: 'apps', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_events_deleted.yml',
    record: 'kubectl delete events --all (one delete per event)',
    event: audit('delete', '/api/v1/namespaces/default/events/web-7d9.17f1', { resource: 'events', namespace: 'default', name: 'web-7d9.17f1', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_exec_into_container.yml',
    record: 'kubectl exec over SPDY (kubectl before 1.30): POST, verb create',
    event: audit('create', '/api/v1/namespaces/default/pods/web/exec?command=sh&container=main&stdin=true&stdout=true&tty=true', { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1', subresource: 'exec' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_exec_into_container.yml',
    record: 'kubectl exec over WebSocket (kubectl 1.30 and later): GET, verb get',
    event: audit('get', '/api/v1/namespaces/default/pods/web/exec?command=sh&container=main&stdin=true&stdout=true&tty=true', { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1', subresource: 'exec' }, { userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', responseStatus: { metadata: {}, code: 101 } }),
    fires: false,
    why: "the rule asks for verb create; a WebSocket upgrade is a GET, which the API server logs as get (Seam's k8s_interactive_shell_exec_into_pod takes both)",
  },
  {
    rule: 'kubernetes_audit_hostpath_mount.yml',
    record: 'a pod mounting the node root through a hostPath volume',
    event: podCreate('default', 'hostroot', { containers: [{ ...alpine, volumeMounts: [{ name: 'host', mountPath: '/host' }] }], volumes: [{ name: 'host', hostPath: { path: '/' } }] }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_pod_in_system_namespace.yml',
    record: 'a pod created in kube-system',
    event: podCreate('kube-system', 'debug', { containers: [alpine] }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_potential_enumeration_activity.yml',
    record: 'an allowed exec of /bin/sh by kubectl (requestURI carries command=%2Fbin%2Fsh)',
    event: audit('create', '/api/v1/namespaces/default/pods/web/exec?command=%2Fbin%2Fsh&container=main&stdin=true&stdout=true&tty=true', { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1', subresource: 'exec' }),
    // Its responseStatus.code: 'ALLOW' is the authorizer's decision, the authorization.k8s.io/decision annotation
    // (logsource.ts); the code itself is the HTTP status, a number.
    fires: true,
  },
  {
    rule: 'kubernetes_audit_privileged_pod_creation.yml',
    record: 'a pod whose container sets securityContext.privileged: true and no capabilities (the demo node-debugger)',
    event: podCreate('default', 'node-debugger', { hostPID: true, containers: [{ ...alpine, securityContext: { privileged: true } }] }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_privileged_pod_creation.yml',
    record: 'a pod whose container adds SYS_ADMIN',
    event: podCreate('default', 'sysadmin', { containers: [{ ...alpine, securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_privileged_pod_creation.yml',
    record: 'a pod with hostNetwork: true and no privileged container',
    event: podCreate('default', 'hostnet', { hostNetwork: true, containers: [alpine] }),
    fires: false,
    why: 'the rule tests capabilities only; hostNetwork and hostPID (named in its description) are no capability (Seam has its own rules for host namespaces)',
  },
  {
    rule: 'kubernetes_audit_rbac_permisions_listing.yml',
    record: 'kubectl auth can-i --list',
    event: audit('create', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { resource: 'selfsubjectrulesreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_rolebinding_modification.yml',
    record: 'a ClusterRoleBinding to cluster-admin created',
    event: audit('create', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { resource: 'clusterrolebindings', name: 'backdoor', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_secrets_enumeration.yml',
    record: 'kubectl get secrets -A',
    event: audit('list', '/api/v1/secrets?limit=500', { resource: 'secrets', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_secrets_modified_or_deleted.yml',
    record: 'kubectl delete secret',
    event: audit('delete', '/api/v1/namespaces/default/secrets/db-password', { resource: 'secrets', namespace: 'default', name: 'db-password', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_serviceaccount_creation.yml',
    record: 'kubectl create serviceaccount',
    event: audit('create', '/api/v1/namespaces/default/serviceaccounts', { resource: 'serviceaccounts', namespace: 'default', name: 'ci-bot', apiVersion: 'v1' }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_sidecar_injection.yml',
    record: 'kubectl patch deployment adding a container',
    event: audit('patch', '/apis/apps/v1/namespaces/default/deployments/web', { resource: 'deployments', namespace: 'default', name: 'web', apiGroup: 'apps', apiVersion: 'v1' }, {
      requestObject: { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'public.ecr.aws/docker/library/busybox:1.36' }] } } } },
    }),
    fires: true,
  },
  {
    rule: 'kubernetes_audit_unauthorized_unauthenticated_actions.yml',
    record: 'a list of secrets forbidden by RBAC (403)',
    event: audit('list', '/api/v1/namespaces/kube-system/secrets', { resource: 'secrets', namespace: 'kube-system', apiVersion: 'v1' }, {
      responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    }),
    fires: true,
  },
];

/** Near misses for the taxonomy names mapped for SigmaHQ's rules: a record each rule must not fire on. */
const NEAR_MISSES: { rule: string; record: string; event: Record<string, unknown> }[] = [
  {
    rule: 'kubernetes_audit_privileged_pod_creation.yml',
    record: 'a hardened pod: privileged: false, capabilities dropped',
    event: podCreate('default', 'hardened', { containers: [{ ...alpine, securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] }),
  },
  {
    rule: 'kubernetes_audit_potential_enumeration_activity.yml',
    record: 'the same exec of /bin/sh, forbidden by RBAC',
    event: audit('create', '/api/v1/namespaces/default/pods/web/exec?command=%2Fbin%2Fsh&container=main&stdin=true&stdout=true&tty=true', { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1', subresource: 'exec' }, {
      responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    }),
  },
  {
    rule: 'kubernetes_audit_rbac_permisions_listing.yml',
    record: 'a SelfSubjectAccessReview (kubectl auth can-i get pods), not the rules listing',
    event: audit('create', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { resource: 'selfsubjectaccessreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' }),
  },
  {
    rule: 'kubernetes_audit_sidecar_injection.yml',
    record: 'a patch of a deployment in another API group (a Knative-style custom resource named deployments)',
    event: audit('patch', '/apis/example.dev/v1/namespaces/default/deployments/web', { resource: 'deployments', namespace: 'default', name: 'web', apiGroup: 'example.dev', apiVersion: 'v1' }),
  },
];

const META = { collector: 'test', receivedAt: '2026-11-05T10:00:01Z', origin: 'sigmahq-k8s.test' };

function firing(ruleset: SigmaRuleset, raw: Record<string, unknown>): Set<string> {
  const r = normalizeRecord(raw, META);
  if (!r.ok) throw new Error(`not a valid record: ${r.error.message}`);
  return new Set(ruleset.match(r.value as SeamEvent).map((m) => m.rule.file.split('/').pop()!));
}

describe.skipIf(!sharedPresent(K8S))("SigmaHQ's Kubernetes audit rules on audit records of their behaviour", () => {
  let ruleset: SigmaRuleset;
  beforeAll(async () => {
    const loaded = await loadRules([K8S, SAML]);
    expect(loaded.diagnostics).toEqual([]);
    ruleset = loaded.ruleset;
  });

  it('every rule of the folder has a row, and loads without a lint warning (SEAM_ERR_RULE_FIELD before: 2 of 16)', async () => {
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yml')).sort();
    expect(files.length).toBe(16);
    expect([...new Set(TABLE.map((r) => r.rule))].sort()).toEqual(files);
    const { diagnostics, loaded } = await lintRules([K8S]);
    expect(loaded.stats).toMatchObject({ rules: 16, rejected: 0 });
    expect(diagnostics.filter((d) => d.code === 'SEAM_ERR_RULE_FIELD')).toEqual([]);
    // What else lint says of them: SigmaHQ's medium rules carry no Triage paragraph (Seam's own convention).
    expect(new Set(diagnostics.map((d) => d.code))).toEqual(new Set(['SEAM_ERR_RULE_TRIAGE']));
  });

  it.each(TABLE.map((r) => [r.rule, r.record, r] as const))('%s on %s', (_rule, _record, row) => {
    const fired = firing(ruleset, row.event);
    expect(fired.has(row.rule)).toBe(row.fires);
  });

  it.each(NEAR_MISSES.map((r) => [r.rule, r.record, r] as const))('%s stays silent on %s', (_rule, _record, row) => {
    expect(firing(ruleset, row.event).has(row.rule)).toBe(false);
  });

  it('the table: all 16 rules fire on a record of their behaviour (exec only for SPDY sessions)', () => {
    const fires = new Set(TABLE.filter((r) => r.fires).map((r) => r.rule));
    const never = [...new Set(TABLE.map((r) => r.rule))].filter((r) => !fires.has(r));
    expect(never).toEqual([]);
    expect(TABLE.filter((r) => !r.fires).map((r) => r.rule)).toEqual(['kubernetes_audit_exec_into_container.yml', 'kubernetes_audit_privileged_pod_creation.yml']);
    expect(TABLE.filter((r) => !r.fires).every((r) => r.why !== undefined)).toBe(true);
  });

  it("aws_delete_saml_provider's status: success is a call without errorCode", () => {
    const ct = (extra: Record<string, unknown>): Record<string, unknown> => ({
      eventVersion: '1.09',
      eventSource: 'iam.amazonaws.com',
      eventName: 'DeleteSAMLProvider',
      eventTime: '2026-11-05T10:00:00Z',
      awsRegion: 'us-east-1',
      eventID: `5d1e2c3a-0f4b-4e8a-9c7d-${String(++n).padStart(12, '0')}`,
      recipientAccountId: '111122223333',
      sourceIPAddress: '203.0.113.40',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/dev-admin/alice', accountId: '111122223333' },
      requestParameters: { sAMLProviderArn: 'arn:aws:iam::111122223333:saml-provider/CorpIdP' },
      ...extra,
    });
    expect(firing(ruleset, ct({ responseElements: null })).has('aws_delete_saml_provider.yml')).toBe(true);
    // Near miss: the same call refused.
    expect(firing(ruleset, ct({ errorCode: 'AccessDenied', errorMessage: 'User is not authorized to perform: iam:DeleteSAMLProvider' })).has('aws_delete_saml_provider.yml')).toBe(false);
  });
});
