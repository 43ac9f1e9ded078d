/**
 * Parses one task line (already JSON-decoded) into a TaskItem. Accepted formats:
 * - `{"id"?, "prompt": string | messages[], "responses": (string | {"text", "model"?, "score"?})[]}`
 * - TRL pairs `{"prompt", "chosen", "rejected"}`: standard (strings) or conversational (message lists)
 * - TRL implicit-prompt pairs `{"chosen", "rejected"}`: the shared prefix becomes the prompt; so does a pair whose
 *   `prompt` is of the other kind than chosen/rejected (UltraFeedback-binarized: a string prompt beside full
 *   conversations), as TRL's maybe_extract_prompt does; `score_chosen`/`score_rejected` become response scores
 * - RRHF `{"query", "responses", "scores"}`
 * A `"meta"` object and any other unknown keys are kept in `item.meta`. Items without an id get
 * `h:` + the first 16 hex digits of sha256 over the canonical JSON of `{prompt, responses: [texts]}`.
 */
import { createHash } from 'node:crypto';
import { issueError, typeName } from './issues';
import type { ChatMessage, DataIssue, Prompt, TaskItem, TaskResponse, TaskSourceFormat } from './types';

/** Where the parsed line came from (for issues and the item's position fields). */
export interface LineContext {
  file: string;
  line: number;
  offset: number;
}

/** Result of parsing one line: an item when it is usable, and every problem found. */
export interface ParsedTask {
  item?: TaskItem;
  issues: DataIssue[];
  /** With an item: true when the line had no `id`, so `item.id` is its content hash. */
  idFromContent?: boolean;
}

const KNOWN_KEYS = new Set(['id', 'prompt', 'responses', 'chosen', 'rejected', 'query', 'scores', 'meta']);
/** Keys a TRL pair line also reads (UltraFeedback's scores, kept on the responses). */
const PAIR_KEYS = new Set(['score_chosen', 'score_rejected']);

