/**
 * `dap`: the DAP Studio command line. A tiny dispatcher (no dependency) over the commands re-exported by
 * src/cli/commands/index.ts. `dap --help` lists them, `dap CMD --help` prints a command's usage, an
 * unknown command prints the help and exits 2.
 */
import * as registry from './commands/index';
import { UsageError, type Command } from './command';

declare const __DAP_VERSION__: string | undefined;

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return !!c && typeof c === 'object' && typeof c.name === 'string' && typeof c.run === 'function' && typeof c.usage === 'string';
}

/** Every registered command, sorted by name. */
export function listCommands(): Command[] {
  return Object.values(registry as Record<string, unknown>)
    .filter(isCommand)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The top-level help text. */
export function helpText(commands: Command[] = listCommands()): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: dap COMMAND [ARGS...]\n\nDAP Studio: preference annotation data and Direct Alignment from Preferences training.\n\nCommands:\n${lines.join('\n')}\n\nRun "dap COMMAND --help" for a command's options.\n`;
}

/** Runs the CLI with `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const commands = listCommands();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(target ? `${target.usage}\n` : helpText(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${typeof __DAP_VERSION__ === 'string' ? __DAP_VERSION__ : 'dev'}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`dap: unknown command "${name}"\n\n${helpText(commands)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dap ${command.name}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`dap ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * `dap export … | head`: once the reader closes the pipe, writes fail with EPIPE, which Node raises as an
 * uncaught error (a stack trace). Output nobody reads is dropped instead and the command finishes normally
 * (a training run still writes its checkpoints).
 */
export function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

// Run when executed directly (the dist/cli.js bundle, or `node --import tsx src/cli/main.ts`).
const isEntry = typeof require !== 'undefined' ? require.main === module : process.argv[1]?.replace(/\\/g, '/').endsWith('src/cli/main.ts');
if (isEntry) {
  ignoreClosedPipes();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`dap: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
