/**
 * Offering to keep DAP Studio's run folders out of git: runs (`.dap/runs/…`, tens of MB each) land in the
 * workspace, where `git add .` would pick them up. When a run starts in a git repository whose ignore rules
 * do not cover the runs folder, the user is asked once per workspace to add its top folder (e.g. `.dap/`)
 * to the workspace's `.gitignore`. `git check-ignore` decides what is ignored (nested, global and negated
 * patterns included); no git or no repository: nothing is asked. The file work is trainInputs.ts's (tested).
 */
import * as vscode from 'vscode';
import { addToGitignore, gitIgnores, topFolderIn } from './trainInputs';

const STATE_KEY = 'dapStudio.gitignoreOffer';

/**
 * Asks (once per workspace, unless "Not now") to add the runs' top folder to .gitignore when a run writes
 * into a git repository that does not ignore it. Never throws.
 */
export async function offerGitignore(context: vscode.ExtensionContext, out: string): Promise<void> {
  try {
    if (context.workspaceState.get<string>(STATE_KEY)) return;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(out))?.uri.fsPath;
    const top = folder && topFolderIn(folder, out);
    if (!folder || !top || (await gitIgnores(folder, `${top}/`)) !== false) return;
    const add = `Add ${top}/ to .gitignore`;
    const never = "Don't ask again";
    const answer = await vscode.window.showInformationMessage(
      `DAP Studio keeps training runs in ${top}/ (tens of MB each), which git does not ignore here. Add ${top}/ to .gitignore?`,
      add,
      'Not now',
      never,
    );
    if (answer === add) {
      await addToGitignore(folder, top);
      await context.workspaceState.update(STATE_KEY, 'added');
    } else if (answer === never) await context.workspaceState.update(STATE_KEY, 'never');
  } catch (e) {
    void vscode.window.showWarningMessage(`DAP Studio: could not update .gitignore: ${(e as Error).message}`);
  }
}
