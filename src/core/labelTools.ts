/**
 * Label-tool exports in: a Label Studio JSON export (its Pairwise and Ranker templates) and an Argilla v2
 * dataset export with a RankingQuestion become task rows (the items) plus annotation-log events (each
 * annotator's judgment), so a team's existing work moves over with annotator ids, choices / rankings and
 * timestamps kept. Pure functions over the parsed JSON; the README's "Label-tool exports" section is the
 * mapping. Everything not mapped is kept in the item's `meta` (`label_studio` / `argilla`).
 *
 * Label Studio (a list of tasks `{"id","data":{…},"annotations":[{"id","completed_by","result":[…],"created_at",
 * "updated_at","lead_time","was_cancelled"}]}`):
 * - pairwise: result `{"type":"pairwise","to_name":"A,B","value":{"selected":"left"|"right"}}`: responses =
 *   data[A], data[B] (left, right); choice a = left; `shown` [0, 1].
 * - ranker: result `{"type":"ranker","value":{"ranker":{"NAME":[ids…]}}}` over a List of `data.items`
 *   `[{"id","body"|"text"|"title"}]`: responses = the items in data order; one key = a full order, best first;
 *   several keys (buckets, "_" = unsorted and skipped) = tie groups in bucket order.
 * - prompt: data.prompt (or question / instruction / input / text, the first present).
 * - annotator: completed_by (an id, or an object's email/id) as "label-studio:ID"; ts = updated_at or created_at;
 *   ms = lead_time·1000; cancelled annotations are skipped.
 * Argilla v2 (records as `dataset.records.to_json` / `to_disk` write them: `{"id","fields":{…},"responses":
 * {"QUESTION":[{"value","user_id","status"?}]},"metadata","_server_id","inserted_at"?,"updated_at"?}`):
 * - the ranking question: `question` if given, else the settings' ranking question, else the one response
 *   whose values are lists of field names; its options are fields: responses = those fields' texts in option
 *   order; prompt = the other text field (prompt/instruction/… first).
 * - value `["f2","f1"]` (best first, each its own rank) or `[{"value":"f2","rank":1},…]` (equal ranks tie).
 * - annotator "argilla:USER_ID"; ts = the record's updated_at / inserted_at, else `fallbackTs`; responses with a
 *   status other than "submitted" (draft, discarded) are skipped.
 */
import type { AnnotationEvent } from './types';

/** What a converter gives: task rows (JSON objects as written to the task file) and log events. */
export interface ImportedWork {
  rows: Record<string, unknown>[];
  events: AnnotationEvent[];
  /** Annotations or responses that were skipped, with why (printed as warnings). */
  skipped: string[];
}

const PROMPT_KEYS = ['prompt', 'question', 'instruction', 'input', 'text', 'query'];

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isoOr(v: unknown, fallback: string): string {
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(Date.parse(v)).toISOString();
  return fallback;
}

function promptOf(data: Record<string, unknown>, exclude: Set<string>): { key: string; text: string } | undefined {
  for (const k of [...PROMPT_KEYS, ...Object.keys(data)]) {
    if (!exclude.has(k) && typeof data[k] === 'string') return { key: k, text: data[k] as string };
  }
  return undefined;
}

function lsAnnotator(v: unknown): string {
  if (isObj(v)) return `label-studio:${String(v.email ?? v.id ?? 'unknown')}`;
  return `label-studio:${v === undefined || v === null ? 'unknown' : String(v)}`;
}

