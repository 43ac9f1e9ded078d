/**
 * A synthetic, learnable preference set with a known share of flipped labels, to measure how well the
 * model-flagged list finds label errors (bench/review.bench.ts). Each item asks for a short reply about a
 * topic; one response is helpful (the truly preferred one), the other dismissive. A seeded `flipRate`
 * share of the judgments prefers the dismissive one: those are the known errors.
 */
import type { AnnotationEvent, TaskItem } from '../types';
import { mulberry32, shuffled } from '../random';

const TOPICS = ['tea', 'rain', 'cats', 'maps', 'jazz', 'bread', 'chess', 'boats', 'snow', 'kites', 'soup', 'bees', 'clocks', 'moss', 'owls', 'dunes'];
const ASKS = ['Tell me about', 'Say something on', 'A line about', 'Describe', 'Thoughts on'];
const HELPFUL = ['Sure! {t} are lovely.', 'Happy to help: {t} are great.', 'Of course, {t} are fun.', 'Gladly: I like {t}.'];
const DISMISSIVE = ['no.', 'whatever, {t}.', 'dunno', 'meh {t} bad'];

/** The generated set: task lines, log events, and the ids of the items whose label was flipped. */
export interface SyntheticSet {
  items: TaskItem[];
  /** Task-file lines (JSON objects), same order as `items`. */
  lines: Record<string, unknown>[];
  /** One `pair` judgment per item by annotator "gold"; flipped items prefer the dismissive response. */
  events: AnnotationEvent[];
  flipped: Set<string>;
}

/** `n` items, exactly round(n·flipRate) of them flipped (seeded). */
export function syntheticPreferenceSet(n: number, flipRate: number, seed: number): SyntheticSet {
  const rand = mulberry32(seed);
  const pick = <T>(list: T[]): T => list[Math.floor(rand() * list.length)];
  const ids = Array.from({ length: n }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const flipped = new Set(shuffled(ids, seed + 1).slice(0, Math.round(n * flipRate)));
  const items: TaskItem[] = [];
  const lines: Record<string, unknown>[] = [];
  const events: AnnotationEvent[] = [];
  ids.forEach((id, i) => {
    const topic = pick(TOPICS);
    const prompt = `${pick(ASKS)} ${topic}.`;
    const helpful = pick(HELPFUL).replace('{t}', topic[0].toUpperCase() + topic.slice(1));
    const dismissive = pick(DISMISSIVE).replace('{t}', topic);
    const helpfulFirst = rand() < 0.5;
    const responses = helpfulFirst ? [helpful, dismissive] : [dismissive, helpful];
    lines.push({ id, prompt, responses });
    items.push({ id, line: i + 1, offset: 0, format: 'responses', prompt, responses: responses.map((text) => ({ text })) });
    const helpfulIndex = helpfulFirst ? 0 : 1;
    const winner = flipped.has(id) ? 1 - helpfulIndex : helpfulIndex;
    events.push({ v: 1, kind: 'pair', item: id, annotator: 'gold', shown: [0, 1], choice: winner === 0 ? 'a' : 'b', ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
  });
  return { items, lines, events, flipped };
}
