/**
 * The annotator's bookkeeping of saves: every judgment, undo and flag posted to the host is kept until
 * the host answers `saved`; one answered `notSaved` (the log could not be written, e.g. a full disk) moves
 * to the unsaved list, oldest first, which is persisted with the view state and posted again by Retry.
 * Nothing the user did is dropped while the host cannot save it.
 */
import type { AnnotatorWebviewToHost, SaveRequest } from '../protocol/annotator';

export class SaveTracker {
  private readonly inFlight = new Map<number, SaveRequest>();
  private pending: SaveRequest[];

  constructor(restored: readonly SaveRequest[] = []) {
    this.pending = [...restored];
  }

  /** Requests the host could not save, oldest first. */
  get unsaved(): readonly SaveRequest[] {
    return this.pending;
  }

  /** Records a request just posted. */
  sent(request: SaveRequest): void {
    this.inFlight.set(request.requestId, request);
  }

  /** The host saved request `requestId`. */
  saved(requestId: number): void {
    this.inFlight.delete(requestId);
  }

  /** The host could not save request `requestId`: it is kept for retry; returns it (undefined if unknown). */
  failed(requestId: number): SaveRequest | undefined {
    const request = this.inFlight.get(requestId);
    if (!request) return undefined;
    this.inFlight.delete(requestId);
    this.pending.push(request);
    return request;
  }

  /**
   * Empties the unsaved list for a retry: returns the messages to post, in order — each request again with
   * a new id from `nextId` (tracked as sent), a judgment preceded by a navigation to its item when that item
   * is not the one shown (the host only takes a judgment of the item on screen).
   */
  retry(shownItemId: string | undefined, nextId: () => number): AnnotatorWebviewToHost[] {
    const out: AnnotatorWebviewToHost[] = [];
    let shown = shownItemId;
    for (const r of this.pending) {
      if (r.type === 'judge' && r.itemId !== shown) {
        out.push({ type: 'navigate', requestId: nextId(), target: { kind: 'id', id: r.itemId } });
        shown = r.itemId;
      }
      const again = { ...r, requestId: nextId() };
      this.sent(again);
      out.push(again);
    }
    this.pending = [];
    return out;
  }
}
