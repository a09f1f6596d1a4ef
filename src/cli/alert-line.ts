import type { Alert } from '../detect/alert.ts';
import { alsoMatchedText } from '../detect/fold.ts';

/**
 * An alert as a person reads it on a terminal (`seam run`, and `seam replay` on a TTY): one ALERT line; under it its
 * id (what `seam hunt --alert ID` takes: the alerts index `_id`, `id` in alerts.jsonl), the rules the same event also
 * matched, and a Sigma rule's `fields:` with their values, each on a line of its own. The JSON (alerts.jsonl,
 * `--alerts-out`, `--format json`) has it all.
 */
export function alertText(a: Alert): string {
  // An early alert (ADR 0025) says so; its final version, same id, is printed again when the watermark passes it.
  // A final the graph could not enrich (ADR 0027) says why.
  const mark = a.provisional === true ? ' (provisional)' : a.unenriched !== undefined ? ` (unenriched: ${a.unenriched})` : '';
  // A GuardDuty finding alert (ADR 0046) shows the finding's level: a later version is printed again only when it rose.
  const finding = a.finding?.severity_level === undefined ? '' : ` (GuardDuty ${a.finding.severity_level}${a.finding.count === undefined ? '' : `, seen ${a.finding.count}×`})`;
  let out = `ALERT [${a.rule.level}]${mark}${finding} ${a['@timestamp']} ${a.rule.title}${a.summary ? ` — ${a.summary}` : ''}\n`;
  // The id on a line of its own, not after a summary that wraps: the analyst copies it into `seam hunt --alert`. An
  // early alert and its final (printed again, above) share it.
  out += `  alert id: ${a.id}\n`;
  // The rules the same event also matched (ADR 0050): folded into this alert, written to the JSON, not printed.
  const also = alsoMatchedText(a);
  if (also !== undefined) out += `  also matched: ${also}\n`;
  // A Sigma rule's `fields:` (what its author wants the analyst to see), with the event's values.
  if (a.fields !== undefined) out += `  fields: ${Object.entries(a.fields).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`).join(' ')}\n`;
  return out;
}
