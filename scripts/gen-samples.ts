/**
 * Deterministic generator of the sample data: media/samples/arith.tasks.jsonl (verifiable short tasks:
 * arithmetic, unit conversion, string transforms; responses of varying correctness and style) and
 * media/samples/arith.annotations.jsonl (annotators "alice" and "bob" who mostly prefer correct answers
 * and terse over verbose, with noise, so they disagree on some items), then media/samples/arith-demo.tasks.jsonl
 * (1,200 more items of the same kinds, no annotations: the data of `dap demo`). Seeded PRNG: same output every run.
 * Usage: node --import tsx scripts/gen-samples.ts [OUT_DIR]   (default media/samples)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONVERSIONS, solvePrompt, type ArithTaskKind } from '../src/core/verify';
import type { AnnotationEvent, PairChoice } from '../src/core/types';
import { Rng, shuffledIndices } from '../src/core/random';

const rng = new Rng(20260105);
const rand = () => rng.next();
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
/** A shuffled copy of `xs`, drawn from the one generator of this script. */
const shuffle = <T>(xs: readonly T[]): T[] => shuffledIndices(xs.length, rng).map((i) => xs[i]);
/** Standard normal sample (Box–Muller). */
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** Response kinds, by correctness and style. */
type Kind = 'correct_terse' | 'correct_verbose' | 'wrong_off_by_one' | 'wrong_digits' | 'wrong_verbose';
interface Candidate {
  text: string;
  kind: Kind;
}

const WORDS = ['cat', 'dog', 'sun', 'tree', 'bird', 'fish', 'moon', 'star', 'rain', 'lamp', 'book', 'road', 'milk', 'frog', 'wind', 'salt', 'ship', 'gold', 'king', 'jump'];

/** Makes a prompt of the given kind and its candidate responses. */
function makeTask(task: ArithTaskKind): { prompt: string; answer: string; candidates: Candidate[] } {
  let prompt: string;
  let verbose: (ans: string) => string;
  if (task === 'add' || task === 'sub' || task === 'mul') {
    const op = { add: '+', sub: '-', mul: '*' }[task];
    let a = task === 'mul' ? int(2, 12) : int(10, 99);
    let b = task === 'mul' ? int(2, 9) : int(10, 99);
    if (task === 'sub' && b > a) [a, b] = [b, a];
    prompt = `What is ${a} ${op} ${b}?`;
    verbose = (ans) => (rand() < 0.5 ? `${a} ${op} ${b} = ${ans}` : `The answer is ${ans}.`);
  } else if (task === 'convert') {
    const [from, to] = pick(CONVERSIONS);
    const n = int(2, 9);
    prompt = `How many ${to} in ${n} ${from}?`;
    verbose = (ans) => `${n} ${from} is ${ans} ${to}.`;
  } else {
    const word = pick(WORDS);
    prompt = task === 'reverse' ? `Reverse '${word}'.` : `Uppercase '${word}'.`;
    verbose = (ans) => (task === 'reverse' ? `'${word}' reversed is ${ans}` : `In capitals: ${ans}`);
  }
  const spec = solvePrompt(prompt);
  if (!spec || spec.task !== task) throw new Error(`gen-samples: prompt not solvable: ${prompt}`);
  const answer = spec.answer;
  let offByOne: string;
  let digits: string;
  if (task === 'reverse' || task === 'upper') {
    const word = (/'([A-Za-z]+)'/.exec(prompt) as RegExpExecArray)[1];
    // "Off by one": one letter out of place / one letter left lowercase; "digits": the input unchanged.
    offByOne = task === 'reverse' ? answer.slice(1) + answer[0] : answer.slice(0, -1) + answer.slice(-1).toLowerCase();
    digits = word;
    if (offByOne === answer) offByOne = answer + answer[answer.length - 1];
  } else {
    const n = Number(answer);
    offByOne = String(n + (rand() < 0.5 ? -1 : 1));
    const swapped = answer.length >= 2 ? answer.slice(0, -2) + answer.slice(-1) + answer.slice(-2, -1) : '';
    digits = swapped && swapped !== answer && !swapped.startsWith('0') ? swapped : String(n + 10);
  }
  const wrongVerbose = verbose(rand() < 0.5 ? offByOne : digits);
  const candidates: Candidate[] = [
    { text: answer, kind: 'correct_terse' },
    { text: verbose(answer), kind: 'correct_verbose' },
    { text: offByOne, kind: 'wrong_off_by_one' },
    { text: digits, kind: 'wrong_digits' },
    { text: wrongVerbose, kind: 'wrong_verbose' },
  ];
  return { prompt, answer, candidates };
}

