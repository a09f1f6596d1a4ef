/**
 * ATT&CK tactic tags in the one form the Sigma tags appendix (v2.1, "Namespace: attack") and SigmaHQ's
 * current rules write them: `attack.` + the tactic's name in lower case with hyphens
 * (`attack.privilege-escalation`, never `attack.privilege_escalation`). Alerts carry their rule's tags, and
 * the ATT&CK dashboard counts alerts per tag, so two spellings of one tactic would show it twice.
 */

/** The enterprise tactics (TA0001-TA0043) plus the two ATT&CK v18 split Defense Evasion into, as SigmaHQ tags them. */
export const ATTACK_TACTICS: readonly string[] = [
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'stealth',
  'defense-impairment',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
];

const TACTICS = new Set(ATTACK_TACTICS);
/** attack.t1234(.001), g1234, s1234, ds1234, m1234, a1234: identifiers, not tactics. */
const ATTACK_ID = /^attack\.(t|g|s|ds|m|a)\d{4}(\.\d{3})?$/i;

export interface TacticTagProblem {
  /** The canonical tag when the tag is another spelling of a known tactic. */
  canonical?: string;
  message: string;
}

/**
 * Undefined when `tag` is not in the attack namespace, is a technique/group/software... id, or is a tactic
 * written canonically; otherwise what is wrong with it.
 */
export function tacticTagProblem(tag: string): TacticTagProblem | undefined {
  if (!/^attack\./i.test(tag) || ATTACK_ID.test(tag)) return undefined;
  const name = tag.slice('attack.'.length);
  if (TACTICS.has(name)) return undefined;
  const normal = name.toLowerCase().replace(/[\s_]+/g, '-');
  if (TACTICS.has(normal)) {
    const canonical = `attack.${normal}`;
    return { canonical, message: `ATT&CK tactic tag '${tag}' is not in the canonical form: write '${canonical}' (Sigma tags appendix)` };
  }
  return { message: `'${tag}' is neither an ATT&CK tactic (${ATTACK_TACTICS.join(', ')}) nor a technique, group or software id` };
}

