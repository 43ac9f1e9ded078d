/**
 * Tokenizers implementing EngineTokenizer: the built-in byte-level one (ids 0–255 are UTF-8 bytes, then
 * BOS/EOS/PAD) and a wrapper over a Hugging Face tokenizer.json (@huggingface/tokenizers) with the chat
 * template of tokenizer_config.json or chat_template.jinja rendered by @huggingface/jinja.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import type { EngineTokenizer } from './types';

/** Byte-level tokenizer of the built-in model: 256 byte ids + BOS 256, EOS 257, PAD 258. */
export class ByteTokenizer implements EngineTokenizer {
  static readonly BOS = 256;
  static readonly EOS = 257;
  static readonly PAD = 258;
  readonly vocabSize = 259;
  readonly eosId = ByteTokenizer.EOS;
  readonly padId = ByteTokenizer.PAD;
  readonly bosId = ByteTokenizer.BOS;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  encode(text: string): number[] {
    return Array.from(this.encoder.encode(text));
  }

  /** Decodes byte ids as UTF-8 (invalid sequences become U+FFFD); special ids are skipped. */
  decode(ids: number[]): string {
    return this.decoder.decode(Uint8Array.from(ids.filter((i) => i >= 0 && i < 256)));
  }
}

/** GPT-2's reversible byte → printable-character map (used to write a tokenizer.json for the byte tokenizer). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return map;
}

/**
 * A tokenizer.json equivalent to ByteTokenizer: ByteLevel pre-tokenizer without regex splitting, a BPE
 * model whose vocabulary is the 256 byte symbols (id = byte value) and no merges, and the three
 * special tokens. transformers' PreTrainedTokenizerFast loads it.
 */