/** How good a response is to an annotator (before noise). */
function utility(kind: Kind, prefersVerbose: boolean): number {
  if (kind === 'correct_terse') return prefersVerbose ? 1.4 : 2;
  if (kind === 'correct_verbose') return prefersVerbose ? 2 : 1.4;
  // Wrong answers: near misses look a little better than wrong digits or the input left unchanged.
  return kind === 'wrong_off_by_one' ? 0.6 : kind === 'wrong_verbose' ? 0.3 : 0;
}

interface Annotator {
  name: string;
  noise: number;
  /** Chance per item to prefer the verbose style. */
  verboseRate: number;
  /** Chance per judgment of a careless error (the opposite choice). */
  slipRate: number;
}
const ANNOTATORS: Annotator[] = [
  { name: 'alice', noise: 0.15, verboseRate: 0.05, slipRate: 0.03 },
  { name: 'bob', noise: 0.2, verboseRate: 0.15, slipRate: 0.05 },
];
const TIE_MARGIN = 0.2;

/** Groups response indices best first by the annotator's noisy utility (close ones tie). */
function judge(annotator: Annotator, kinds: Kind[], indices: number[]): number[][] {
  const verbose = rand() < annotator.verboseRate;
  const scored = indices.map((i) => ({ i, u: utility(kinds[i], verbose) + annotator.noise * gauss() })).sort((x, y) => y.u - x.u);
  const groups: number[][] = [];
  let last = Infinity;
  for (const { i, u } of scored) {
    if (groups.length > 0 && last - u < TIE_MARGIN) groups[groups.length - 1].push(i);
    else groups.push([i]);
    last = u;
  }
  if (rand() < annotator.slipRate) groups.reverse();
  return groups;
}

const PAIR_TYPES: [Kind, Kind, number][] = [
  ['correct_terse', 'wrong_off_by_one', 18],
  ['correct_terse', 'wrong_digits', 14],
  ['correct_verbose', 'wrong_off_by_one', 10],
  ['correct_terse', 'wrong_verbose', 10],
  ['correct_verbose', 'wrong_digits', 6],
  ['correct_terse', 'correct_verbose', 20],
  ['wrong_off_by_one', 'wrong_digits', 7],
  ['wrong_verbose', 'wrong_off_by_one', 5],
];
function pickPairType(): [Kind, Kind] {
  const total = PAIR_TYPES.reduce((s, t) => s + t[2], 0);
  let r = rand() * total;
  for (const [a, b, w] of PAIR_TYPES) if ((r -= w) < 0) return [a, b];
  return [PAIR_TYPES[0][0], PAIR_TYPES[0][1]];
}

const outDir = process.argv[2] ?? join(import.meta.dirname, '..', 'media', 'samples');
const TASKS: ArithTaskKind[] = ['add', 'add', 'sub', 'mul', 'convert', 'reverse', 'upper'];
const N_ITEMS = 300;
const N_DEMO_ITEMS = 1200;
const taskLines: string[] = [];
const events: AnnotationEvent[] = [];
const clock = new Map(ANNOTATORS.map((a, k) => [a.name, Date.UTC(2026, 0, 5, 9, 0, 0) + k * 17_000]));
function stamp(name: string): { ts: string; ms: number } {
  const ms = 1500 + Math.floor(rand() * 12000);
  const t = (clock.get(name) as number) + ms + 800;
  clock.set(name, t);
  return { ts: new Date(t).toISOString(), ms };
}