/** Converts a Label Studio JSON export (see the file comment). Throws naming the task for a malformed one. */
export function fromLabelStudio(tasks: unknown, file: string, fallbackTs: string): ImportedWork {
  if (!Array.isArray(tasks)) throw new Error(`${file}: expected a Label Studio JSON export (a list of tasks), got ${tasks === null ? 'null' : typeof tasks}`);
  const out: ImportedWork = { rows: [], events: [], skipped: [] };
  tasks.forEach((task, i) => {
    const at = `${file}:row ${i + 1}`;
    if (!isObj(task) || !isObj(task.data)) throw new Error(`${at}: data: expected a task {"id","data":{…},"annotations":[…]}`);
    const data = task.data;
    const id = `ls-${String(task.id ?? i + 1)}`;
    const annotations = Array.isArray(task.annotations) ? task.annotations.filter(isObj) : [];
    const results = annotations.flatMap((a) => (Array.isArray(a.result) ? a.result.filter(isObj) : []));
    const pairwise = results.find((r) => r.type === 'pairwise');
    const ranker = results.find((r) => r.type === 'ranker');
    let responses: string[];
    let itemIds: string[] = [];
    let used = new Set<string>();
    if (ranker || (Array.isArray(data.items) && !pairwise)) {
      if (!Array.isArray(data.items)) throw new Error(`${at}: data.items: a Ranker task needs the List's items`);
      const items = data.items.filter(isObj);
      responses = items.map((it) => String(it.body ?? it.text ?? it.title ?? ''));
      itemIds = items.map((it, k) => String(it.id ?? k));
      used = new Set(['items']);
    } else {
      const names = typeof pairwise?.to_name === 'string' ? pairwise.to_name.split(',').map((s) => s.trim()) : [];
      const keys = names.length === 2 && names.every((n) => typeof data[n] === 'string') ? names
        : Object.keys(data).filter((k) => !PROMPT_KEYS.includes(k) && typeof data[k] === 'string').slice(0, 2);
      if (keys.length !== 2) throw new Error(`${at}: data: expected two text fields to compare (e.g. "answer1", "answer2")`);
      responses = keys.map((k) => data[k] as string);
      used = new Set(keys);
    }
    const prompt = promptOf(data, used);
    if (!prompt) throw new Error(`${at}: data: no prompt text (a "prompt" field, or another text field)`);
    const rest = Object.fromEntries(Object.entries(data).filter(([k]) => !used.has(k) && k !== prompt.key));
    out.rows.push({ id, prompt: prompt.text, responses, meta: { label_studio: { task: task.id, data: rest, ...(itemIds.length ? { items: itemIds } : {}) } } });
    for (const a of annotations) {
      const who = lsAnnotator(a.completed_by);
      const ts = isoOr(a.updated_at ?? a.created_at, fallbackTs);
      const ms = typeof a.lead_time === 'number' && Number.isFinite(a.lead_time) ? Math.round(a.lead_time * 1000) : undefined;
      if (a.was_cancelled === true) { out.skipped.push(`${at}: annotation ${String(a.id)}: cancelled, skipped`); continue; }
      const res = Array.isArray(a.result) ? a.result.filter(isObj) : [];
      const pw = res.find((r) => r.type === 'pairwise');
      const rk = res.find((r) => r.type === 'ranker');
      const base = { v: 1 as const, item: id, annotator: who, ts, ...(ms !== undefined ? { ms } : {}) };
      if (pw && isObj(pw.value) && (pw.value.selected === 'left' || pw.value.selected === 'right')) {
        out.events.push({ ...base, kind: 'pair', shown: [0, 1], choice: pw.value.selected === 'left' ? 'a' : 'b' } as AnnotationEvent);
      } else if (rk && isObj(rk.value) && isObj(rk.value.ranker)) {
        const buckets = Object.entries(rk.value.ranker).filter(([k, v]) => k !== '_' && Array.isArray(v)) as [string, unknown[]][];
        const index = (x: unknown) => itemIds.indexOf(String(x));
        const groups = buckets.length === 1 ? buckets[0][1].map((x) => [index(x)]) : buckets.map(([, v]) => v.map(index));
        const ranking = groups.map((g) => g.filter((k) => k >= 0)).filter((g) => g.length > 0);
        if (ranking.flat().length < 2) { out.skipped.push(`${at}: annotation ${String(a.id)}: ranks fewer than 2 known items, skipped`); continue; }
        out.events.push({ ...base, kind: 'rank', shown: ranking.flat().sort((x, y) => x - y), ranking } as AnnotationEvent);
      } else out.skipped.push(`${at}: annotation ${String(a.id)}: no pairwise or ranker result, skipped`);
    }
  });
  return out;
}

/** The ranking question's name and its options (field names) from Argilla settings, if given. */
function rankingFromSettings(settings: unknown, question?: string): { name: string; options: string[] } | undefined {
  if (!isObj(settings) || !Array.isArray(settings.questions)) return undefined;
  for (const q of settings.questions.filter(isObj)) {
    const s = isObj(q.settings) ? q.settings : q;
    if (s.type !== 'ranking' || (question !== undefined && q.name !== question)) continue;
    const opts = Array.isArray(s.options) ? s.options.filter(isObj).map((o) => String(o.value))
      : isObj(s.values) ? Object.keys(s.values) : [];
    return { name: String(q.name), options: opts };
  }
  return undefined;
}

