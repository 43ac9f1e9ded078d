/**
 * Checker for the verifiable sample tasks (media/samples/arith.tasks.jsonl): short arithmetic, unit
 * conversion and string transforms whose answer code can compute. A task's spec comes from the item's
 * `meta` (`{"task": "add", "answer": "82"}`) or, failing that, from solving the prompt text. A generated
 * text is correct when the answer it gives on its first line equals the expected answer: for numeric
 * tasks the last integer on that line, for string tasks the last run of letters (case-sensitive).
 */
import type { Prompt } from './types';

/** The sample task kinds. */
export type ArithTaskKind = 'add' | 'sub' | 'mul' | 'convert' | 'reverse' | 'upper';

/** What a task asks: its kind and its expected answer (as text). */
export interface TaskSpec {
  task: ArithTaskKind;
  answer: string;
}

const NUMERIC: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'convert']);
const KINDS: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'convert', 'reverse', 'upper']);

/** Unit conversions the samples use: `[from, to, factor]` meaning 1 from = factor to. */
export const CONVERSIONS: readonly [string, string, number][] = [
  ['m', 'cm', 100],
  ['km', 'm', 1000],
  ['kg', 'g', 1000],
  ['hours', 'minutes', 60],
  ['minutes', 'seconds', 60],
  ['days', 'hours', 24],
  ['cm', 'mm', 10],
];

/** Text of a prompt: the string, or the last user message of a conversation. */
function promptText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  const users = prompt.filter((m) => m.role === 'user');
  return (users[users.length - 1] ?? prompt[prompt.length - 1])?.content ?? '';
}

/** Computes the spec from a prompt's text, or undefined when it is not one of the sample task shapes. */
export function solvePrompt(prompt: Prompt): TaskSpec | undefined {
  const text = promptText(prompt).trim();
  let m = /^What is (\d+) ([+\-*]) (\d+)\?$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    if (m[2] === '+') return { task: 'add', answer: String(a + b) };
    if (m[2] === '-') return { task: 'sub', answer: String(a - b) };
    return { task: 'mul', answer: String(a * b) };
  }
  m = /^How many (\w+) in (\d+) (\w+)\?$/.exec(text);
  if (m) {
    const conversion = CONVERSIONS.find(([from, to]) => from === m?.[3] && to === m?.[1]);
    if (conversion) return { task: 'convert', answer: String(Number(m[2]) * conversion[2]) };
  }
  m = /^Reverse '([A-Za-z]+)'\.?$/.exec(text);
  if (m) return { task: 'reverse', answer: [...m[1]].reverse().join('') };
  m = /^Uppercase '([A-Za-z]+)'\.?$/.exec(text);
  if (m) return { task: 'upper', answer: m[1].toUpperCase() };
  return undefined;
}

/** The spec of an item: from `meta.task`/`meta.answer` when present and valid, else from the prompt. */
export function taskSpecOf(item: { prompt: Prompt; meta?: Record<string, unknown> }): TaskSpec | undefined {
  const task = item.meta?.task;
  const answer = item.meta?.answer;
  if (typeof task === 'string' && KINDS.has(task) && (typeof answer === 'string' || typeof answer === 'number')) {
    return { task: task as ArithTaskKind, answer: String(answer) };
  }
  return solvePrompt(item.prompt);
}

/** The answer a text gives: last integer (numeric tasks) or last letter run (string tasks) of its first line. */
export function extractAnswer(spec: TaskSpec, text: string): string | undefined {
  const firstLine = text.trim().split('\n')[0] ?? '';
  const matches = firstLine.match(NUMERIC.has(spec.task) ? /-?\d+/g : /[A-Za-z]+/g);
  return matches ? matches[matches.length - 1] : undefined;
}

/** True when `text` gives the expected answer. */
export function isCorrect(spec: TaskSpec, text: string): boolean {
  return extractAnswer(spec, text) === spec.answer;
}

/** Checks a generated text against an item; undefined when the item is not a verifiable task. */
export function verifyResponse(item: { prompt: Prompt; meta?: Record<string, unknown> }, text: string): boolean | undefined {
  const spec = taskSpecOf(item);
  return spec ? isCorrect(spec, text) : undefined;
}
