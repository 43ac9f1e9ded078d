/**
 * Turns a click into a training config: the data file (a task file, its annotation log, or a compiled
 * TRL file), the settings (`dapStudio.modelPath`, `dapStudio.runsDirectory`, `dapStudio.train.*`), epochs
 * sized to the data, and for "DAP: Train…" a quick-pick flow (method, model folder, full fine-tuning or
 * LoRA — asked only for a model folder —, β, epochs) whose answers are remembered per workspace.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { TrainConfig } from '../../train/config';
import { FINETUNE_CHOICES, countLines, dataOf, epochsFor, loraFieldsOf, newRunId } from './trainInputs';

export { countLines, dataOf, epochsFor, newRunId };

/** Methods offered in the quick pick, with their default β (undefined: the method has no β). */
export const METHOD_CHOICES: readonly { method: NonNullable<TrainConfig['method']>; detail: string; beta?: number }[] = [
  { method: 'dpo', detail: 'Direct Preference Optimization: −log σ(βΔ)', beta: 0.1 },
  { method: 'cdpo', detail: 'Conservative DPO: label smoothing ε = 0.1', beta: 0.1 },
  { method: 'robust', detail: 'Robust DPO: unbiased under flipped labels', beta: 0.1 },
  { method: 'ipo', detail: 'IPO: squared loss towards 1/(2β)', beta: 0.1 },
  { method: 'hinge', detail: 'Hinge (TRL "hinge"): max(0, 1 − βΔ)', beta: 0.1 },
  { method: 'slic', detail: 'SLiC-HF: calibration hinge + SFT term, no reference model' },
  { method: 'rrhf', detail: 'RRHF: ranking loss over all responses, no reference model' },
  { method: 'orpo', detail: 'ORPO: odds-ratio term on top of SFT, no reference model', beta: 0.1 },
  { method: 'simpo', detail: 'SimPO: length-normalised margin with γ, no reference model', beta: 2 },
  { method: 'kto', detail: 'KTO: unpaired desirable/undesirable labels', beta: 0.1 },
  { method: 'spin', detail: 'SPIN: self-play iterations against the previous model', beta: 0.1 },
  { method: 'sft', detail: 'Supervised fine-tuning on the best responses' },
];

/** What "DAP: Train…" remembers per workspace. */
export interface TrainChoices {
  method: NonNullable<TrainConfig['method']>;
  /** '' = the built-in model. */
  model: string;
  beta?: number;
  /** 0 = automatic. */
  epochs: number;
  /** LoRA rank with a model folder; 0 or absent = full fine-tuning. */
  lora?: number;
}

const CHOICES_KEY = 'dapStudio.train.lastChoices';

/** The folder whose `runs/` holds the runs, and that runs folder, from `dapStudio.runsDirectory`. */
export function runsLocation(folder: vscode.WorkspaceFolder | undefined, dataFile?: string): { out: string; runsDir: string } {
  const configured = vscode.workspace.getConfiguration('dapStudio', folder?.uri).get<string>('runsDirectory', '').trim();
  const base = folder?.uri.fsPath ?? (dataFile ? dirname(dataFile) : process.cwd());
  const expanded = configured.replace(/\$\{workspaceFolder\}/g, base);
  const runsDir = expanded === '' ? join(base, '.dap', 'runs') : isAbsolute(expanded) ? expanded : resolve(base, expanded);
  // The worker writes OUT/runs/RUN_ID: a folder named "runs" is used as is, any other gets runs/ inside.
  return basename(runsDir) === 'runs' ? { out: dirname(runsDir), runsDir } : { out: runsDir, runsDir: join(runsDir, 'runs') };
}

