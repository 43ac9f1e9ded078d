/**
 * How DAP Studio writes a duration (ETAs, run times) everywhere: the CLI's progress lines, the status
 * bar, the loss panel. Imports nothing, so the webview bundles use it too.
 */

/** Seconds as 1h02m / 3m05s / 12s (negative: 0s; not a number: ?). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const t = Math.max(0, Math.round(seconds));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
