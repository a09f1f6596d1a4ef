/**
 * ECS task-role credentials used from outside AWS. The ECS agent (on EC2) and Fargate fetch a task's role
 * credentials with the task's id as the role session name (`…:assumed-role/<task role>/<32 hex>`, key `ASIA…`)
 * and hand them to the containers through 169.254.170.2. The task's own calls leave from its ENI, the host,
 * a NAT gateway (AWS addresses) or a VPC endpoint (private). The same session from a public address outside
 * AWS means a container's credentials were read out (command injection, SSRF to
 * 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, a task definition that posts them) and are being used
 * from the attacker's own host — the ECS twin of instance-creds-outside-aws, which keys on an i-… session.
 * Only the address says it, so an address Seam cannot place (no ASN database) is left alone, as are
 * attack-tool user agents from AWS addresses (instance-creds-outside-aws's wider checks need the instance's
 * own history, which a short-lived task does not give).
 */
import type { SeamEvent } from '../../core/envelope.ts';
import type { IdentityGraph } from '../../identity/graph.ts';
import type { Alert } from '../alert.ts';
import type { NativeConfig } from './config.ts';
import { addressPlace, networkFor, userAgentFamily } from './networks.ts';
import type { EvalContext, NativeDetection } from './types.ts';
import { accessKeyOf, callerText, keyLookupCommand, nativeAlert, revokeSessionsCommand } from './util.ts';
import { obj, str } from '../../core/values.ts';
import { boundedLru, type Lru } from '../../core/lru.ts';

/** A task id as ECS names the role session: 32 lower-case hex digits (the task ARN's last part). */
const TASK_SESSION = /:assumed-role\/([^/]+)\/([0-9a-f]{32})$/;

interface State {
  /** session ARN | address (IPv6: its /64) already reported. */
  alerted: Lru<string, true>;
}

/** The ECS task-role session of a CloudTrail call: role name, task id, session ARN. */
export function taskSession(event: SeamEvent): { arn: string; role: string; task: string } | undefined {
  if (event.seam.source !== 'cloudtrail') return undefined;
  const ui = obj(event.userIdentity);
  if (str(ui?.type) !== 'AssumedRole' || str(ui?.invokedBy) !== undefined) return undefined;
  const arn = str(ui?.arn) ?? event.seam.principal?.arn;
  if (arn === undefined) return undefined;
  const m = TASK_SESSION.exec(arn);
  if (m === null) return undefined;
  const key = str(ui?.accessKeyId);
  if (key !== undefined && !key.startsWith('ASIA')) return undefined;
  return { arn, role: m[1]!, task: m[2]! };
}

/** The alert's triage text: the task, its role and key, the call and address, the commands to look and to stop it. */
function taskTriage(event: SeamEvent, s: { role: string; task: string }, ip: string, label: string, what: string): string {
  const key = accessKeyOf(event);
  return (
    `ECS task ${s.task}'s role session (role ${s.role}${key === undefined ? '' : `, key ${key}`}) called ${what} ${callerText(event)} (${label}), outside AWS. ` +
    `Find the task and its service (aws ecs describe-tasks --cluster <cluster> --tasks ${s.task}, in each cluster of the account) and how the credentials left it: command injection or SSRF in the application, a task definition whose command fetches $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, docker exec on the host. ` +
    `List what ${ip} did with the key${key === undefined ? '' : ` (${keyLookupCommand(key, event.seam.region)})`}. ` +
    `Benign only if no task of the account has id ${s.task}: a script outside AWS that names its role sessions with 32 hex digits (rename its sessions). ` +
    `Otherwise deny ${s.role}'s older sessions (${revokeSessionsCommand(s.role)}) and replace the task.`
  );
}

export const ecsTaskCredsOutsideAws: NativeDetection<State> = {
  id: 'seam-native-ecs-task-creds-outside-aws',
  title: 'ECS task credentials used from outside AWS',
  level: 'high',
  tags: ['attack.credential-access', 'attack.t1552.005', 'attack.defense-evasion', 'attack.t1550.001', 'attack.initial-access', 'attack.t1078.004'],
  description:
    'A call signed by an ECS task-role session (session name = the 32-hex task id, ASIA key) came from a public address that the bundled ASN table places outside Amazon’s networks. Tasks call AWS from their ENI, their host, a NAT gateway or a VPC endpoint; the keys were read out of a container (169.254.170.2) and taken elsewhere.',
  triage:
    'Which task (the session name is the task id: DescribeTasks in each cluster) and which service or family it belongs to; how the credentials left (a web application with command injection or SSRF, a task definition whose command fetches $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, docker exec on the host). Revoke the task role’s sessions issued before now (aws:TokenIssueTime), replace the task, and list what the outside address did with the keys. A script that names its own role sessions with 32 hex digits and runs outside AWS looks the same: rename its sessions.',
  createState: (c: NativeConfig): State => ({ alerted: boundedLru(c.maxStateEntries) }),
  sources: ['cloudtrail'],
  evaluate(event: SeamEvent, _graph: IdentityGraph, state: State, ctx: EvalContext): Alert[] {
    const s = taskSession(event);
    const ip = event.seam.source_ip;
    if (s === undefined || ip === undefined || typeof event.vpcEndpointId === 'string') return [];
    const net = networkFor(ip, ctx.config);
    if (net === undefined || net.private || net.aws !== false) return [];
    const ua = str(event.userAgent);
    if (userAgentFamily(ua) === 'aws-service') return [];
    const key = s.arn + '|' + (addressPlace(ip)?.place ?? ip);
    if (state.alerted.has(key)) return [];
    state.alerted.set(key, true);
    const what = event.seam.action ?? str(event.eventName) ?? '';
    return [
      nativeAlert(this, {
        events: [event],
        summary: `ECS task ${s.task}'s credentials (role ${s.role}) called ${what} from ${ip} (${net.label}), outside AWS${ua === undefined ? '' : `, user agent ${ua}`}`,
        triage: taskTriage(event, s, ip, net.label, what),
        principal: ctx.resolution.principal,
        account: event.seam.account,
        cluster: ctx.resolution.cluster ?? event.seam.cluster,
      }),
    ];
  },
};
