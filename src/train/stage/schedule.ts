/**
 * Learning-rate schedules: linear warm-up from 0 to the peak over `warmupSteps`, then constant, linear decay
 * to 0, or cosine decay to 0 at `totalSteps` (the shapes of HF's get_*_schedule_with_warmup).
 */

/** Learning-rate schedule settings. */
export interface ScheduleConfig {
  /** Peak learning rate. */
  lr: number;
  /** Steps of linear warm-up from 0 (0 = none). */
  warmupSteps: number;
  /** Total optimizer steps of the run (decay reaches 0 there). */
  totalSteps: number;
  /** Shape after warm-up. */
  kind: 'constant' | 'linear' | 'cosine';
}

/** Learning rate for optimizer step `step` (0-based: the first update uses step 0). */
export function learningRateAt(step: number, s: ScheduleConfig): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * (step + 1)) / (s.warmupSteps + 1);
  if (s.kind === 'constant') return s.lr;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  return s.kind === 'linear' ? s.lr * (1 - progress) : s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
