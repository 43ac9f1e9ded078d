/**
 * The `dap train` flags, derived from the config declaration: the parseArgs options, the option lines of the
 * usage text, and the config fields a set of flag values means. Values are converted by the field's kind
 * only (numbers, comma lists); every check is the config validation's, so a bad flag gets the same message
 * as the same value in --config or the VS Code settings. `--beta -0.1` (a negative number after a space)
 * is read as the flag's value, not as another flag.
 */
import { defaultShown, walkFields, type Field } from './fields';
import { TRAIN_FIELDS } from './declaration';

/** One flag: its name, the config path it sets and the field. */
export interface FlagSpec {
  flag: string;
  path: string;
  field: Field;
}

/** Every declared flag, in declaration order. */
export const TRAIN_FLAGS: readonly FlagSpec[] = (() => {
  const out: FlagSpec[] = [];
  walkFields(TRAIN_FIELDS, (path, field) => {
    if (field.flag) out.push({ flag: field.flag, path, field });
  });
  return out;
})();

/** parseArgs options of the flags (booleans are switches, the rest take a value). */
export function flagOptions(): Record<string, { type: 'string' | 'boolean' }> {
  return Object.fromEntries(TRAIN_FLAGS.map((f) => [f.flag, { type: f.field.kind === 'boolean' ? 'boolean' : 'string' }]));
}

const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity\b)/;

/** `--beta -0.1` → `--beta=-0.1` for value flags, so parseArgs does not read "-0.1" as an option. */
export function joinNegativeValues(argv: readonly string[], valueFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && valueFlags.has(a.slice(2)) && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A flag's text as the field's value: numbers parsed (left as text when they are not numbers, for the validation to name), lists split on commas. */
export function flagValue(field: Field, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') return raw;
  switch (field.kind) {
    case 'number':
    case 'integer':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'list':
      return raw.split(',').map((t) => t.trim()).filter((t) => t !== '');
    default:
      return raw;
  }
}

/** Sets `path` ("loss.beta") in a nested object. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

/** The config fields set by parsed flag values (only flags that were given). */
export function configFromFlagValues(values: Readonly<Record<string, string | boolean | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of TRAIN_FLAGS) {
    const raw = values[f.flag];
    if (raw !== undefined) setPath(out, f.path, flagValue(f.field, raw));
  }
  return out;
}

/** `a|b|c` for enums, the declared placeholder otherwise. */
function argText(f: Field): string {
  if (f.kind === 'boolean') return '';
  if (f.kind === 'enum') return f.values.join('|');
  return f.flagArg ?? 'X';
}

/** Wraps `text` to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, indent: number, width = 110): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && indent + cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** The option lines of `dap train --help`: flag, value, help and default of every declared flag. */
export function flagUsageLines(col = 28): string {
  return TRAIN_FLAGS.map(({ flag, field }) => {
    const head = `  --${flag}${argText(field) ? ` ${argText(field)}` : ''}`;
    const d = defaultShown(field);
    const values = field.kind === 'enum' && field.valueHelp ? `; ${Object.entries(field.valueHelp).map(([k, v]) => `${k}: ${v}`).join('; ')}` : '';
    const help = `${field.help}${values}${d !== undefined && field.kind !== 'boolean' ? ` (default ${d})` : ''}`;
    return head.length + 1 > col ? `${head}\n${' '.repeat(col)}${wrap(help, col)}` : `${head.padEnd(col)}${wrap(help, col)}`;
  }).join('\n');
}
