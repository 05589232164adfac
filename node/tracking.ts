// Client-side caching (CLIENT TRACKING), as Redis 7.0 does it. Default mode: the keys a tracking
// client reads are remembered (by name, whatever the db, as Redis), and the first change of one
// sends that client an invalidation and forgets the key. BCAST mode: every change of a key under
// one of the client's prefixes is announced, batched per prefix after the running I/O turn.
// Invalidations are RESP3 pushes (>2 invalidate [keys]), or, redirected to a RESP2 client in
// pub/sub mode, messages on __redis__:invalidate. A change made by the client itself is told
// after its command's reply (after EXEC's, in a transaction); with NOLOOP, not at all.
import type { Session } from './session.js';

export const INVALIDATE_CHANNEL = '__redis__:invalidate';

export interface TrackingState {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** Client id invalidations go to (0: this client). */
  redirect: number;
  /** BCAST prefixes (sorted, as Redis lists them). */
  prefixes: string[];
  /** CLIENT CACHING yes/no given for the next command (or transaction). */
  caching: boolean;
  /** The redirect target went away (TRACKINGINFO broken_redirect). */
  brokenRedirect: boolean;
}

interface Prefix {
  clients: Set<Session>;
  /** Keys changed since the last broadcast → who changed them (null: no client, e.g. expiry). */
  pending: Map<string, Session | null>;
}

export class Tracking {
  /**
   * Default mode: key → ids of the clients that may hold it (ids, as Redis, so a client gone keeps
   * nothing alive: its ids are skipped when the key changes).
   */
  private readonly keys = new Map<string, Set<number>>();
  /** Clients with tracking on, by id. */
  private readonly byId = new Map<number, Session>();
  private readonly prefixes = new Map<string, Prefix>();
  /** The client whose command is running (its own invalidations wait for its reply). */
  current: Session | null = null;
  /** Invalidations for `current`, sent after its command: key names, null = a flush. */
  private pendingSelf: Array<string | null> = [];
  private broadcastQueued = false;
  private readonly unflushed = new Set<Session>();

  constructor(
    private readonly clientById: (id: number) => Session | undefined,
    /** tracking-table-max-keys (0: no bound). */
    private readonly maxKeys: () => number,
  ) {}

  /** True while any client tracks (writes skip everything else otherwise). */
  get active(): boolean {
    return this.byId.size > 0 || this.keys.size > 0;
  }

  get trackingClients(): number {
    return this.byId.size;
  }

  /** Keys remembered in default mode (INFO tracking_total_keys). */
  get totalKeys(): number {
    return this.keys.size;
  }

  /** Client entries over all remembered keys (INFO tracking_total_items). */
  get totalItems(): number {
    let n = 0;
    for (const set of this.keys.values()) n += set.size;
    return n;
  }

  get totalPrefixes(): number {
    return this.prefixes.size;
  }