/** The config of a one-click DPO run (or the remembered choices of "DAP: Train…"). Asks nothing. */
export async function buildConfig(file: string, choices?: TrainChoices): Promise<TrainConfig & { out: string; runId: string }> {
  const { data, log } = dataOf(file);
  if (!existsSync(data)) throw new Error(`${data}: data file not found`);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(data)) ?? vscode.workspace.workspaceFolders?.[0];
  const settings = vscode.workspace.getConfiguration('dapStudio', folder?.uri);
  const method = choices?.method ?? 'dpo';
  const model = (choices ? choices.model : settings.get<string>('modelPath', '')).trim();
  const maxSteps = settings.get<number>('train.maxSteps', 0);
  const epochSetting = choices?.epochs || settings.get<number>('train.epochs', 0);
  const epochs = epochSetting > 0 ? epochSetting : epochsFor(await countLines(data));
  const overrides = settings.get<Record<string, unknown>>('train.overrides', {}) ?? {};
  const { out } = runsLocation(folder, data);
  const config: TrainConfig & { out: string; runId: string } = {
    data,
    ...(log ? { log } : {}),
    method,
    epochs,
    backend: settings.get<TrainConfig['backend']>('train.backend', 'auto'),
    ...(model ? { model: isAbsolute(model) ? model : resolve(folder?.uri.fsPath ?? dirname(data), model) } : {}),
    ...(maxSteps > 0 ? { maxSteps } : {}),
    ...(choices?.beta !== undefined ? { loss: { beta: choices.beta } } : {}),
    ...(model ? loraFieldsOf(choices?.lora) : {}),
    ...(overrides as Partial<TrainConfig>), // e.g. {"lora": {"r": 8}}: passed to the worker as is

    out,
    runId: newRunId(method),
  };
  return config;
}

/** "DAP: Train…": method, model folder, β, epochs; starts from (and saves) the workspace's last answers. */
export async function askChoices(state: vscode.Memento): Promise<TrainChoices | undefined> {
  const last = state.get<TrainChoices>(CHOICES_KEY) ?? { method: 'dpo', model: '', epochs: 0 };
  const methodPick = await vscode.window.showQuickPick(
    METHOD_CHOICES.map((m) => ({ label: m.method, description: m.method === last.method ? 'last used' : undefined, detail: m.detail })),
    { title: 'DAP: Train (1/5) — method', placeHolder: `Training method (last: ${last.method})`, ignoreFocusOut: true },
  );
  if (!methodPick) return undefined;
  const method = methodPick.label as TrainChoices['method'];
  const modelPick = await vscode.window.showQuickPick(
    [
      { label: 'Built-in tiny model', description: 'byte-level GPT-2, trained by SFT on the data first', value: '' },
      ...(last.model ? [{ label: basename(last.model), description: last.model, value: last.model }] : []),
      { label: 'Choose a model folder…', description: 'a local Hugging Face folder (config.json, safetensors, tokenizer.json)', value: '?' },
    ],
    { title: 'DAP: Train (2/5) — model', ignoreFocusOut: true },
  );
  if (!modelPick) return undefined;
  let model = modelPick.value;
  if (model === '?') {
    const dir = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Train this model' });
    if (!dir?.[0]) return undefined;
    model = dir[0].fsPath;
  }
  let lora = 0;
  if (model) {
    const lastR = last.lora ?? 0;
    const pick = await vscode.window.showQuickPick(
      FINETUNE_CHOICES.map((c) => ({ label: c.label, detail: c.detail, description: c.r === lastR ? 'last used' : undefined, r: c.r })),
      { title: 'DAP: Train (3/5) — fine-tuning', placeHolder: 'Train all weights, or LoRA adapters (fits bigger models in memory)', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    lora = pick.r;
  }
  const defaultBeta = METHOD_CHOICES.find((m) => m.method === method)?.beta;
  let beta: number | undefined;
  if (defaultBeta !== undefined) {
    const remembered = last.method === method && last.beta !== undefined ? last.beta : defaultBeta;
    const text = await vscode.window.showInputBox({
      title: 'DAP: Train (4/5) — β',
      prompt: `β of ${method} (default ${defaultBeta}): larger β keeps the model closer to the reference`,
      value: String(remembered),
      ignoreFocusOut: true,
      validateInput: (v) => (Number.isFinite(Number(v)) && Number(v) > 0 ? undefined : 'β must be a positive number'),
    });
    if (text === undefined) return undefined;
    beta = Number(text);
  }
  const epochText = await vscode.window.showInputBox({
    title: 'DAP: Train (5/5) — epochs',
    prompt: 'Passes over the data (0 = sized to the data)',
    value: String(last.epochs ?? 0),
    ignoreFocusOut: true,
    validateInput: (v) => (Number.isInteger(Number(v)) && Number(v) >= 0 ? undefined : 'a whole number ≥ 0'),
  });
  if (epochText === undefined) return undefined;
  const choices: TrainChoices = { method, model, epochs: Number(epochText), ...(beta !== undefined ? { beta } : {}), ...(lora > 0 ? { lora } : {}) };
  await state.update(CHOICES_KEY, choices);
  return choices;
}
