import { describe, expect, it } from 'vitest';
import type { RawMeta, SeamEvent } from '../envelope.ts';
import { SeamEventSchema } from '../envelope.ts';
import { queryHasKey, unescapeQueryComponent } from './dry-run.ts';
import { normalizeLine } from './normalize.ts';

const meta: RawMeta = { collector: 'file', receivedAt: '2026-11-26T09:20:00.000Z', cluster: 'prod-eks-01' };

/** An EKS audit event of a write by alice, as the API server logs it; `over` replaces fields. */
function audit(over: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: '0d6f1c1e-5a3b-4c2d-9e8f-7a6b5c4d3e2f',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
    verb: 'patch',
    user: { username: 'arn:aws:sts::111122223333:assumed-role/platform-admin/alice', groups: ['system:authenticated'], extra: { canonicalArn: ['arn:aws:iam::111122223333:role/platform-admin'] } },
    sourceIPs: ['203.0.113.24'],
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
    objectRef: { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-26T09:15:00.000000Z',
    stageTimestamp: '2026-11-26T09:15:00.018342Z',
    ...over,
  };
}

function dryRun(over: Record<string, unknown>): boolean | undefined {
  const r = normalizeLine(JSON.stringify(audit(over)), meta, { validate: true });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  const e: SeamEvent = r.value;
  expect(SeamEventSchema.safeParse(e).success).toBe(true);
  return e.seam.dry_run;
}

const URI = '/api/v1/namespaces/kube-system/configmaps/aws-auth';

