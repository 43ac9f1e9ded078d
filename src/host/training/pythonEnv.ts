/**
 * The Python side of training as VS Code sees it: the interpreter (setting `dapStudio.python`, else
 * $DAP_PYTHON, else the Python extension's selected interpreter when ms-python.python is installed, else
 * python3), the executor choice of a run before its worker starts (torch refused with what is missing and the
 * pip command; the memory estimate refused with its numbers), and *DAP: Check Training Environment*.
 * Only reached in trusted workspaces: the settings that name an interpreter are restricted.
 */
import * as vscode from 'vscode';
import { resolveConfig, type TrainConfig } from '../../train/config/index';
import { checkEstimate, chooseExecutor, estimateMemory, type ExecutorChoice } from '../../train/torch/choose';
import { formatTorchEnv, probeTorchEnv } from '../../train/torch/env';
import { rememberTorchEnv } from '../../train/torch/envCache';

/** The part of ms-python.python's exported API read here (its `environments` API). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(env: { id: string; path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The Python extension's selected interpreter for `resource`, or undefined (not installed, no API, nothing selected). */
async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api?.environments;
    if (!envs) return undefined;
    const active = envs.getActiveEnvironmentPath(resource);
    const resolved = await envs.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch {
    return undefined;
  }
}

/** The interpreter of the torch executor for a workspace folder (see the file comment for the order). */
export async function pythonInterpreter(folder?: vscode.Uri): Promise<{ python: string; from: string }> {
  const setting = vscode.workspace.getConfiguration('dapStudio', folder).get<string>('python', '').trim();
  if (setting) return { python: setting, from: 'dapStudio.python' };
  if (process.env.DAP_PYTHON?.trim()) return { python: process.env.DAP_PYTHON.trim(), from: 'DAP_PYTHON' };
  const fromExtension = await pythonExtensionInterpreter(folder);
  if (fromExtension) return { python: fromExtension, from: 'the Python extension\'s selected interpreter' };
  return { python: 'python3', from: 'python3 on PATH' };
}

/**
 * Decides the executor of a run before its worker starts and pins it in the config (executor tfjs|torch,
 * python), so the worker does what was decided here. Throws ExecutorError (torch unusable, will not fit).
 */
export async function pinExecutor(config: TrainConfig): Promise<{ config: TrainConfig; choice: ExecutorChoice }> {
  const resolved = resolveConfig(config);
  const probing = resolved.executor !== 'tfjs' && !!resolved.model;
  const work = async () => {
    const choice = await chooseExecutor(resolved);
    if (choice.executor === 'torch') checkEstimate(await estimateMemory(choice.python, resolved));
    return choice;
  };
  const choice = probing
    ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DAP Studio: checking the Python environment (${resolved.python ?? 'python3'})…` }, work)
    : await work();
  return { config: { ...config, executor: choice.executor, ...(choice.executor === 'torch' ? { python: choice.python } : {}) }, choice };
}

/** "DAP: Check Training Environment": the probe's report in an output channel, and a notification saying whether torch can run. */
export async function checkTrainingEnvironment(output: vscode.OutputChannel): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const { python, from } = await pythonInterpreter(folder);
  const env = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DAP Studio: checking ${python}…` }, () => probeTorchEnv(python));
  rememberTorchEnv(python, env); // a fresh answer for the next run's executor choice
  output.appendLine(`[${new Date().toISOString()}] training environment (interpreter from ${from})`);
  output.appendLine(formatTorchEnv(python, env));
  output.show(true);
  if (env.usable) {
    const gpus = env.devices.filter((d) => d.type !== 'cpu').map((d) => d.name);
    void vscode.window.showInformationMessage(`DAP Studio: the torch executor can run with ${python} (torch ${env.packages.torch}; ${gpus.length ? gpus.join(', ') : 'CPU only'}).`);
    return;
  }
  const pick = await vscode.window.showWarningMessage(`DAP Studio: the torch executor cannot run with ${python}: missing ${env.missing.join(', ') || 'a working interpreter'}${env.error ? ` (${env.error})` : ''}.`,
    ...(env.install ? ['Copy pip command'] : []));
  if (pick === 'Copy pip command' && env.install) await vscode.env.clipboard.writeText(env.install);
}
