/**
 * Following a run's metrics.jsonl while another process appends to it (`dap train`, another window's
 * worker, an executor): every new complete line's event, in order, from a byte offset on. A line still
 * being written is read once it ends. Lines come from the data core's JSONL reader, by byte offset, so a
 * character split across two appends is never garbled; a bad line is skipped (the runs view reports it).
 */
import { statSync, unwatchFile, watchFile, type StatsListener } from 'node:fs';
import { readJsonlLines } from '../../core/jsonl';
import { parseEventLine, type TrainEvent } from './events';

export class MetricsTail {
  private offset: number;
  private reading: Promise<void> | null = null;
  private pending = false;
  private closed = false;
  private readonly listener: StatsListener;

  /** Tails `file` from byte `startOffset` (usually its size when the events before were replayed). */
  constructor(
    private readonly file: string,
    startOffset: number,
    private readonly onEvents: (events: TrainEvent[]) => void,
    intervalMs = 1000,
  ) {
    this.offset = startOffset;
    this.listener = () => void this.poll();
    watchFile(file, { interval: intervalMs }, this.listener);
  }

  /** Reads what was appended since the last read (the file watcher calls it; reads never overlap). */
  poll(): Promise<void> {
    if (this.reading) {
      this.pending = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => {
      this.reading = null;
      if (this.pending && !this.closed) {
        this.pending = false;
        void this.poll();
      }
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size <= this.offset) return;
    const events: TrainEvent[] = [];
    for await (const line of readJsonlLines(this.file, { startOffset: this.offset })) {
      if (!line.terminated) break;
      this.offset = line.offset + line.byteLength + 1;
      if (line.text.trim() === '') continue;
      try {
        events.push(parseEventLine(line.text, this.file));
      } catch {
        // A bad line mid-file: the runs view reports it; the chart skips it.
      }
    }
    if (events.length && !this.closed) this.onEvents(events);
  }

  dispose(): void {
    this.closed = true;
    unwatchFile(this.file, this.listener);
  }
}