describe('seam.dry_run', () => {
  it('marks a write whose query has dryRun, first or later among the parameters', () => {
    expect(dryRun({ requestURI: `${URI}?dryRun=All&fieldManager=kubectl-client-side-apply&fieldValidation=Strict` })).toBe(true);
    expect(dryRun({ requestURI: `${URI}?fieldManager=kustomize-controller&dryRun=All&force=true` })).toBe(true);
    expect(dryRun({ requestURI: `${URI}?fieldManager=argocd-controller&dryRun=All` })).toBe(true);
    for (const verb of ['create', 'update']) expect(dryRun({ verb, requestURI: `${URI}?dryRun=All` })).toBe(true);
  });

  it('counts any value, and the key however it is escaped, as the API server reads it', () => {
    // len(url.Query()["dryRun"]) != 0: an empty value, no "=", an unknown value (which the API server then refuses).
    expect(dryRun({ requestURI: `${URI}?dryRun=` })).toBe(true);
    expect(dryRun({ requestURI: `${URI}?dryRun` })).toBe(true);
    expect(dryRun({ requestURI: `${URI}?dryRun=true` })).toBe(true);
    expect(dryRun({ requestURI: `${URI}?%64ry%52un=All` })).toBe(true);
  });

  it('does not mark a write without the parameter, or with another one that only looks like it', () => {
    expect(dryRun({})).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?fieldManager=kubectl-client-side-apply` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dryRunX=1` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?xdryRun=All` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dryrun=All` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?DryRun=All` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?fieldManager=dryRun` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?fieldManager=x%26dryRun%3DAll` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dry+Run=All` })).toBeUndefined();
  });

  it('ignores pairs Go drops: a semicolon in the pair, a bad escape in its key or value', () => {
    expect(dryRun({ requestURI: `${URI}?x=1;dryRun=All` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dryRun=All;x=1` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dryRun=%zz` })).toBeUndefined();
    expect(dryRun({ requestURI: `${URI}?dryRun%=All` })).toBeUndefined();
    // A dropped pair does not hide a good one.
    expect(dryRun({ requestURI: `${URI}?dryRun=%zz&dryRun=All` })).toBe(true);
  });

  it('never marks a read, a session, a token request or a review, whatever the query says', () => {
    expect(dryRun({ verb: 'get', requestURI: `${URI}?dryRun=All` })).toBeUndefined();
    expect(dryRun({ verb: 'list', requestURI: '/api/v1/secrets?dryRun=All', objectRef: { resource: 'secrets', apiVersion: 'v1' } })).toBeUndefined();
    const pod = { resource: 'pods', namespace: 'payments', name: 'api-0', apiVersion: 'v1' };
    expect(dryRun({ verb: 'create', requestURI: '/api/v1/namespaces/payments/pods/api-0/exec?command=sh&dryRun=All', objectRef: { ...pod, subresource: 'exec' } })).toBeUndefined();
    const sa = { resource: 'serviceaccounts', namespace: 'payments', name: 'api', subresource: 'token', apiVersion: 'v1' };
    expect(dryRun({ verb: 'create', requestURI: '/api/v1/namespaces/payments/serviceaccounts/api/token?dryRun=All', objectRef: sa })).toBeUndefined();
    const review = { resource: 'selfsubjectrulesreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' };
    expect(dryRun({ verb: 'create', requestURI: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews?dryRun=All', objectRef: review })).toBeUndefined();
    expect(dryRun({ verb: 'get', requestURI: '/version?dryRun=All', objectRef: undefined })).toBeUndefined();
  });

  it('reads a delete from its DeleteOptions body when the record has one, else from the query', () => {
    const ns = { verb: 'delete', requestURI: '/api/v1/namespaces/payments', objectRef: { resource: 'namespaces', name: 'payments', apiVersion: 'v1' } };
    // kubectl delete --dry-run=server: the option in the body, not the URI.
    expect(dryRun({ ...ns, requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'], propagationPolicy: 'Background' } })).toBe(true);
    expect(dryRun({ ...ns, requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } })).toBeUndefined();
    expect(dryRun({ ...ns, requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: [] } })).toBeUndefined();
    // A body wins over the query: the API server reads the query only when there is no body.
    expect(dryRun({ ...ns, requestURI: '/api/v1/namespaces/payments?dryRun=All', requestObject: { kind: 'DeleteOptions', apiVersion: 'v1' } })).toBeUndefined();
    expect(dryRun({ ...ns, requestURI: '/api/v1/namespaces/payments?dryRun=All' })).toBe(true);
    expect(dryRun({ ...ns })).toBeUndefined();
    const coll = { verb: 'deletecollection', requestURI: '/apis/apps/v1/namespaces/payments/deployments', objectRef: { resource: 'deployments', namespace: 'payments', apiGroup: 'apps', apiVersion: 'v1' } };
    expect(dryRun({ ...coll, requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] } })).toBe(true);
    expect(dryRun({ ...coll, requestURI: '/apis/apps/v1/namespaces/payments/deployments?labelSelector=app%3Dapi&dryRun=All' })).toBe(true);
  });

  it('reads an eviction from its query or its deleteOptions', () => {
    const ev = { verb: 'create', requestURI: '/api/v1/namespaces/payments/pods/api-0/eviction', objectRef: { resource: 'pods', namespace: 'payments', name: 'api-0', subresource: 'eviction', apiVersion: 'v1' } };
    expect(dryRun({ ...ev, requestObject: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'api-0' }, deleteOptions: { dryRun: ['All'] } } })).toBe(true);
    expect(dryRun({ ...ev, requestURI: `${ev.requestURI}?dryRun=All`, requestObject: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'api-0' } } })).toBe(true);
    expect(dryRun({ ...ev, requestObject: { kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'api-0' } } })).toBeUndefined();
  });
});

describe('query parsing', () => {
  it('unescapes as Go does and refuses a bad escape', () => {
    expect(unescapeQueryComponent('a%41+b')).toBe('aA b');
    expect(unescapeQueryComponent('%4')).toBeUndefined();
    expect(unescapeQueryComponent('%g1')).toBeUndefined();
    expect(unescapeQueryComponent('plain')).toBe('plain');
  });

  it('finds a key among pairs, empty pairs included', () => {
    expect(queryHasKey('&&dryRun=All&', 'dryRun')).toBe(true);
    expect(queryHasKey('', 'dryRun')).toBe(false);
    expect(queryHasKey('a=1&b=2', 'dryRun')).toBe(false);
  });
});
