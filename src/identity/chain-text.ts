import type { ChainStep } from '../core/envelope.ts';

/**
 * The identity chain as one short line a person can read at 3 a.m.: every identity once, in the
 * order the chain reaches it, with ARNs and service-account keys shortened, e.g.
 * `user/alice → k8s alice → pod app/web-1 → sa app/web → role/app-irsa (session)`. Repeated hops (the same
 * edge established by several events, or a loop back to an identity already named) are dropped;
 * a chain longer than `maxNodes` keeps its first and last identities around a `…(n more)`.
 */
export function shortChain(chain: readonly ChainStep[] | undefined, opts: { maxNodes?: number } = {}): string {
  const short = shortNodes(chain);
  const max = Math.max(3, opts.maxNodes ?? 6);
  if (short.length <= max) return short.join(' → ');
  const head = short.slice(0, max - 2);
  const tail = short.slice(-1);
  return [...head, `…(${short.length - head.length - tail.length} more)`, ...tail].join(' → ');
}

/**
 * The chain's identities in short form, each once: a Kubernetes user named by an IAM ARN is that
 * ARN's identity (the `authenticates_as` hop says nothing new), and a bare `role/X` is dropped when a
 * session of it (`role/X (session)`) is already named.
 */
export function shortNodes(chain: readonly ChainStep[] | undefined): string[] {
  const out: string[] = [];
  for (const n of chainNodes(chain)) {
    const s = shortIdentity(n);
    if (!out.includes(s)) out.push(s);
  }
  return out.filter((s) => !(/^role\/[^ ]+$/.test(s) && out.some((o) => o.startsWith(`${s} (`))));
}
/** The distinct identities of a chain, in the order the chain first reaches them. */
export function chainNodes(chain: readonly ChainStep[] | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const s of chain ?? []) {
    for (const n of [s.from, s.to]) {
      if (n === '' || seen.has(n)) continue;
      seen.add(n);
      out.push(n);
    }
  }
  return out;
}

/** An identity key in its short form: the part of an ARN after the account, `sa ns/name`, `k8s user`. */
export function shortIdentity(id: string): string {
  const arn = /^arn:aws[a-z-]*:(iam|sts)::\d*:(.+)$/.exec(id);
  if (arn) {
    const rest = arn[2]!;
    const assumed = /^assumed-role\/([^/]+)\/(.+)$/.exec(rest);
    if (!assumed) return rest;
    // An access entry or aws-auth mapping names every session of the role: `{{SessionName}}`.
    return /^\{\{.*\}\}$/.test(assumed[2]!) ? `role/${assumed[1]!}` : `role/${assumed[1]!} (${assumed[2]!})`;
  }
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(id);
  if (sa) return `sa ${sa[1]!}/${sa[2]!}`;
  const k8s = /^k8s:[^:]*:(user|group|sa|pod|node):(.+)$/.exec(id);
  // A Kubernetes user named by an IAM ARN is that IAM identity, authenticated.
  if (k8s?.[1] === 'user' && k8s[2]!.startsWith('arn:')) return shortIdentity(k8s[2]!);
  if (k8s) return `${k8s[1] === 'user' ? 'k8s' : k8s[1]!} ${k8s[2]!}`;
  const key = /^akid:(.+)$/.exec(id);
  if (key) return `key ${key[1]!}`;
  return id;
}
