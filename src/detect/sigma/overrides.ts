/**
 * Site rule overrides (seam.yml `rules.overrides`, docs/writing-rules.md "Tuning a rule you do not own"): disable a
 * pack rule or correlation, change its level, or change a correlation's threshold, without editing the file the
 * next pack update overwrites. Applied once per load, in the loader (every command that loads rules: replay, run,
 * the roles on Kafka, hunt, dlq replay, rules lint, coverage); each one applied is said in one line, and one that
 * names nothing loaded (or sets a threshold on a Sigma rule) is a SEAM_ERR_RULE_REFERENCE warning, as a filter's is.
 */
import { warn } from './diagnostics.ts';
import type { CorrelationDoc, Diagnostic, RuleOverride } from './types.ts';

/** Where override diagnostics point: the setting, not a rule file. */
export const OVERRIDES_SOURCE = 'seam.yml rules.overrides';

const COMPARISONS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

interface Named {
  id?: string | undefined;
  name?: string | undefined;
}
interface OverridableRule extends Named {
  level?: string;
}

const refs = (x: Named): string[] => [x.id, x.name].filter((v): v is string => v !== undefined);
const label = (x: Named & { title?: string }): string => x.name ?? x.id ?? x.title ?? '?';
const conditionText = (c: Record<string, unknown>): string =>
  COMPARISONS.filter((k) => c[k] !== undefined)
    .map((k) => `${k} ${String(c[k])}`)
    .join(', ') || 'none';

/**
 * Applies `overrides` to the loaded rules and correlations (in place: disabled ones are removed from the arrays;
 * a correlation's level and condition are changed on a copy of its document). A correlation that uses a disabled
 * rule or correlation is removed too (it could never fire as written), and its override line says so. Returns one
 * line per override applied, in the order given; problems go to `diags`.
 */
export function applyOverrides<R extends OverridableRule, C extends CorrelationDoc>(rules: R[], correlations: C[], overrides: readonly RuleOverride[], diags: Diagnostic[]): string[] {
  const lines: string[] = [];
  const disabledRefs = new Set<string>();
  const find = <T extends Named>(xs: T[], ref: string): T | undefined => xs.find((x) => x.id === ref || x.name === ref);
  overrides.forEach((o, i) => {
    const at = `${OVERRIDES_SOURCE}[${i}]`;
    const refWarn = (message: string): void => {
      diags.push({ ...warn('SEAM_ERR_RULE_REFERENCE', at, { line: 0, column: 0 }, message), ref: o.rule });
    };
    const rule = find(rules, o.rule);
    const corr = rule === undefined ? find(correlations, o.rule) : undefined;
    if (rule === undefined && corr === undefined) {
      refWarn(`override refers to rule '${o.rule}', which is not loaded: it changes nothing`);
      return;
    }
    if (o.disabled === true) {
      if (rule !== undefined) rules.splice(rules.indexOf(rule), 1);
      else correlations.splice(correlations.indexOf(corr!), 1);
      for (const r of refs(rule ?? corr!)) disabledRefs.add(r);
      const also = dropDependents(correlations, disabledRefs);
      lines.push(`override: ${rule ? 'rule' : 'correlation'} '${o.rule}' disabled${also.length ? ` (and the correlations that use it: ${also.join(', ')})` : ''}`);
      return;
    }
    const changes: string[] = [];
    if (rule !== undefined) {
      if (o.condition !== undefined) refWarn(`override sets a condition on '${o.rule}', a Sigma rule: only a correlation has a threshold; condition ignored`);
      if (o.level !== undefined) {
        changes.push(`level ${rule.level ?? 'medium'} -> ${o.level}`);
        rule.level = o.level;
      }
    } else {
      const doc = { ...(corr!.doc as Record<string, unknown>) };
      if (o.level !== undefined) {
        changes.push(`level ${typeof doc.level === 'string' ? doc.level : 'medium'} -> ${o.level}`);
        doc.level = o.level;
      }
      if (o.condition !== undefined) {
        const body = { ...((doc.correlation ?? {}) as Record<string, unknown>) };
        const before = typeof body.condition === 'object' && body.condition !== null ? (body.condition as Record<string, unknown>) : {};
        // The comparisons are replaced together (gte 5 -> gte 10, not gte 5 and gte 10); condition.field is kept.
        const next: Record<string, unknown> = before.field === undefined ? {} : { field: before.field };
        for (const k of COMPARISONS) if (o.condition[k] !== undefined) next[k] = o.condition[k];
        changes.push(`condition ${conditionText(before)} -> ${conditionText(next)}`);
        body.condition = next;
        doc.correlation = body;
      }
      corr!.doc = doc;
    }
    if (changes.length > 0) lines.push(`override: ${rule ? 'rule' : 'correlation'} '${o.rule}' ${changes.join('; ')}`);
  });
  return lines;
}

/** Removes, until none is left, the correlations that name a disabled rule or correlation; returns their names. */
function dropDependents<C extends CorrelationDoc>(correlations: C[], disabled: Set<string>): string[] {
  const dropped: string[] = [];
  for (let again = true; again; ) {
    again = false;
    for (const c of [...correlations]) {
      const body = (c.doc as { correlation?: { rules?: unknown } } | null)?.correlation;
      const used = Array.isArray(body?.rules) ? body.rules.filter((x): x is string => typeof x === 'string') : [];
      if (!used.some((r) => disabled.has(r))) continue;
      correlations.splice(correlations.indexOf(c), 1);
      for (const r of refs(c)) disabled.add(r);
      dropped.push(label(c));
      again = true;
    }
  }
  return dropped;
}
