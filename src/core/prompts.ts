/**
 * Prompts of any prompt-bearing JSONL file, for generation: task files in every format the task reader
 * takes (their prompt, id and meta), compiled SFT / KTO rows `{"prompt","completion"}`, rankings, and bare
 * prompt rows `{"id"?, "prompt", "meta"?}` (prompt: a string or a message list). Streams the file, reports
 * each bad line as `file:line: field: problem` and goes on. A prompt seen before (same prompt text or
 * messages) is skipped, so each distinct prompt is generated for once; its id is the line's `id`, or `p:` +
 * 16 hex digits of sha256 over the prompt's canonical JSON; an id already taken by another prompt is an error.
 */
import { createHash } from 'node:crypto';
import { issueError, typeName } from './issues';
import { objectOfLine, readJsonlLines } from './jsonl';
import { canonicalJson, parseTaskObject } from './taskFormats';
import type { DataIssue, Prompt } from './types';

/** One distinct prompt of a file. */
export interface PromptRecord {
  id: string;
  prompt: Prompt;
  /** The line's `meta` (e.g. a verifiable task's `task`/`answer`). */
  meta?: Record<string, unknown>;
  /** 1-based line number. */
  line: number;
}

/** The prompts of a file and the problems found. */
export interface PromptFile {
  prompts: PromptRecord[];
  issues: DataIssue[];
}

/** The id of a prompt without an explicit one. */
export function promptId(prompt: Prompt): string {
  return `p:${createHash('sha256').update(canonicalJson(prompt)).digest('hex').slice(0, 16)}`;
}

/** The prompt value of a non-task row, or the problem with it. */
function checkPrompt(value: unknown): { prompt?: Prompt; problem?: [string, string] } {
  if (typeof value === 'string') return { prompt: value };
  if (!Array.isArray(value)) return { problem: ['prompt', `expected a string or a list of messages, got ${typeName(value)}`] };
  if (value.length === 0) return { problem: ['prompt', 'expected at least one message, got an empty list'] };
  for (let i = 0; i < value.length; i++) {
    const m = value[i] as Record<string, unknown> | null;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return { problem: [`prompt[${i}]`, `expected a message {"role", "content"}, got ${typeName(m)}`] };
    for (const k of ['role', 'content'] as const) if (typeof m[k] !== 'string') return { problem: [`prompt[${i}].${k}`, `expected a string, got ${typeName(m[k])}`] };
  }
  return { prompt: value as Prompt };
}

function idOf(obj: Record<string, unknown>): string | undefined {
  if (typeof obj.id === 'string' && obj.id !== '') return obj.id;
  if (typeof obj.id === 'number' && Number.isSafeInteger(obj.id)) return String(obj.id);
  return undefined;
}

/** Reads the distinct prompts of `path` (see the file comment). */
export async function readPrompts(path: string, displayName = path): Promise<PromptFile> {
  const prompts: PromptRecord[] = [];
  const issues: DataIssue[] = [];
  const seen = new Set<string>();
  const ids = new Map<string, number>();
  for await (const l of readJsonlLines(path)) {
    if (l.text.trim() === '') continue;
    const obj = objectOfLine(l, displayName, issues);
    if (!obj) continue;
    let prompt: Prompt | undefined;
    let meta = obj.meta !== null && typeof obj.meta === 'object' && !Array.isArray(obj.meta) ? (obj.meta as Record<string, unknown>) : undefined;
    const task = parseTaskObject(obj, { file: displayName, line: l.line, offset: l.offset });
    if (task.item) {
      prompt = task.item.prompt;
      meta = task.item.meta;
    } else if ('prompt' in obj) {
      const checked = checkPrompt(obj.prompt);
      if (checked.problem) {
        issues.push(issueError(displayName, l.line, checked.problem[0], checked.problem[1]));
        continue;
      }
      prompt = checked.prompt;
    } else {
      issues.push(...(task.issues.length > 0 ? task.issues : [issueError(displayName, l.line, 'prompt', 'missing (no prompt on this line)')]));
      continue;
    }
    const key = canonicalJson(prompt);
    if (seen.has(key)) continue;
    seen.add(key);
    const id = idOf(obj) ?? promptId(prompt as Prompt);
    const first = ids.get(id);
    if (first !== undefined) {
      issues.push(issueError(displayName, l.line, 'id', `duplicate id "${id}", first on line ${first}; line skipped`));
      continue;
    }
    ids.set(id, l.line);
    prompts.push({ id, prompt: prompt as Prompt, ...(meta ? { meta } : {}), line: l.line });
  }
  return { prompts, issues };
}
