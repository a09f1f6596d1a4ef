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

/** `file:line:col: CODE message` — the format editors and CI annotators understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const sev = d.severity === 'warning' ? ' (warning)' : '';
  return `${d.file}:${d.line}:${d.column}: ${d.code}${sev} ${d.message}`;
}
