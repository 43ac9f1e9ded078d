/**
 * The training events' JSON Schema (events.schema.json, the one declaration both executors are checked
 * against) and a small validator for the subset of JSON Schema it uses (type, const, enum, properties,
 * required, additionalProperties, items, oneOf, local $ref). The host can check lines relayed from the
 * Python executor with it before they reach the panels; tests check both executors' events.
 */
import schemaJson from './events.schema.json';

type Schema = Record<string, unknown>;

/** The schema object. */
export const EVENT_SCHEMA = schemaJson as Schema;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function resolveRef(ref: string): Schema {
  const m = /^#\/\$defs\/(.+)$/.exec(ref);
  const def = m ? (EVENT_SCHEMA.$defs as Record<string, Schema>)[m[1]] : undefined;
  if (!def) throw new Error(`events.schema.json: unknown $ref ${ref}`);
  return def;
}

function check(s: Schema, v: unknown, path: string, errors: string[]): void {
  if (typeof s.$ref === 'string') return check(resolveRef(s.$ref), v, path, errors);
  if (Array.isArray(s.oneOf)) {
    const results = (s.oneOf as Schema[]).map((o) => { const e: string[] = []; check(o, v, path, e); return e; });
    const ok = results.filter((e) => e.length === 0).length;
    if (ok !== 1) {
      const t = (v as { type?: unknown } | null)?.type;
      const match = (s.oneOf as Schema[]).findIndex((o) => (resolveRef(o.$ref as string).properties as Record<string, Schema>).type?.const === t);
      errors.push(...(match >= 0 ? results[match] : [`${path}: type: expected one of the event types, got ${JSON.stringify(t)}`]));
    }
    return;
  }
  const t = typeOf(v);
  if (s.type !== undefined) {
    const want = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!want.includes(t) && !(t === 'integer' && want.includes('number'))) errors.push(`${path}: expected ${want.join(' or ')}, got ${t}`);
  }
  if ('const' in s && v !== s.const) errors.push(`${path}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(v)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(v)) errors.push(`${path}: expected one of ${s.enum.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`);
  if (t === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) errors.push(`${path}.${r}: missing`);
    for (const [k, x] of Object.entries(o)) {
      if (props[k]) check(props[k], x, `${path}.${k}`, errors);
      else if (s.additionalProperties === false) errors.push(`${path}.${k}: unknown field`);
      else if (typeof s.additionalProperties === 'object') check(s.additionalProperties as Schema, x, `${path}.${k}`, errors);
    }
  }
  if (t === 'array' && s.items) (v as unknown[]).forEach((x, i) => check(s.items as Schema, x, `${path}[${i}]`, errors));
}

/** Every way `event` departs from the event schema (empty = valid), as "event.field: problem". */
export function eventSchemaErrors(event: unknown): string[] {
  const errors: string[] = [];
  check(EVENT_SCHEMA, event, 'event', errors);
  return errors;
}
