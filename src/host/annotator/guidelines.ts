/**
 * A task file's annotation guidelines file (no vscode): NAME.guidelines.md beside it (core/project.ts's
 * guidelinesPath), created from a template by "DAP: Create Annotation Guidelines" when it is missing; an
 * existing file is never overwritten.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { guidelinesPath, taskStem } from '../../core/project';

/** The starting text of a task file's guidelines. */
export function guidelinesTemplate(taskFile: string): string {
  return `# Annotation guidelines: ${taskStem(taskFile)}

Shown in the annotator's Guidelines pane for ${path.basename(taskFile)}; edit this file, the pane follows.

## What makes a response better here
- Correct first: a wrong answer loses to a right one, however well written.
- Then: complete, then clear and to the point.

## Choose
- **A / B is better**: one response is clearly better by the points above.
- **Tie** (3): both are about as good.
- **Both bad** (4): neither is acceptable (wrong, harmful, or off the question).
- **Flag** (f): the item itself is broken or unclear; add a note (n) saying why.

## Examples
`;
}

/** Creates the guidelines of `taskFile` from the template unless the file exists; says which it was. */
export async function createGuidelines(taskFile: string): Promise<{ file: string; created: boolean }> {
  const file = guidelinesPath(taskFile);
  try {
    await writeFile(file, guidelinesTemplate(taskFile), { flag: 'wx' }); // 'wx': fails on an existing file
    return { file, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { file, created: false };
    throw e;
  }
}
