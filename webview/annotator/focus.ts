/** Focus rules of the annotator page: which keys are the page's shortcuts, and buttons that give focus back. */

/** True when the key went to a text field (note, jump or find box): the field keeps its keys. */
export function inTextField(e: KeyboardEvent): boolean {
  return e.composedPath().some((n) => {
    const tag = (n as HTMLElement).tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'VSCODE-TEXTFIELD' || tag === 'VSCODE-TEXTAREA';
  });
}

/** Clicked buttons give focus back, so Enter/Space cannot re-click them on the next item. */
export function releaseFocus(): void {
  const el = document.activeElement as HTMLElement | null;
  if (el && el.tagName === 'VSCODE-BUTTON') el.blur();
}
