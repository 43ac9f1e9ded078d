/**
 * Validation and defaults of the training config, derived from the declaration: types, ranges, enums and
 * unknown keys of every field (nested ones too), then the method's own limits from the loss registry and the
 * checks across fields. Every problem is reported at once, naming the field (and its CLI flag), with the same
 * text whether the value came from a flag, --config, the VS Code settings or the Train… flow. Runs before
 * anything is created: a bad config never gets a run folder.
 */
import { lossOfMethod, methodSpec, type MethodName } from '../losses/methods';
import { describeLimits, withinLimits, type DefaultContext, type Field, type Fields, type Limits } from './fields';

/** A training config that cannot run; `problems` lists each one ("FIELD: expected …, got …"). */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.map((p) => `config: ${p}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const shown = (v: unknown) => (v === undefined ? 'undefined' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v));
const flagNote = (f: Field) => (f.flag ? ` (--${f.flag})` : '');

/** A problem: what was expected and got, and why the limit exists (when it says so). */
interface Problem {
  text: string;
  why?: string;
}

/** The problem with one value of field `f` as "expected …, got …", or undefined. */
export function checkValue(f: Field, v: unknown, limits?: Limits): string | undefined {
  const p = problemOf(f, v, limits);
  return p && p.text + (p.why ? `: ${p.why}` : '');
}

/** "FIELD: expected …, got … (--flag): why". */
const line = (path: string, f: Field, p: Problem) => `${path}: ${p.text}${flagNote(f)}${p.why ? `: ${p.why}` : ''}`;

function problemOf(f: Field, v: unknown, limits?: Limits): Problem | undefined {
  const text = valueProblem(f, v, limits);
  if (!text) return undefined;
  const l = limits ?? (f.kind === 'number' || f.kind === 'integer' ? f.limits : undefined);
  return { text, ...(typeof v === 'number' && Number.isFinite(v) && l?.why ? { why: l.why } : {}) };
}

function valueProblem(f: Field, v: unknown, limits: Limits | undefined): string | undefined {
  switch (f.kind) {
    case 'string':
      if (typeof v !== 'string') return `expected a string, got ${shown(v)}`;
      if (f.nonEmpty && v.trim() === '') return 'expected a non-empty string';
      break;
    case 'number':
    case 'integer': {
      const l = limits ?? f.limits;
      const ok = typeof v === 'number' && Number.isFinite(v) && (f.kind === 'number' || Number.isInteger(v)) && withinLimits(v, l);
      if (!ok) return `expected ${describeLimits(f.kind, l)}, got ${shown(v)}`;
      break;
    }
    case 'boolean':
      if (typeof v !== 'boolean') return `expected true or false, got ${shown(v)}`;
      break;
    case 'enum':
      if (typeof v !== 'string' || !f.values.includes(v)) return `expected one of ${f.values.join(', ')}, got ${shown(v)}`;
      break;
    case 'list':
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.trim() !== '')) {
        return `expected a non-empty list of names like ${f.example ?? '["a", "b"]'}, got ${shown(v)}`;
      }
      break;
    case 'object':
      if (!v || typeof v !== 'object' || Array.isArray(v)) return `expected an object like ${f.example ?? '{}'}, got ${shown(v)}`;
      break;
    default:
      return assertUnreachableField(f);
  }
  return f.check ? f.check(v as never) : undefined;
}

function assertUnreachableField(f: never): never {
  throw new Error(`unknown field kind: ${JSON.stringify(f)}`);
}

/** Limits that replace a field's own at a path (the method's, for loss fields), with a note for the message ("for robust"). */
export type LimitsAt = (path: string) => { limits: Limits; note: string } | undefined;

/** Problems of an object against `fields`: unknown keys, missing required fields, bad values, nested too. */
export function checkFields(fields: Fields, value: Record<string, unknown>, prefix = '', limitsAt?: LimitsAt): string[] {
  const problems: string[] = [];
  const name = (k: string) => (prefix ? `${prefix}.${k}` : k);
  for (const k of Object.keys(value)) {
    if (!(k in fields)) problems.push(`${name(k)}: unknown field (expected ${Object.keys(fields).join(', ')})`);
  }
  for (const [k, f] of Object.entries(fields)) {
    const v = value[k];
    if (v === undefined || v === null) {
      if (f.required) problems.push(line(name(k), f, problemOf(f, undefined) ?? { text: 'required' }));
      continue;
    }
    const special = limitsAt?.(name(k));
    const problem = problemOf(f, v, special?.limits);
    if (problem) problems.push(line(name(k), f, special ? { ...problem, text: problem.text.replace(/, got/, ` ${special.note}, got`) } : problem));
    else if (f.kind === 'object') problems.push(...checkFields(f.fields, v as Record<string, unknown>, name(k), limitsAt));
  }
  return problems;
}

/** Fills the defaults of `fields` into a checked value (absent optional objects stay absent). */
export function fillDefaults(fields: Fields, value: Record<string, unknown>, ctx: DefaultContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(fields)) {
    const v = value[k] ?? undefined;
    if (f.kind === 'object') {
      if (v !== undefined || f.present) out[k] = fillDefaults(f.fields, (v ?? {}) as Record<string, unknown>, ctx);
      continue;
    }
    const d = (f as { default?: unknown }).default;
    const filled = v !== undefined ? (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x.trim() : x)) : v) : typeof d === 'function' ? d(ctx) : Array.isArray(d) ? [...d] : d;
    if (filled !== undefined) out[k] = filled;
  }
  return out;
}

/** The limits a method puts on the loss fields it reads, where narrower than the fields' own (e.g. robust: ε < 0.5). */
export function methodLimits(method: MethodName): LimitsAt {
  const spec = methodSpec(lossOfMethod(method));
  return (path) => {
    const m = /^loss\.(\w+)$/.exec(path);
    const limits = m && spec.uses.includes(m[1] as never) ? spec.limits?.[m[1] as keyof typeof spec.limits] : undefined;
    return limits ? { limits, note: `for ${method}` } : undefined;
  };
}