/** JSON with object keys sorted at every level (stable input for hashing). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The content-hash id of an item without an explicit id. */
export function contentHashId(prompt: Prompt, responses: readonly TaskResponse[]): string {
  const digest = createHash('sha256').update(canonicalJson({ prompt, responses: responses.map((r) => r.text) })).digest('hex');
  return `h:${digest.slice(0, 16)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Collects issues for one line and knows how to name them. */
class LineChecker {
  readonly issues: DataIssue[] = [];
  constructor(readonly ctx: LineContext) {}
  /** Records an error; returns undefined so callers can `return check.error(...)`. */
  error(field: string, message: string): undefined {
    this.issues.push(issueError(this.ctx.file, this.ctx.line, field, message));
    return undefined;
  }
  /** Validates a chat message list; returns it or undefined (issues recorded). */
  messages(value: unknown, field: string): ChatMessage[] | undefined {
    if (!Array.isArray(value)) {
      this.error(field, `expected a list of messages, got ${typeName(value)}`);
      return undefined;
    }
    if (value.length === 0) {
      this.error(field, 'expected at least one message, got an empty list');
      return undefined;
    }
    let ok = true;
    value.forEach((m, i) => {
      if (!isPlainObject(m)) {
        this.error(`${field}[${i}]`, `expected a message {"role", "content"}, got ${typeName(m)}`);
        ok = false;
        return;
      }
      if (typeof m.role !== 'string') {
        this.error(`${field}[${i}].role`, `expected a string, got ${typeName(m.role)}`);
        ok = false;
      }
      if (typeof m.content !== 'string') {
        this.error(`${field}[${i}].content`, `expected a string, got ${typeName(m.content)}`);
        ok = false;
      }
    });
    return ok ? value.map((m) => ({ role: m.role as string, content: m.content as string })) : undefined;
  }
  /** Validates a prompt: a string or a message list. */
  prompt(value: unknown, field: string): Prompt | undefined {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return this.messages(value, field);
    this.error(field, `expected a string or a list of messages, got ${typeName(value)}`);
    return undefined;
  }
  /** Validates a responses array of strings or {"text", "model"?, "score"?}. */
  responses(value: unknown, field: string, stringsOnly: boolean): TaskResponse[] | undefined {
    if (!Array.isArray(value)) {
      this.error(field, `expected a list of responses, got ${typeName(value)}`);
      return undefined;
    }
    if (value.length < 2) {
      this.error(field, `expected at least 2 responses, got ${value.length}`);
      return undefined;
    }
    const out: TaskResponse[] = [];
    let ok = true;
    value.forEach((r, i) => {
      const at = `${field}[${i}]`;
      if (typeof r === 'string') {
        out.push({ text: r });
        return;
      }
      if (stringsOnly || !isPlainObject(r)) {
        this.error(at, stringsOnly ? `expected a string, got ${typeName(r)}` : `expected a string or {"text", "model"?}, got ${typeName(r)}`);
        ok = false;
        return;
      }
      if (typeof r.text !== 'string') {
        this.error(`${at}.text`, `expected a string, got ${typeName(r.text)}`);
        ok = false;
        return;
      }
      const resp: TaskResponse = { text: r.text };
      if (r.model !== undefined) {
        if (typeof r.model === 'string') resp.model = r.model;
        else {
          this.error(`${at}.model`, `expected a string, got ${typeName(r.model)}`);
          ok = false;
        }
      }
      if (r.score !== undefined) {
        if (typeof r.score === 'number' && Number.isFinite(r.score)) resp.score = r.score;
        else {
          this.error(`${at}.score`, `expected a finite number, got ${typeName(r.score)}`);
          ok = false;
        }
      }
      out.push(resp);
    });
    return ok ? out : undefined;
  }
}

/** Groups response indices by descending score (equal scores share a group). */
export function groupsByScore(scores: readonly number[]): number[][] {
  const order = scores.map((s, i) => ({ s, i })).sort((x, y) => y.s - x.s || x.i - y.i);
  const groups: number[][] = [];
  let last = Number.NaN;
  for (const { s, i } of order) {
    if (groups.length > 0 && s === last) groups[groups.length - 1].push(i);
    else groups.push([i]);
    last = s;
  }
  return groups;
}

/**
 * TRL's implicit-prompt rule for strings: the common prefix, minus a space right before the split. TRL
 * compares Python code points; JS strings are UTF-16, so a split that would fall between the two halves
 * of a surrogate pair (😀 vs 😃 share their first half) moves before the pair, as it does in Python.
 */
export function splitStringPrefix(chosen: string, rejected: string): number {
  const n = Math.min(chosen.length, rejected.length);
  let idx = 0;
  while (idx < n && chosen[idx] === rejected[idx]) idx++;
  if (idx > 0 && idx < n) {
    const before = chosen.charCodeAt(idx - 1);
    if (before >= 0xd800 && before <= 0xdbff) idx--; // a high surrogate: keep the pair whole
  }
  if (idx > 0 && idx < n && chosen[idx - 1] === ' ') idx--;
  return idx;
}

function sameMessage(a: ChatMessage, b: ChatMessage): boolean {
  return a.role === b.role && a.content === b.content;
}

/** Reads a conversational completion: exactly one message after the prompt; returns its content. */
function completionText(check: LineChecker, messages: ChatMessage[], field: string): string | undefined {
  if (messages.length !== 1) {
    check.error(field, `expected exactly one message after the prompt, got ${messages.length}`);
    return undefined;
  }
  return messages[0].content;
}

/** Parses a TRL pair line (explicit or implicit prompt). */
function parseTrlPair(check: LineChecker, obj: Record<string, unknown>): { prompt: Prompt; responses: TaskResponse[]; format: TaskSourceFormat } | undefined {
  if (!('chosen' in obj)) return check.error('chosen', 'missing (a TRL pair needs "chosen" and "rejected")');
  if (!('rejected' in obj)) return check.error('rejected', 'missing (a TRL pair needs "chosen" and "rejected")');
  const { chosen, rejected } = obj;
  // TRL's maybe_extract_prompt: a prompt of the other kind than chosen (a string prompt beside message lists, as
  // in UltraFeedback-binarized, or the reverse) is redundant; the prompt is then implicit in chosen/rejected.
  const promptMatches = !('prompt' in obj) || Array.isArray(obj.prompt) === Array.isArray(chosen) || (typeof obj.prompt !== 'string' && !Array.isArray(obj.prompt));
  if ('prompt' in obj && promptMatches) {
    const prompt = check.prompt(obj.prompt, 'prompt');
    if (prompt === undefined) return undefined;
    if (typeof prompt === 'string') {
      let ok = true;
      for (const [field, v] of [['chosen', chosen], ['rejected', rejected]] as const) {
        if (typeof v !== 'string') {
          check.error(field, `expected a string (the prompt is a string), got ${typeName(v)}`);
          ok = false;
        }
      }
      return ok ? { prompt, responses: [{ text: chosen as string }, { text: rejected as string }], format: 'trl_pair' } : undefined;
    }
    const c = check.messages(chosen, 'chosen');
    const r = check.messages(rejected, 'rejected');
    if (!c || !r) return undefined;
    const ct = completionText(check, c, 'chosen');
    const rt = completionText(check, r, 'rejected');
    if (ct === undefined || rt === undefined) return undefined;
    return { prompt, responses: [{ text: ct }, { text: rt }], format: 'trl_pair_conversational' };
  }
  // Implicit prompt: the shared prefix of chosen and rejected.
  if (typeof chosen === 'string' && typeof rejected === 'string') {
    const idx = splitStringPrefix(chosen, rejected);
    if (idx === 0) return check.error('chosen', 'no "prompt" and chosen/rejected share no prefix to use as the prompt');
    if (idx >= chosen.length || idx >= rejected.length) return check.error('chosen', 'no "prompt" and one of chosen/rejected is a prefix of the other');
    return { prompt: chosen.slice(0, idx), responses: [{ text: chosen.slice(idx) }, { text: rejected.slice(idx) }], format: 'trl_pair_implicit' };
  }
  const c = check.messages(chosen, 'chosen');
  const r = check.messages(rejected, 'rejected');
  if (!c || !r) return undefined;
  let idx = 0;
  while (idx < c.length && idx < r.length && sameMessage(c[idx], r[idx])) idx++;
  if (idx === 0) return check.error('chosen', 'no "prompt" and chosen/rejected share no leading messages to use as the prompt');
  const ct = completionText(check, c.slice(idx), 'chosen');
  const rt = completionText(check, r.slice(idx), 'rejected');
  if (ct === undefined || rt === undefined) return undefined;
  return { prompt: c.slice(0, idx), responses: [{ text: ct }, { text: rt }], format: 'trl_pair_implicit' };
}

/**
 * UltraFeedback-style scores of a pair (`score_chosen`, `score_rejected`): kept on the responses as their
 * `score` (metadata; the pair's preference stays chosen over rejected).
 */
function pairScores(check: LineChecker, obj: Record<string, unknown>, responses: TaskResponse[]): void {
  (['score_chosen', 'score_rejected'] as const).forEach((key, i) => {
    const v = obj[key];
    if (v === undefined || v === null) return;
    if (typeof v === 'number' && Number.isFinite(v)) responses[i].score = v;
    else check.error(key, `expected a finite number, got ${typeName(v)}`);
  });
}

/** Parses a decoded JSON value of one task line. */
export function parseTaskObject(value: unknown, ctx: LineContext): ParsedTask {
  const check = new LineChecker(ctx);
  if (!isPlainObject(value)) {
    check.error('line', `expected a JSON object, got ${typeName(value)}`);
    return { issues: check.issues };
  }
  const obj = value;
  let id: string | undefined;
  if (obj.id !== undefined) {
    if (typeof obj.id === 'string' && obj.id.length > 0) id = obj.id;
    else if (typeof obj.id === 'number' && Number.isSafeInteger(obj.id)) id = String(obj.id);
    else if (typeof obj.id === 'number' && Number.isInteger(obj.id)) {
      // JSON.parse rounds integers beyond 2^53: two different ids could become one. Refuse instead of guessing.
      check.error('id', `integer beyond 2^53 cannot be read exactly (read as ${obj.id}); write the id as a string`);
    } else check.error('id', `expected a non-empty string or an integer, got ${obj.id === '' ? 'an empty string' : typeName(obj.id)}`);
  }
  let parsed: { prompt: Prompt; responses: TaskResponse[]; format: TaskSourceFormat; sourcePreference?: number[][] } | undefined;
  if ('query' in obj) {
    const prompt = check.prompt(obj.query, 'query');
    const responses = check.responses(obj.responses, 'responses', true);
    let scores: number[] | undefined;
    if (obj.scores !== undefined) {
      if (!Array.isArray(obj.scores) || !obj.scores.every((s) => typeof s === 'number' && Number.isFinite(s))) {
        check.error('scores', 'expected a list of finite numbers');
      } else if (responses && obj.scores.length !== responses.length) {
        check.error('scores', `expected ${responses.length} numbers (one per response), got ${obj.scores.length}`);
      } else scores = obj.scores as number[];
    }
    if (prompt !== undefined && responses && check.issues.length === 0) {
      scores?.forEach((s, i) => (responses[i].score = s));
      parsed = { prompt, responses, format: 'rrhf', sourcePreference: scores ? groupsByScore(scores) : undefined };
    }
  } else if ('chosen' in obj || 'rejected' in obj) {
    const pair = parseTrlPair(check, obj);
    if (pair) {
      pairScores(check, obj, pair.responses);
      parsed = { ...pair, sourcePreference: [[0], [1]] };
    }
  } else if ('responses' in obj || 'prompt' in obj) {
    if (!('prompt' in obj)) check.error('prompt', 'missing (a line with "responses" needs "prompt")');
    else if (!('responses' in obj)) check.error('responses', 'missing (a line with "prompt" needs "responses" or "chosen"/"rejected")');
    else {
      const prompt = check.prompt(obj.prompt, 'prompt');
      const responses = check.responses(obj.responses, 'responses', false);
      if (prompt !== undefined && responses) {
        const scored = responses.every((r) => r.score !== undefined);
        parsed = { prompt, responses, format: 'responses', sourcePreference: scored ? groupsByScore(responses.map((r) => r.score as number)) : undefined };
      }
    }
  } else {
    check.error('line', 'unrecognised task format: expected "prompt"+"responses", "prompt"+"chosen"+"rejected", "chosen"+"rejected" or "query"+"responses"+"scores"');
  }
  let meta: Record<string, unknown> | undefined;
  if (obj.meta !== undefined) {
    if (isPlainObject(obj.meta)) meta = { ...obj.meta };
    else check.error('meta', `expected an object, got ${typeName(obj.meta)}`);
  }
  const isPair = parsed?.format.startsWith('trl_pair') === true;
  for (const key of Object.keys(obj)) {
    if (!KNOWN_KEYS.has(key) && !(isPair && PAIR_KEYS.has(key) && obj[key] !== null)) (meta ??= {})[key] = obj[key];
  }
  if (!parsed || check.issues.length > 0) return { issues: check.issues };
  const item: TaskItem = {
    id: id ?? contentHashId(parsed.prompt, parsed.responses),
    prompt: parsed.prompt,
    responses: parsed.responses,
    line: ctx.line,
    offset: ctx.offset,
    format: parsed.format,
  };
  if (parsed.sourcePreference) item.sourcePreference = parsed.sourcePreference;
  if (meta) item.meta = meta;
  return { item, issues: check.issues, idFromContent: id === undefined };
}
