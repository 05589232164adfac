// The coordinator's event log: every failover, promotion, fencing and repair, kept in the store
// (one key per event under events/, so an append is one small put, never a rewrite of the log) and
// logged as one JSON line through pino. The log is capped: once it holds more than `cap` events
// the oldest are deleted, so the store never grows with the cluster's age.
import { type ClusterEvent, encodeClusterEvent, parseClusterEvent } from '../../common/model.js';
import type { CoordStore } from '../../common/store/coord-store.js';
import { eventKey, eventsPrefix } from '../../common/store/keys.js';

export const DEFAULT_EVENT_CAP = 1000;
/** Appends between two prunes (a prune lists the whole log: cheap, but not on every append). */
const PRUNE_EVERY = 20;

/** pino's shape: an object of fields and a message. */
export type EventLogger = (fields: Record<string, unknown>, msg: string) => void;

export interface EventInput {
  type: string;
  group?: number;
  message: string;
  details?: Record<string, unknown>;
}

export class EventLog {
  private lastSeq = 0;
  private sinceprune = PRUNE_EVERY;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CoordStore,
    private readonly product: string,
    private readonly logger: EventLogger,
    private readonly cap = DEFAULT_EVENT_CAP,
  ) {}

  /**
   * Logs the event at once and writes it to the store in the background (in order). A store that
   * fails loses the stored copy only: the JSON log line is already out.
   */
  append(input: EventInput): ClusterEvent {
    // Sequence = wall-clock µs, kept increasing: unique across coordinators that follow each other.
    const seq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    this.lastSeq = seq;
    const event: ClusterEvent = { seq, at: new Date(Math.floor(seq / 1000)).toISOString(), ...input };
    this.logger({ event: event.type, group: event.group, ...event.details }, event.message);
    this.tail = this.tail.then(() => this.write(event)).catch((err: unknown) => {
      this.logger({ event: 'event-log-error' }, `could not store event ${event.type}: ${(err as Error).message}`);
    });
    return event;
  }

  /** Resolves when every appended event was written (tests, shutdown). */
  async flush(): Promise<void> {
    await this.tail;
  }

  private async write(event: ClusterEvent): Promise<void> {
    await this.store.put(eventKey(this.product, event.seq), encodeClusterEvent(event));
    if (++this.sinceprune >= PRUNE_EVERY) {
      this.sinceprune = 0;
      await this.prune();
    }
  }

  /** Deletes the oldest events beyond the cap. */
  async prune(): Promise<number> {
    const entries = await this.store.list(eventsPrefix(this.product));
    const excess = entries.length - this.cap;
    for (let i = 0; i < excess; i++) await this.store.delete(entries[i]!.key);
    return Math.max(0, excess);
  }

  /** The newest `limit` events (newest last), optionally of one group or type. */
  async list(opts: { limit?: number; group?: number; type?: string } = {}): Promise<ClusterEvent[]> {
    const out: ClusterEvent[] = [];
    for (const e of await this.store.list(eventsPrefix(this.product))) {
      try {
        const ev = parseClusterEvent(e.value);
        if (opts.group !== undefined && ev.group !== opts.group) continue;
        if (opts.type !== undefined && ev.type !== opts.type) continue;
        out.push(ev);
      } catch {
        /* not an event we can show */
      }
    }
    return out.slice(-(opts.limit ?? 100));
  }
}