export function byteTokenizerJson(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((ch, b) => (vocab[ch] = b));
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(256, '<|bos|>'), special(257, '<|eos|>'), special(258, '<|pad|>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
}

/** tokenizer_config.json for the byte tokenizer. */
export function byteTokenizerConfigJson(): Record<string, unknown> {
  return { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<|bos|>', eos_token: '<|eos|>', pad_token: '<|pad|>', model_max_length: 1024, clean_up_tokenization_spaces: false };
}

type TokenLike = string | { content?: string } | null | undefined;
function tokenText(t: TokenLike): string | undefined {
  if (typeof t === 'string') return t;
  if (t && typeof t.content === 'string') return t.content;
  return undefined;
}

/** A Hugging Face tokenizer.json, with the model's chat template when it has one. */
export class HfTokenizer implements EngineTokenizer {
  readonly vocabSize: number;
  readonly eosId: number;
  readonly padId: number;
  readonly bosId: number | null;
  private readonly tok: Tokenizer;
  private readonly template: Template | null;
  private readonly specials: Record<string, string | undefined>;
  /** The model's embedding rows (config.json vocab_size) when known: ids at or above it are errors. */
  private readonly modelVocabSize: number | null;
  private readonly where: string;
  readonly applyChatTemplate?: (messages: { role: string; content: string }[], addGenerationPrompt: boolean) => string;

  /**
   * json: parsed tokenizer.json; config: tokenizer_config.json ({} if absent); ids: config.json's EOS/BOS ids
   * and vocab_size (the model's embedding rows); chatTemplate overrides config's; where / templateWhere name
   * the tokenizer and template files in errors.
   */
  constructor(json: Record<string, unknown>, config: Record<string, unknown>, ids: { eos?: number | null; bos?: number | null; modelVocabSize?: number | null }, chatTemplate?: string, where = 'tokenizer.json', templateWhere = 'chat template') {
    this.tok = new Tokenizer(json, config);
    this.where = where;
    this.modelVocabSize = ids.modelVocabSize ?? null;
    this.vocabSize = this.tok.get_vocab(true).size;
    const idOf = (t: TokenLike) => {
      const s = tokenText(t);
      return s === undefined ? undefined : this.tok.token_to_id(s);
    };
    const eos = idOf(config.eos_token as TokenLike) ?? ids.eos ?? undefined;
    if (eos === undefined || eos === null) throw new Error(`${where}: no EOS token (set eos_token in tokenizer_config.json or eos_token_id in config.json)`);
    this.eosId = eos;
    this.bosId = idOf(config.bos_token as TokenLike) ?? ids.bos ?? null;
    this.padId = idOf(config.pad_token as TokenLike) ?? eos;
    for (const [name, id] of [['EOS', this.eosId], ['BOS', this.bosId], ['PAD', this.padId]] as const) {
      if (id !== null && this.modelVocabSize !== null && id >= this.modelVocabSize) {
        throw new Error(`${where}: the ${name} token has id ${id}, outside the model's vocabulary of ${this.modelVocabSize} (config.json vocab_size)`);
      }
    }
    this.specials = {
      bos_token: tokenText(config.bos_token as TokenLike), eos_token: tokenText(config.eos_token as TokenLike),
      pad_token: tokenText(config.pad_token as TokenLike), unk_token: tokenText(config.unk_token as TokenLike),
    };
    let tpl = chatTemplate ?? config.chat_template;
    if (Array.isArray(tpl)) tpl = (tpl.find((t: { name?: string }) => t.name === 'default') as { template?: string } | undefined)?.template;
    this.template = typeof tpl === 'string' && tpl.length > 0 ? new Template(tpl) : null;
    if (this.template) {
      this.applyChatTemplate = (messages, addGenerationPrompt) => {
        try {
          return this.template!.render({ messages, add_generation_prompt: addGenerationPrompt, ...this.specials });
        } catch (e) {
          const roles = messages.map((m) => m.role).join(', ');
          throw new Error(`${templateWhere}: the chat template failed on a conversation with roles [${roles}]: ${(e as Error).message}`);
        }
      };
    }
  }

  /** Token ids of text, without the tokenizer's special-token post-processing (TRL tokenizes pieces that way). */
  encode(text: string): number[] {
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    if (this.modelVocabSize !== null) {
      const bad = ids.find((id) => id >= this.modelVocabSize!);
      if (bad !== undefined) {
        throw new Error(`${this.where}: token ${JSON.stringify(this.tok.id_to_token(bad))} has id ${bad}, outside the model's vocabulary of ` +
          `${this.modelVocabSize} (config.json vocab_size): the tokenizer does not belong to this model, or its embeddings were not resized`);
      }
    }
    return ids;
  }

  decode(ids: number[]): string {
    return this.tok.decode(ids, { skip_special_tokens: true });
  }
}

/** Reads a JSON file, with an error naming the path. */
export function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

/**
 * The tokenizer of a model folder: the byte tokenizer when config.json has `dap_tokenizer: "bytes"`,
 * else tokenizer.json (+ tokenizer_config.json, + chat_template.jinja when present).
 */
export function loadTokenizer(dir: string, modelConfig: Record<string, unknown>): EngineTokenizer {
  if (modelConfig.dap_tokenizer === 'bytes') return new ByteTokenizer();
  const tjPath = join(dir, 'tokenizer.json');
  if (!existsSync(tjPath)) {
    const hint = existsSync(join(dir, 'vocab.json')) || existsSync(join(dir, 'tokenizer.model')) ? ' (only slow-tokenizer files found; save the tokenizer with a fast tokenizer to get tokenizer.json)' : '';
    throw new Error(`${tjPath}: missing file: the model folder needs a tokenizer.json${hint}`);
  }
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = existsSync(cfgPath) ? readJson(cfgPath) : {};
  const jinjaPath = join(dir, 'chat_template.jinja');
  const chat = existsSync(jinjaPath) ? readFileSync(jinjaPath, 'utf8') : undefined;
  const templateWhere = chat !== undefined ? jinjaPath : `${cfgPath}: chat_template`;
  const id = (v: unknown) => (typeof v === 'number' ? v : Array.isArray(v) && typeof v[0] === 'number' ? (v[0] as number) : null);
  const modelVocabSize = typeof modelConfig.vocab_size === 'number' ? modelConfig.vocab_size : null;
  return new HfTokenizer(readJson(tjPath), cfg, { eos: id(modelConfig.eos_token_id), bos: id(modelConfig.bos_token_id), modelVocabSize }, chat, tjPath, templateWhere);
}
