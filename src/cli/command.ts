/**
 * The contract of a `dap` CLI command, and the small argument helpers commands share.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

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