  enable(s: Session, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean; redirect: number; prefixes: string[] }): void {
    const prev = s.tracking;
    this.byId.set(s.id, s);
    const state: TrackingState = {
      bcast: opts.bcast,
      optin: opts.optin,
      optout: opts.optout,
      noloop: opts.noloop,
      redirect: opts.redirect,
      prefixes: prev?.bcast ? prev.prefixes : [],
      caching: false,
      brokenRedirect: false,
    };
    s.tracking = state;
    if (!opts.bcast) return;
    const mine = new Set(state.prefixes);
    for (const p of opts.prefixes.length === 0 ? [''] : opts.prefixes) {
      if (mine.has(p)) continue;
      mine.add(p);
      let entry = this.prefixes.get(p);
      if (entry === undefined) this.prefixes.set(p, (entry = { clients: new Set(), pending: new Map() }));
      entry.clients.add(s);
    }
    state.prefixes = [...mine].sort();
  }

  /** CLIENT TRACKING off, RESET, disconnect. Its remembered keys are dropped lazily, as Redis. */
  disable(s: Session): void {
    const state = s.tracking;
    if (state === null) return;
    s.tracking = null;
    this.byId.delete(s.id);
    for (const p of state.prefixes) {
      const entry = this.prefixes.get(p);
      if (entry === undefined) continue;
      entry.clients.delete(s);
      if (entry.clients.size === 0) this.prefixes.delete(p);
    }
  }

  /** After a read-only command of a tracking client (default mode): remember its keys. */
  remember(s: Session, keys: readonly string[]): void {
    const state = s.tracking!;
    if ((state.optin && !state.caching) || (state.optout && state.caching)) return;
    for (const key of keys) {
      let set = this.keys.get(key);
      if (set === undefined) this.keys.set(key, (set = new Set()));
      set.add(s.id);
    }
    // Bounded like Redis's tracking-table-max-keys: the oldest keys are dropped, and whoever may
    // hold them is told to forget them (so no cache keeps a key nobody would invalidate).
    const max = this.maxKeys();
    while (max > 0 && this.keys.size > max) {
      const [oldest, holders] = this.keys.entries().next().value!;
      this.keys.delete(oldest);
      for (const id of holders) {
        const c = this.byId.get(id);
        if (c === undefined || c.tracking!.bcast) continue;
        if (c === this.current) this.pendingSelf.push(oldest);
        else this.send(c, [oldest]);
      }
    }
  }

  /** A key changed (written, deleted, expired, evicted): tell who may hold it. */
  invalidate(key: string): void {
    const writer = this.current;
    if (this.prefixes.size > 0) this.noteForBroadcast(key, writer);
    const holders = this.keys.get(key);
    if (holders === undefined) return;
    this.keys.delete(key);
    for (const id of holders) {
      const c = this.byId.get(id);
      if (c === undefined) continue;
      const state = c.tracking!;
      if (state.bcast) continue;
      if (state.noloop && c === writer) continue;
      if (c === writer) this.pendingSelf.push(key);
      else this.send(c, [key]);
    }
  }

  /** FLUSHALL / FLUSHDB / a full resync: every tracking client hears a null invalidation. */
  flushed(): void {
    for (const c of this.byId.values()) {
      if (c === this.current) this.pendingSelf.push(null);
      else this.send(c, null);
    }
    this.keys.clear();
  }

  /** After the running client's command: its own invalidations, one per key, after its reply. */
  afterCommand(s: Session): void {
    this.current = null;
    if (this.pendingSelf.length === 0) return;
    const pending = this.pendingSelf;
    this.pendingSelf = [];
    for (const key of pending) this.send(s, key === null ? null : [key]);
  }

  /**
   * Queues `key` under every prefix it starts with: by walking the prefixes or the key's own
   * leading substrings, whichever are fewer (Redis walks a radix tree), so neither many prefixes
   * nor a long key makes every write slow.
   */
  private noteForBroadcast(key: string, writer: Session | null): void {
    if (this.prefixes.size <= key.length + 1) {
      for (const [prefix, entry] of this.prefixes) if (key.startsWith(prefix)) this.queue(entry, key, writer);
    } else {
      for (let n = 0; n <= key.length; n++) {
        const entry = this.prefixes.get(key.slice(0, n));
        if (entry !== undefined) this.queue(entry, key, writer);
      }
    }
  }

  private queue(entry: Prefix, key: string, writer: Session | null): void {
    entry.pending.set(key, writer);
    if (this.broadcastQueued) return;
    this.broadcastQueued = true;
    setImmediate(() => this.broadcast());
  }

  /** Sends each prefix's changed keys (sorted, as Redis's radix tree gives them) to its clients. */
  private broadcast(): void {
    this.broadcastQueued = false;
    for (const entry of this.prefixes.values()) {
      if (entry.pending.size === 0) continue;
      const changed = [...entry.pending].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      entry.pending.clear();
      for (const c of entry.clients) {
        if (c.closed || c.tracking === null) continue;
        const keys = c.tracking.noloop ? changed.filter(([, w]) => w !== c) : changed;
        if (keys.length > 0) this.send(c, keys.map(([k]) => k));
      }
    }
  }

  /** One invalidation (keys, or null for a flush) to a client or where it redirects them. */
  private send(c: Session, keys: string[] | null): void {
    const state = c.tracking;
    let target = c;
    if (state !== null && state.redirect !== 0) {
      const r = this.clientById(state.redirect);
      if (r === undefined || r.closed) {
        state.brokenRedirect = true;
        if (c.w.resp === 3) {
          c.w.push(2);
          c.w.bulk('tracking-redir-broken');
          c.w.integer(state.redirect);
          this.flushSoon(c);
        }
        return;
      }
      target = r;
    }
    const w = target.w;
    if (w.resp === 3) {
      w.push(2);
      w.bulk('invalidate');
    } else if (target !== c && target.inPubSubContext) {
      w.push(3);
      w.bulk('message');
      w.bulk(INVALIDATE_CHANNEL);
    } else return; // RESP2 without a redirect: nowhere to say it
    if (keys === null) w.null();
    else w.bulkArray(keys);
    this.flushSoon(target);
  }

  /** Flushes after the running batch (a microtask), never inside someone's reply (as pub/sub). */
  private flushSoon(s: Session): void {
    if (this.unflushed.size === 0) {
      queueMicrotask(() => {
        try {
          for (const c of this.unflushed) if (!c.closed) c.flush();
        } finally {
          this.unflushed.clear();
        }
      });
    }
    this.unflushed.add(s);
  }
}
