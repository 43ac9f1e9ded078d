/**
 * The types of one training stage: what it needs (StageOptions), where its reference log-probs come from,
 * the sink of its events and how it ended. The loop (index.ts) and its memory check (memoryCheck.ts) both
 * read them.
 */
import type { BatchOptions } from '../../engine/logps';
import type { TransformerLM } from '../../engine/transformer';
import type { EngineTokenizer } from '../../engine/types';
import type { ExamplesByKind } from '../data/index';
import type { DataKind, LossHyper } from '../losses/types';
import type { TrainEvent } from '../runs/trainEvents';
import type { RefTable } from './reference';

/** Where reference log-probs come from (absent for reference-free losses). */
export type ReferenceSource = { kind: 'precomputed'; train: RefTable; eval: RefTable } | { kind: 'live'; model: TransformerLM };

/** An event without its timestamp (the sink adds it). */
export type EventSink = (e: DistributiveOmit<TrainEvent, 'ts'>) => void;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** Everything one stage needs. */
export interface StageOptions<K extends DataKind> {
  /** Name used in events and checkpoint folders ('sft', 'dpo', 'spin-1', …). */
  stage: string;
  kind: K;
  /** Loss registry name. */
  loss: string;
  hyper: LossHyper;
  model: TransformerLM;
  tokenizer: EngineTokenizer;
  train: ExamplesByKind[K][];
  eval: ExamplesByKind[K][];
  reference?: ReferenceSource;
  /** Passes over train (stops earlier at maxSteps). */
  epochs: number;
  maxSteps?: number;
  batchSize: number;
  gradAccum: number;
  lr: number;
  schedule: 'constant' | 'linear' | 'cosine';
  warmupRatio: number;
  maxGradNorm: number;
  weightDecay: number;
  batchOptions: BatchOptions;
  /** 0 = four times per stage. */
  evalEvery: number;
  /** 0 = only at the end and on cancel. */
  checkpointEvery: number;
  ktoKl: 'mismatched' | 'batch';
  seed: number;
  runDir: string;
  emit: EventSink;
  /** Polled after every step; true = checkpoint and stop. */
  shouldStop: () => boolean;
  /** Checkpoint folder to continue from (its model weights, or adapters, must already be loaded into `model`). */
  resumeFrom?: string;
  /** Base model folder a LoRA stage's checkpoints name in their adapter_config.json (default: the model's source folder). */
  loraBase?: string;
}

/** How a stage ended. */
export interface StageResult {
  steps: number;
  cancelled: boolean;
  /** Last step's metrics merged with the last eval's. */
  final: Record<string, number>;
  checkpoint?: string;
}
