/**
 * The vocabulary of the training-config declaration (declaration.ts): a field is declared once with its
 * kind, help, default, limits and CLI flag, and everything else — the TypeScript types (`InputOf`,
 * `ResolvedOf`), validation, defaults, `dap train` flags and usage, the VS Code settings JSON schema and the
 * Train… quick-pick choices — is derived from these values. No dependency: validation and the JSON schema
 * are small enough by hand, and the per-method limits come from the loss registry.
 */

/** Bounds of a number field; `why` is appended to the error of a value outside them. */
export interface Limits {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  why?: string;
}

/** What the default of a field is computed from: the raw (validated) top-level input. */
export interface DefaultContext {
  input: Readonly<Record<string, unknown>>;
}

interface FieldCommon {
  /** One sentence or two, shown in `dap train --help`, the settings schema and the quick pick. */
  help: string;
  /** CLI flag without the dashes; absent = settable only in --config / the overrides setting. */
  flag?: string;
  /** Placeholder of the flag's value in the usage text (N, B, DIR). */
  flagArg?: string;
  /** Shown as the default when it is computed (e.g. "5e-7 for a model folder, 1e-4 built-in"). */
  defaultText?: string;
  /** Not part of `dapStudio.train.overrides` (set by the host itself, e.g. data, out, runId). */
  hostOnly?: boolean;
  /** Must be present in the input. */
  required?: boolean;
  /** A further check of a value of the right type: an error text ("expected …, got …"), or undefined. */
  check?: (value: never) => string | undefined;
}

/**
 * One declared field. T: its input type; R: its resolved type; Req: required in the input; Def: always
 * present in the resolved config (it has a default).
 */
export type Field<T = unknown, R = T, Req extends boolean = boolean, Def extends boolean = boolean> = FieldCommon &
  FieldShape & { readonly __types?: { input: T; resolved: R; required: Req; present: Def } };

export type FieldShape =
  | { kind: 'string'; default?: string | ((c: DefaultContext) => string | undefined); nonEmpty?: boolean; example?: string }
  | { kind: 'number'; default?: number | ((c: DefaultContext) => number | undefined); limits?: Limits }
  | { kind: 'integer'; default?: number | ((c: DefaultContext) => number | undefined); limits?: Limits }
  | { kind: 'boolean'; default?: boolean }
  | { kind: 'enum'; values: readonly string[]; valueHelp?: Readonly<Record<string, string>>; default?: string }
  | { kind: 'list'; default?: readonly string[]; example?: string }
  | { kind: 'object'; fields: Fields; example?: string;
      /** Always in the resolved config (its sub-fields' defaults filled in), even when the input omits it. */
      present: boolean };

export type Fields = Readonly<Record<string, Field>>;

type Opts<S> = FieldCommon & Omit<S, 'kind'>;
type Shape<K extends FieldShape['kind']> = Extract<FieldShape, { kind: K }>;
type HasDefault<O> = O extends { default: unknown } ? (undefined extends O['default'] ? false : true) : false;
type IsRequired<O> = O extends { required: true } ? true : false;

export const str = <O extends Opts<Shape<'string'>>>(o: O) => ({ kind: 'string', ...o }) as Field<string, string, IsRequired<O>, HasDefault<O>>;
export const num = <O extends Opts<Shape<'number'>>>(o: O) => ({ kind: 'number', ...o }) as Field<number, number, IsRequired<O>, HasDefault<O>>;
export const int = <O extends Opts<Shape<'integer'>>>(o: O) => ({ kind: 'integer', ...o }) as Field<number, number, IsRequired<O>, HasDefault<O>>;
export const bool = <O extends Opts<Shape<'boolean'>>>(o: O) => ({ kind: 'boolean', ...o }) as Field<boolean, boolean, IsRequired<O>, HasDefault<O>>;
export const list = <O extends Opts<Shape<'list'>>>(o: O) => ({ kind: 'list', ...o }) as Field<string[], string[], IsRequired<O>, HasDefault<O>>;
export const oneOf = <const V extends readonly string[], O extends Opts<Omit<Shape<'enum'>, 'values' | 'default'>> & { default?: V[number] }>(values: V, o: O) =>
  ({ kind: 'enum', values, ...o }) as Field<V[number], V[number], IsRequired<O>, HasDefault<O>>;
