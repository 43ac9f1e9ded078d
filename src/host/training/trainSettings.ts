/**
 * Turns a click into a training config: the data file (a task file, its annotation log, or a compiled
 * TRL file), the settings (`dapStudio.modelPath`, `dapStudio.runsDirectory`, `dapStudio.train.*`), epochs
 * sized to the data, and for "DAP: Train…" a quick-pick flow (method, model folder, full fine-tuning or
 * LoRA — asked only for a model folder —, β, epochs) whose answers are remembered per workspace.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fieldProblem, newRunId, resolveConfig, type Executor, type TrainConfig } from '../../train/config/index';
import { pythonInterpreter } from './pythonEnv';
import { EXECUTOR_CHOICES, METHOD_CHOICES } from './trainChoices';
import { FINETUNE_CHOICES, countLines, dataOf, epochsFor, loraFieldsOf } from './trainInputs';

export { countLines, dataOf, epochsFor, newRunId, METHOD_CHOICES };

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
  /** Where the steps run (asked for a model folder; absent = the dapStudio.train.executor setting). */
  executor?: Executor;
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
  const executor = choices?.executor ?? settings.get<Executor>('train.executor', 'auto');
  const { python } = await pythonInterpreter(folder?.uri);
  const { out } = runsLocation(folder, data);
  const config: TrainConfig & { out: string; runId: string } = {
    data,
    ...(log ? { log } : {}),
    method,
    epochs,
    backend: settings.get<TrainConfig['backend']>('train.backend', 'auto'),
    executor,
    python,
    ...(model ? { model: isAbsolute(model) ? model : resolve(folder?.uri.fsPath ?? dirname(data), model) } : {}),
    ...(maxSteps > 0 ? { maxSteps } : {}),
    ...(choices?.beta !== undefined ? { loss: { beta: choices.beta } } : {}),
    ...(model ? loraFieldsOf(choices?.lora) : {}),
    ...(overrides as Partial<TrainConfig>), // e.g. {"lora": {"r": 8}}: passed to the worker as is

    out,
    runId: newRunId(method),
  };
  resolveConfig(config); // every field checked before a run folder exists (ConfigError names the field)
  return config;
}

/** "DAP: Train…": method, model folder, fine-tuning and executor (for a model folder), β, epochs; starts from (and saves) the workspace's last answers. */
export async function askChoices(state: vscode.Memento): Promise<TrainChoices | undefined> {
  const last = state.get<TrainChoices>(CHOICES_KEY) ?? { method: 'dpo', model: '', epochs: 0 };
  let step = 0;
  const title = (what: string, total: number) => `DAP: Train (${++step}/${total}) — ${what}`;
  const methodPick = await vscode.window.showQuickPick(
    METHOD_CHOICES.map((m) => ({ label: m.method, description: m.method === last.method ? 'last used' : undefined, detail: m.detail })),
    { title: title('method', 4), placeHolder: `Training method (last: ${last.method})`, ignoreFocusOut: true },
  );
  if (!methodPick) return undefined;
  const method = methodPick.label as TrainChoices['method'];
  const defaultBeta = METHOD_CHOICES.find((m) => m.method === method)?.beta;
  const modelPick = await vscode.window.showQuickPick(
    [
      { label: 'Built-in tiny model', description: 'byte-level GPT-2, trained by SFT on the data first', value: '' },
      ...(last.model ? [{ label: basename(last.model), description: last.model, value: last.model }] : []),
      { label: 'Choose a model folder…', description: 'a local Hugging Face folder (config.json, safetensors, tokenizer.json)', value: '?' },
    ],
    { title: title('model', 3 + (defaultBeta !== undefined ? 1 : 0)), ignoreFocusOut: true },
  );
  if (!modelPick) return undefined;
  let model = modelPick.value;
  if (model === '?') {
    const dir = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Train this model' });
    if (!dir?.[0]) return undefined;
    model = dir[0].fsPath;
  }
  const total = 3 + (model ? 2 : 0) + (defaultBeta !== undefined ? 1 : 0);
  let lora = 0;
  let executor: Executor | undefined;
  if (model) {
    const lastR = last.lora ?? 0;
    const pick = await vscode.window.showQuickPick(
      FINETUNE_CHOICES.map((c) => ({ label: c.label, detail: c.detail, description: c.r === lastR ? 'last used' : undefined, r: c.r })),
      { title: title('fine-tuning', total), placeHolder: 'Train all weights, or LoRA adapters (fits bigger models in memory)', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    lora = pick.r;
    const lastExecutor = last.executor ?? 'auto';
    const ex = await vscode.window.showQuickPick(
      EXECUTOR_CHOICES.map((c) => ({ label: c.executor, detail: c.detail, description: c.executor === lastExecutor ? 'last used' : undefined })),
      { title: title('executor', total), placeHolder: 'Where the training steps run (torch needs a Python with torch, transformers and accelerate)', ignoreFocusOut: true },
    );
    if (!ex) return undefined;
    executor = ex.label as Executor;
  }
  let beta: number | undefined;
  if (defaultBeta !== undefined) {
    const remembered = last.method === method && last.beta !== undefined ? last.beta : defaultBeta;
    const text = await vscode.window.showInputBox({
      title: title('β', total),
      prompt: `β of ${method} (default ${defaultBeta}, from the loss registry): larger β keeps the model closer to the reference`,
      value: String(remembered),
      ignoreFocusOut: true,
      validateInput: (v) => fieldProblem('loss.beta', v.trim() === '' ? v : Number(v), method),
    });
    if (text === undefined) return undefined;
    beta = Number(text);
  }
  const epochText = await vscode.window.showInputBox({
    title: title('epochs', total),
    prompt: 'Passes over the data (0 = sized to the data)',
    value: String(last.epochs ?? 0),
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '0' ? undefined : fieldProblem('epochs', v.trim() === '' ? v : Number(v), method)),
  });
  if (epochText === undefined) return undefined;
  const choices: TrainChoices = { method, model, epochs: Number(epochText), ...(beta !== undefined ? { beta } : {}), ...(lora > 0 ? { lora } : {}),
    ...(executor ? { executor } : {}) };
  await state.update(CHOICES_KEY, choices);
  return choices;
}
