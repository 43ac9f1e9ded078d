/**
 * The contract of a `dap` CLI command, and the small argument helpers commands share.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isAnnotationLogPath, taskFileOfLog } from '../core/project';
import { DEFAULT_IDS_IN_MEMORY } from '../core/taskScan';
import { BACKENDS } from '../train/config/declaration';

/** One `dap` command: src/cli/commands/NAME.ts exports it as `command`. */
export interface Command {
  /** What the user types after `dap`. */
  name: string;
  /** One line for `dap --help`. */
  summary: string;
  /** Full help text for `dap NAME --help` (starts with the usage line). */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command-line arguments; main prints the message and the usage and exits 2. */
export class UsageError extends Error {}

/** node:util parseArgs with strict checking; converts its errors into UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * The `--backend` values: the training config's (train/config/declaration.ts BACKENDS, kept equal to
 * engine/backend.ts's BACKEND_PREFERENCES by a unit test), so a command can reject a bad flag as a usage
 * error without loading tfjs.
 */
export const BACKEND_FLAG_VALUES = BACKENDS;

/** Checks a `--backend` value (case-insensitive, as the engine reads it); undefined passes through. */
export function backendFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !(BACKEND_FLAG_VALUES as readonly string[]).includes(value.trim().toLowerCase())) {
    throw new UsageError(`--backend: expected one of ${BACKEND_FLAG_VALUES.join(', ')}, got "${value}"`);
  }
  return value;
}

/** A numeric flag (finite; an integer when `integer`); undefined when the flag is absent. */
export function numberFlag(flag: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag}: expected ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

/** An integer flag such as `--seed` (any sign); undefined gives `fallback`. */
export function integerFlag(flag: string, value: string | undefined, fallback: number): number {
  return numberFlag(flag, value, true) ?? fallback;
}

/**
 * Refuses an annotation log (`*.annotations.jsonl`, never a task file: core/project.ts) where a task file is
 * expected, naming the task file that belongs to it; otherwise every log line would be reported as an
 * unrecognised task.
 */
export function taskFileArgument(path: string): string {
  if (isAnnotationLogPath(path)) throw new UsageError(`${path} is an annotation log; give its task file (${taskFileOfLog(path)})`);
  return path;
}

/**
 * Task-file ids `dap validate` and `dap stats` check in memory before they spill: DAP_DATA_IDS_IN_MEMORY
 * when set (tests force spilling with it), else core/taskScan.ts's default.
 */
export function idsInMemory(): number {
  return Number(process.env.DAP_DATA_IDS_IN_MEMORY) || DEFAULT_IDS_IN_MEMORY;
}
