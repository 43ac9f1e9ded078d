/**
 * The generated pretraining corpus of the built-in model (scripts/pretrain-builtin.ts): SFT rows
 * `{"prompt","completion"}` of the sample task families (media/samples: addition and subtraction of 2-digit
 * numbers, small products, unit conversions, reversing and upper-casing words) with correct answers, in the
 * sample's terse and verbose styles, over random numbers and random letter strings, so that the built-in
 * model knows the tasks before it sees the sample. Nothing is excluded: a prompt of the sample (held-out
 * ones included) can occur in the corpus with its right answer, as world knowledge occurs in any
 * pretraining corpus; the demo measures what SFT and DPO change from there.
 * Seeded (mulberry32): the same arguments give the same rows, byte for byte.
 */
import { mulberry32 } from '../src/core/random';
import { CONVERSIONS } from '../src/core/verify';

/** One corpus row (the trainer's SFT format). */
export interface CorpusRow {
  prompt: string;
  completion: string;
}

/** Corpus settings. */
export interface CorpusOptions {
  /** Rows to write. */
  rows: number;
  /** PRNG seed. */
  seed: number;
}

type Family = 'add' | 'sub' | 'mul' | 'convert' | 'reverse' | 'upper';
const FAMILIES: Family[] = ['add', 'add', 'sub', 'sub', 'mul', 'convert', 'reverse', 'upper'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A row of each family: [prompt in the sample's form, prompt in another phrasing, terse answer, verbose answer]. */
function makeRow(family: Family, int: (lo: number, hi: number) => number, rand: () => number): [string, string, string, string] {
  if (family === 'add' || family === 'sub' || family === 'mul') {
    const op = { add: '+', sub: '-', mul: '*' }[family];
    let a = family === 'mul' ? int(2, 12) : int(10, 99);
    let b = family === 'mul' ? int(2, 9) : int(10, 99);
    if (family === 'sub' && b > a) [a, b] = [b, a];
    const c = String(family === 'add' ? a + b : family === 'sub' ? a - b : a * b);
    return [`What is ${a} ${op} ${b}?`, `Compute ${a} ${op} ${b}.`, c, rand() < 0.5 ? `${a} ${op} ${b} = ${c}` : `The answer is ${c}.`];
  }
  if (family === 'convert') {
    const [from, to, factor] = CONVERSIONS[int(0, CONVERSIONS.length - 1)];
    const n = int(2, 9);
    const c = String(n * factor);
    return [`How many ${to} in ${n} ${from}?`, `Convert ${n} ${from} to ${to}.`, c, `${n} ${from} is ${c} ${to}.`];
  }
  let word = '';
  for (let i = int(3, 5); i > 0; i--) word += LETTERS[int(0, 25)];
  if (family === 'reverse') {
    const c = [...word].reverse().join('');
    return [`Reverse '${word}'.`, `Write '${word}' backwards.`, c, `'${word}' reversed is ${c}`];
  }
  const c = word.toUpperCase();
  return [`Uppercase '${word}'.`, `Write '${word}' in capitals.`, c, `In capitals: ${c}`];
}

/** The corpus rows: 85% in the sample's prompt form, 15% in another phrasing; 75% terse answers, 25% verbose. */
export function builtinCorpus(o: CorpusOptions): CorpusRow[] {
  const rand = mulberry32(o.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const rows: CorpusRow[] = [];
  while (rows.length < o.rows) {
    const family = FAMILIES[int(0, FAMILIES.length - 1)];
    const [samplePrompt, otherPrompt, terse, verbose] = makeRow(family, int, rand);
    const prompt = rand() < 0.85 ? samplePrompt : otherPrompt;
    rows.push({ prompt, completion: rand() < 0.75 ? terse : verbose });
  }
  return rows;
}