/** A ranking response value as tie groups of option names, best first. */
function rankGroups(value: unknown): string[][] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((v) => typeof v === 'string')) return (value as string[]).map((v) => [v]);
  if (value.every((v) => isObj(v) && typeof v.value === 'string' && typeof v.rank === 'number')) {
    const byRank = new Map<number, string[]>();
    for (const v of value as { value: string; rank: number }[]) byRank.set(v.rank, [...(byRank.get(v.rank) ?? []), v.value]);
    return [...byRank.entries()].sort((x, y) => x[0] - y[0]).map(([, g]) => g);
  }
  return undefined;
}

/** Converts Argilla v2 records (see the file comment). */
export function fromArgilla(records: unknown, settings: unknown, file: string, fallbackTs: string, question?: string): ImportedWork {
  if (!Array.isArray(records)) throw new Error(`${file}: expected Argilla records (a list of {"id","fields","responses"}), got ${records === null ? 'null' : typeof records}`);
  const out: ImportedWork = { rows: [], events: [], skipped: [] };
  let q = rankingFromSettings(settings, question);
  records.forEach((rec, i) => {
    const at = `${file}:row ${i + 1}`;
    if (!isObj(rec) || !isObj(rec.fields)) throw new Error(`${at}: fields: expected a record {"id","fields":{…},"responses":{…}}`);
    const fields = rec.fields;
    const responses = isObj(rec.responses) ? rec.responses : {};
    if (!q) {
      const name = question ?? Object.keys(responses).find((k) => Array.isArray(responses[k]) && (responses[k] as unknown[]).some((r) => isObj(r) && rankGroups(r.value)));
      if (name) q = { name, options: [] };
    }
    if (!q) throw new Error(`${at}: responses: no ranking question found (give --question NAME)`);
    const options = q.options.length ? q.options : [...new Set(((responses[q.name] as unknown[] | undefined) ?? []).filter(isObj).flatMap((r) => (rankGroups(r.value) ?? []).flat()))];
    const optionFields = options.filter((o) => typeof fields[o] === 'string');
    if (optionFields.length < 2) throw new Error(`${at}: fields: the ranking options ${JSON.stringify(options)} name fewer than 2 text fields`);
    const prompt = promptOf(fields, new Set(optionFields));
    if (!prompt) throw new Error(`${at}: fields: no prompt text field besides the ranked ones`);
    const id = String(rec.id ?? rec._server_id ?? `argilla-${i + 1}`);
    const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== prompt.key && !optionFields.includes(k)));
    out.rows.push({ id, prompt: prompt.text, responses: optionFields.map((f) => fields[f]), meta: { argilla: { fields: rest, options: optionFields, metadata: rec.metadata ?? {}, server_id: rec._server_id ?? null } } });
    const ts = isoOr(rec.updated_at ?? rec.inserted_at, fallbackTs);
    for (const r of ((responses[q.name] as unknown[] | undefined) ?? []).filter(isObj)) {
      const who = `argilla:${String(r.user_id ?? 'unknown')}`;
      if (r.status !== undefined && r.status !== 'submitted') { out.skipped.push(`${at}: ${who}: status ${String(r.status)}, skipped`); continue; }
      const groups = rankGroups(r.value)?.map((g) => g.map((name) => optionFields.indexOf(name)).filter((k) => k >= 0)).filter((g) => g.length > 0);
      if (!groups || groups.flat().length < 2) { out.skipped.push(`${at}: ${who}: not a ranking of at least 2 options, skipped`); continue; }
      const base = { v: 1 as const, item: id, annotator: who, ts };
      if (optionFields.length === 2 && groups.length <= 2) out.events.push({ ...base, kind: 'pair', shown: [0, 1], choice: groups.length === 1 ? 'tie' : groups[0][0] === 0 ? 'a' : 'b' } as AnnotationEvent);
      else out.events.push({ ...base, kind: 'rank', shown: groups.flat().sort((x, y) => x - y), ranking: groups } as AnnotationEvent);
    }
  });
  return out;
}
