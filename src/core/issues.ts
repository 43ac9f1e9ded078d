/**
 * Helpers for DataIssue: building issues and printing them as `file:line: field: problem`.
 */
import type { DataIssue } from './types';

/** Builds an error issue. */
export function issueError(file: string, line: number, field: string, message: string): DataIssue {
  return { file, line, field, message, severity: 'error' };
}

/** Builds a warning issue. */
export function issueWarning(file: string, line: number, field: string, message: string): DataIssue {
  return { file, line, field, message, severity: 'warning' };
}

/** `file:line: field: problem`, or `file:row N: field: problem` for rows (warnings get a `warning: ` prefix on the problem). */
export function formatIssue(issue: DataIssue): string {
  const prefix = issue.severity === 'warning' ? 'warning: ' : '';
  return `${issue.file}:${issue.unit === 'row' ? 'row ' : ''}${issue.line}: ${issue.field}: ${prefix}${issue.message}`;
}

/** Throws one error listing the errors among `issues` (the first `shown`), when there are any. */
export function throwOnErrors(issues: readonly DataIssue[], shown = 10): void {
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new Error(`${errors.length} error(s) in the data:\n${errors.slice(0, shown).map(formatIssue).join('\n')}`);
}

/** Number of issues with severity 'error'. */
export function countErrors(issues: readonly DataIssue[]): number {
  return issues.filter((i) => i.severity === 'error').length;
}

/** Describes a JSON value's type for messages ("got number"). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