/** A nested object; `Present` says whether the resolved config always has it. */
export const obj = <F extends Fields, P extends boolean, O extends Opts<Omit<Shape<'object'>, 'fields' | 'present'>>>(fields: F, present: P, o: O) =>
  ({ kind: 'object', fields, present, ...o }) as Field<InputOf<F>, ResolvedOf<F>, IsRequired<O>, P>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Types<F> = F extends { readonly __types?: infer X } ? NonNullable<X> : never;
type InputT<F> = Types<F> extends { input: infer T } ? T : never;
type ResolvedT<F> = Types<F> extends { resolved: infer R } ? R : never;
type Req<F> = Types<F> extends { required: true } ? true : false;
type Present<F> = Types<F> extends { present: true } ? true : false;

/** What a caller may set: required fields, then optional ones. */
export type InputOf<D extends Fields> = Simplify<
  { -readonly [K in keyof D as Req<D[K]> extends true ? K : never]: InputT<D[K]> } &
  { -readonly [K in keyof D as Req<D[K]> extends true ? never : K]?: InputT<D[K]> }>;

/** The config after defaults: fields with a default are always present. */
export type ResolvedOf<D extends Fields> = Simplify<
  { -readonly [K in keyof D as Present<D[K]> extends true ? K : Req<D[K]> extends true ? K : never]: ResolvedT<D[K]> } &
  { -readonly [K in keyof D as Present<D[K]> extends true ? never : Req<D[K]> extends true ? never : K]?: ResolvedT<D[K]> }>;

/** Visits every field, nested ones with their dotted path. */
export function walkFields(fields: Fields, visit: (path: string, f: Field) => void, prefix = ''): void {
  for (const [name, f] of Object.entries(fields)) {
    const path = prefix ? `${prefix}.${name}` : name;
    visit(path, f);
    if (f.kind === 'object') walkFields(f.fields, visit, path);
  }
}

/** The field at a dotted path (e.g. "loss.beta"), or undefined. */
export function fieldAt(fields: Fields, path: string): Field | undefined {
  const [head, ...rest] = path.split('.');
  const f = fields[head];
  if (!f || rest.length === 0) return f;
  return f.kind === 'object' ? fieldAt(f.fields, rest.join('.')) : undefined;
}

/** "a positive integer", "a number in [0, 0.5)", "a number > 0", … */
export function describeLimits(kind: 'number' | 'integer', l: Limits = {}): string {
  const noun = kind === 'integer' ? 'integer' : 'number';
  const { min, max } = l;
  if (min !== undefined && max !== undefined) return `a ${noun} in ${l.minExclusive ? '(' : '['}${min}, ${max}${l.maxExclusive ? ')' : ']'}`;
  if (min !== undefined) {
    if (min === 0 && l.minExclusive) return `a positive ${noun}`;
    if (kind === 'integer' && min === 1 && !l.minExclusive) return 'a positive integer';
    return `a${noun === 'integer' ? 'n' : ''} ${noun} ${l.minExclusive ? '>' : '≥'} ${min}`;
  }
  if (max !== undefined) return `a${noun === 'integer' ? 'n' : ''} ${noun} ${l.maxExclusive ? '<' : '≤'} ${max}`;
  return kind === 'integer' ? 'an integer' : 'a number';
}

/** Whether `v` lies within `l`. */
export function withinLimits(v: number, l: Limits = {}): boolean {
  if (l.min !== undefined && (l.minExclusive ? !(v > l.min) : !(v >= l.min))) return false;
  if (l.max !== undefined && (l.maxExclusive ? !(v < l.max) : !(v <= l.max))) return false;
  return true;
}

/** The default shown to a user: the declared text, the static value, or undefined. */
export function defaultShown(f: Field): string | undefined {
  if (f.defaultText) return f.defaultText;
  const d = (f as { default?: unknown }).default;
  if (d === undefined || typeof d === 'function') return undefined;
  return typeof d === 'string' ? d : JSON.stringify(d);
}
