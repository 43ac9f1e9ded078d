/**
 * Run ids: the name of a run's folder (runs/RUN_ID), METHOD-YYYYMMDD-HHMMSS-xxxx, so a listing sorted by name is
 * sorted by start time within a method. The config fills `runId` with one when a caller gives none.
 */

/** A new sortable run id: METHOD-YYYYMMDD-HHMMSS-xxxx (UTC time of `now`, 4 random hex digits). */
export function newRunId(method: string, now = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${method}-${iso}-${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`;
}
