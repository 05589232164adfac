// Turns pushed watch events into a StoreWatch (async iterable + cancel). Backends push; consumers pull.
// Buffers events until read, so a slow consumer never loses one.

import type { StoreWatch, WatchEvent } from './coord-store.js';

export class WatchStream implements StoreWatch {
  private readonly queue: WatchEvent[] = [];
  private waiter: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  private failure: Error | null = null;

  /** @param onCancel releases the backend's resources; called once, on cancel() or end(). */
  constructor(private readonly onCancel: () => void) {}

  get closed(): boolean {
    return this.ended;
  }

  push(event: WatchEvent): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  /** Ends the stream with an error, delivered after the buffered events. */
  fail(err: Error): void {
    if (this.ended) return;
    this.failure = err;
    this.finish();
  }

  cancel(): void {
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onCancel();
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      if (this.failure) w.reject(this.failure);
      else w.resolve({ value: undefined, done: true });
    }
  }

  private next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.queue.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      // `break` out of for-await cancels the watch.
      return: () => {
        this.cancel();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
