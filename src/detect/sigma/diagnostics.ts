/** Building and printing rule-loading diagnostics. */
import type { ErrorCode } from '../../core/errors.ts';
import type { Diagnostic } from './types.ts';

export function diag(
  code: ErrorCode,
  file: string,
  pos: { line: number; column: number },
  message: string,
  extra: { severity?: 'error' | 'warning'; rule?: string } = {},
): Diagnostic {
  const d: Diagnostic = { code, severity: extra.severity ?? 'error', file, line: pos.line, column: pos.column, message };
  if (extra.rule !== undefined) d.rule = extra.rule;
  return d;
}

export function warn(code: ErrorCode, file: string, pos: { line: number; column: number }, message: string, rule?: string): Diagnostic {
  return diag(code, file, pos, message, rule === undefined ? { severity: 'warning' } : { severity: 'warning', rule });
}

/**
 * `file:line:col: CODE message` — the format editors and CI annotators understand. A problem of a whole path (a
 * folder with no rules, a file that cannot be read, a seam.yml override) has no place in a text (line 0): it is
 * `path: CODE message`, with no made-up `:0:0`.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const sev = d.severity === 'warning' ? ' (warning)' : '';
  return `${placeOf(d)}: ${d.code}${sev} ${d.message}`;
}

/** `file:line:col`, or the file alone when the problem has no line (a whole file or folder). */
export function placeOf(d: Pick<Diagnostic, 'file' | 'line' | 'column'>): string {
  return d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
}
