/**
 * A rule's triage text: what an analyst checks first when it fires (SOC review M4). Sigma rules write it as the
 * `Triage:` paragraph of their `description`; native detections carry it as `triage`. The text an alert carries
 * (`Alert.triage`) is for the analyst only: notes that tell a rule maintainer how to tune the rule (a
 * `%seam_...%` placeholder to extend, "tune them out in ...") stay in the rule's description and are cut here.
 * Extracted once, when a rule is loaded, never per alert.
 */

/** A placeholder a site fills with its own values (`%seam_privileged_images%`): tuning, not triage. */
const PLACEHOLDER_RE = /%[a-z][a-z0-9_]*%/i;

/** A sentence or clause that speaks to whoever tunes the rule rather than to the analyst. */
const TUNING_RE = new RegExp(
  [
    PLACEHOLDER_RE.source,
    String.raw`\bthe placeholder\b`,
    String.raw`\btune (?:\w+ ){0,3}out\b`,
    String.raw`\badd (?:your own|(?:legitimate|trusted|expected|other approved) \w+) (?:with|to)\b`,
  ].join('|'),
  'i',
);

/** Parenthesised asides that only name a placeholder: "(extend with %seam_x%)", "(and %seam_x%)". */
const TUNING_ASIDE_RE = /\s*\([^()]*%[a-z][a-z0-9_]*%[^()]*\)/gi;

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * The analyst's part of a triage text: tuning clauses (split at `;`) and sentences cut, whitespace folded to
 * single spaces. Undefined when nothing is left.
 */
export function analystTriage(text: string): string | undefined {
  const sentences = oneLine(text.replace(TUNING_ASIDE_RE, '')).split(/(?<=[.!?])\s+(?=[A-Z(])/);
  const kept: string[] = [];
  for (const sentence of sentences) {
    if (!TUNING_RE.test(sentence)) {
      kept.push(sentence);
      continue;
    }
    const clauses = sentence.split(/;\s+/).filter((c) => !TUNING_RE.test(c));
    if (clauses.length === 0) continue;
    let s = clauses.join('; ');
    if (!/[.!?]$/.test(s)) s = s.replace(/[,:;\s]+$/, '') + '.';
    kept.push(s);
  }
  const out = kept.join(' ').trim();
  return out === '' ? undefined : out;
}

/** A Sigma description split at its `Triage:` paragraph: the description before it, and the analyst's triage text. */
export interface DescriptionParts {
  /** The description without its triage paragraph, on one line. */
  description: string;
  /** The `Triage:` paragraph for the analyst (tuning notes cut), when the description has one. */
  triage?: string;
}

/** Splits a rule's description at its `Triage:` paragraph (see analystTriage for what is cut). */
export function splitDescription(description: string): DescriptionParts {
  const at = description.search(/\bTriage:\s*/);
  if (at < 0) return { description: oneLine(description) };
  const head = oneLine(description.slice(0, at));
  const triage = analystTriage(description.slice(at).replace(/^Triage:\s*/, ''));
  return triage === undefined ? { description: head } : { description: head, triage };
}

/** The analyst's triage text of a rule description, if it has a `Triage:` paragraph. */
export function triageOf(description: string | undefined): string | undefined {
  return description === undefined ? undefined : splitDescription(description).triage;
}
