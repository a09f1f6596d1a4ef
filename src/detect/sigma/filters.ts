/**
 * Sigma meta-filters: a `filter:` document names rules (by id or name, or `any` for every rule its logsource
 * covers) and ANDs its condition, as written, to each: the rule becomes `rule and (<filter condition>)`, as in
 * the Sigma filter spec and pySigma (SigmaFilter.apply_on_rule). An exclusion is written `condition: not
 * selection`. Tuning a rule you do not own then lives in one place.
 */
import type { Diagnostic, Logsource } from './types.ts';
import type { Pos } from './read.ts';
import type { Pred } from './compile.ts';
import type { InternalRule } from './rule-index.ts';
import { logsourceCovers } from './logsource.ts';
import { warn } from './diagnostics.ts';
import { didYouMean } from './spelling.ts';
import { mergeReads, type RuleReads } from './reads.ts';

export interface CompiledFilter {
  title: string;
  id?: string;
  file: string;
  pos: Pos;
  logsource: Logsource;
  targets: { ref: string; pos: Pos }[];
  /** `rules: any` (or `all`): every rule whose logsource the filter's covers. */
  allRules?: boolean;
  pred: Pred;
  /** What the filter's detection reads (ADR 0025); undefined when not known. */
  reads?: RuleReads;
}

/** Attaches filters to their rules; unknown targets and logsource mismatches are warnings. */
export function applyFilters(
  rules: InternalRule[],
  filters: CompiledFilter[],
  diags: Diagnostic[],
  correlationRefs: ReadonlySet<string> = new Set(),
  notLoaded: ReadonlyMap<string, string> = new Map(),
): void {
  const byRef = new Map<string, InternalRule>();
  for (const r of rules) {
    byRef.set(r.id, r);
    if (r.name !== undefined) byRef.set(r.name, r);
  }
  for (const f of filters) {
    const ref = f.id ?? f.title;
    const narrow = (rule: InternalRule): void => {
      const base = rule.pred;
      const fp = f.pred;
      rule.pred = (c) => base(c) && fp(c);
      // What the rule reads now includes what the filter reads; unknown when either is.
      if (rule.reads !== undefined) {
        if (f.reads === undefined) delete rule.reads;
        else rule.reads = mergeReads(rule.reads, f.reads);
      }
      (rule.filteredBy ??= []).push(f.file);
    };
    if (f.allRules === true) {
      const hit = rules.filter((r) => logsourceCovers(f.logsource, r.logsource));
      for (const r of hit) narrow(r);
      diags.push(warn('SEAM_ERR_RULE_SUPPRESSED', f.file, f.pos, `filter (rules: any) narrows ${hit.length} rule${hit.length === 1 ? '' : 's'}, every one its logsource covers: only events its condition matches raise alerts`, ref));
      continue;
    }
    for (const t of f.targets) {
      const rule = byRef.get(t.ref);
      if (!rule) {
        const why = notLoaded.get(t.ref);
        // A rule named by its file name (SigmaHQ's rules have no name): say what to write instead.
        const byFile = rules.find((r) => r.file.replace(/^.*\//, '').replace(/\.ya?ml$/i, '') === t.ref);
        const msg = correlationRefs.has(t.ref)
          ? `filter refers to correlation '${t.ref}': filters target Sigma rules only; name the rules the correlation refers to, or tune them`
          : why !== undefined
            ? `filter refers to rule '${t.ref}', which did not load: ${why}`
            : byFile !== undefined
              ? `filter refers to rule '${t.ref}', which is not loaded: it is the file name of ${byFile.file}, and Sigma refers to a rule by its id or name, not its file; write ${byFile.name === undefined ? `its id '${byFile.id}' (the rule has no name)` : `its name '${byFile.name}'`}`
              : `filter refers to rule '${t.ref}', which is not loaded${didYouMean(t.ref, [...byRef.keys()])}`;
        diags.push(warn('SEAM_ERR_RULE_REFERENCE', f.file, t.pos, msg, ref));
        continue;
      }
      if (!logsourceCovers(f.logsource, rule.logsource)) {
        diags.push(warn('SEAM_ERR_RULE_REFERENCE', f.file, t.pos, `filter logsource does not cover rule '${t.ref}' (${rule.file}); filter not applied`, ref));
        continue;
      }
      narrow(rule);
      // Said at every load: a filter dropped into the rules folder narrows a rule, and lint shows where.
      diags.push(warn('SEAM_ERR_RULE_SUPPRESSED', f.file, t.pos, `filter narrows rule '${t.ref}' (${rule.file}:${rule.line}): only events its condition matches raise alerts`, ref));
    }
  }
}