/** One task item (the next draws of the generator): its JSON line and what the simulated annotators need. */
function makeItem(id: string): { line: string; responses: Candidate[]; kinds: Kind[]; isRank: boolean } {
  const task = pick(TASKS);
  const { prompt, answer, candidates } = makeTask(task);
  const isRank = rand() < 0.15;
  let chosen: Candidate[];
  if (isRank) {
    const size = rand() < 0.5 ? 3 : 4;
    const wrongs = shuffle(candidates.filter((c) => c.kind.startsWith('wrong')));
    chosen = [candidates[0], candidates[1], ...wrongs].slice(0, 2).concat(wrongs.slice(0, size - 2));
  } else {
    const [ka, kb] = pickPairType();
    chosen = [ka, kb].map((k) => candidates.find((c) => c.kind === k) as Candidate);
  }
  const responses = shuffle([...chosen]);
  const kinds = responses.map((r) => r.kind);
  return { line: JSON.stringify({ id, prompt, responses: responses.map((r) => r.text), meta: { task, answer, kinds } }), responses, kinds, isRank };
}

for (let n = 0; n < N_ITEMS; n++) {
  const id = `arith-${String(n + 1).padStart(4, '0')}`;
  const { line, responses, kinds, isRank } = makeItem(id);
  taskLines.push(line);

  for (const annotator of ANNOTATORS) {
    if (annotator.name === 'bob' && rand() >= 0.7) continue; // bob annotates ~70% of the items
    const shown = shuffle(responses.map((_, i) => i));
    const groups = judge(annotator, kinds, shown);
    const { ts, ms } = stamp(annotator.name);
    const base = { v: 1 as const, item: id, annotator: annotator.name, ts, ms };
    if (isRank) {
      events.push({ ...base, kind: 'rank', shown, ranking: groups.map((g) => [...g].sort((a, b) => a - b)) });
      continue;
    }
    let choice: PairChoice;
    const allWrong = kinds.every((k) => k.startsWith('wrong'));
    if (allWrong && rand() < 0.75) choice = 'both_bad';
    else if (groups.length === 1) choice = 'tie';
    else choice = groups[0][0] === shown[0] ? 'a' : 'b';
    // A few second thoughts: alice first picks the other side, then re-annotates (or undoes and redoes).
    if (annotator.name === 'alice' && (choice === 'a' || choice === 'b') && rand() < 0.04) {
      events.push({ ...base, kind: 'pair', shown, choice: choice === 'a' ? 'b' : 'a' });
      const again = stamp(annotator.name);
      if (rand() < 0.5) events.push({ ...base, ts: again.ts, ms: undefined, kind: 'undo' });
      events.push({ ...base, ...stamp(annotator.name), kind: 'pair', shown, choice, note: 'changed my mind' });
      continue;
    }
    events.push({ ...base, kind: 'pair', shown, choice });
    if (annotator.name === 'bob' && rand() < 0.02) events.push({ ...base, ...stamp('bob'), ms: undefined, kind: 'flag', flagged: true, note: 'check this one' });
  }
}
events.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'arith.tasks.jsonl'), taskLines.join('\n') + '\n');
writeFileSync(join(outDir, 'arith.annotations.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
// The demo's larger set (src/train/loop/demo.ts): more items of the same kinds, drawn after the sample's (so the
// sample's files stay the same), without annotations (the demo's judge is the verifier).
const demoLines = Array.from({ length: N_DEMO_ITEMS }, (_, n) => makeItem(`demo-${String(n + 1).padStart(4, '0')}`).line);
writeFileSync(join(outDir, 'arith-demo.tasks.jsonl'), demoLines.join('\n') + '\n');
console.log(`gen-samples: ${taskLines.length} items, ${events.length} events, ${demoLines.length} demo items → ${outDir}`);
