// The live state behind /api/v1/stream: one computation shared by every subscriber, however many
// browsers are open. Sections are the API's own reads (overview, groups, slots, proxies,
// migrations, events) plus the sampler's (stats, slotstats); each is JSON-encoded once per
// refresh and sent only when it changed (a subscriber starts with all of them, then gets deltas
// by section). When is it refreshed:
//   - store sections: on a store watch event under the product (debounced to one refresh per
//     MIN_REFRESH_MS), and every SAFETY_REFRESH_MS anyway (a watch that silently stalls);
//   - migrations: every MIGRATION_POLL_MS while one runs (its progress lives in the leader's memory);
//   - stats: every STATS_MS; slotstats every SLOT_STATS_MS.
// Nothing runs while nobody listens (no subscriber in the last GRACE_MS, and no GET /stats in the
// last DEMAND_MS).
import type { ServerResponse } from 'node:http';
import { SLOT_COUNT } from '../../common/slots.js';
import type { CoordStore, StoreWatch } from '../../common/store/coord-store.js';
import { productPrefix } from '../../common/store/keys.js';
import { Cluster, type GroupView, type ProxyView } from '../coordinator/cluster.js';
import type { LeaderView } from '../coordinator/leadership.js';
import { ReadMemo } from './read-memo.js';
import type { EventLog } from '../coordinator/events.js';
import type { Migrator } from '../coordinator/migrations.js';
import { type SampleTargets, type StatsSnapshot, StatsSampler } from './stats-sampler.js';

const MIN_REFRESH_MS = 250;
const SAFETY_REFRESH_MS = 5_000;
const MIGRATION_POLL_MS = 500;
const STATS_MS = 1_000;
const SLOT_STATS_MS = 5_000;
const DEMAND_MS = 30_000;
const HEARTBEAT_MS = 15_000;
/** How long the hub keeps running after its last subscriber left. */
const GRACE_MS = 5_000;
/** A new subscriber gets the last sections at once if they are at most this old. */
const REPLAY_MS = 10_000;
const EVENTS_SHOWN = 200;
/** A subscriber that has this much unsent is too slow: it is dropped (its browser reconnects). */
const MAX_BUFFERED = 4 << 20;
/** Subscribers at most (each is one socket). */
export const MAX_SUBSCRIBERS = 256;

export type SectionName = 'overview' | 'groups' | 'slots' | 'proxies' | 'migrations' | 'events' | 'stats' | 'slotstats';

export interface HubDeps {
  cluster: Cluster;
  leadership: LeaderView;
  migrator?: Migrator;
  events?: EventLog;
  /** For the watch; without it the store sections are polled every second. */
  store?: CoordStore;
  nodePassword: string | null;
  proxyAdminToken: string | null;
  log?: (msg: string) => void;
}

/** The slot table in the stream: owner per slot (0 = unassigned; a migrating slot's source), and the moves. */
export interface CompactSlots {
  revision: string;
  owner: number[];
  migrating: Array<[number, number, number]>;
  unassigned: number;
}

export class StreamHub {
  readonly sampler: StatsSampler;
  private readonly subscribers = new Set<ServerResponse>();
  private readonly encoded = new Map<SectionName, string>();
  private readonly json = new Map<SectionName, string>();
  private groups: GroupView[] = [];
  private proxies: ProxyView[] = [];
  private slotOwner: number[] = new Array<number>(SLOT_COUNT).fill(0);
  private latestStats: StatsSnapshot | null = null;
  private migrationsRunning = false;
  private demandUntil = 0;
  private timers: NodeJS.Timeout[] = [];
  private watch: StoreWatch | null = null;
  private dirty = false;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  private statsInFlight: Promise<void> | null = null;
  private closed = false;
  /** For tests and the README: how many times each part was computed. */
  readonly counters = { storeRefreshes: 0, statsSamples: 0, broadcasts: 0 };

  /** Reads through a memo (one store call per prefix per refresh) when the hub has the store. */
  private readonly memo: ReadMemo | null;
  private readonly reads: Cluster;

  constructor(private readonly d: HubDeps) {
    this.sampler = new StatsSampler(d.nodePassword, d.proxyAdminToken);
    this.memo = d.store ? new ReadMemo(d.store) : null;
    this.reads = this.memo ? new Cluster(this.memo.store, d.cluster.product, d.leadership) : d.cluster;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** What the stream is doing, for /api/v1/stream/status (and the test that measures its cost). */
  status(): { subscribers: number; active: boolean } & StreamHub['counters'] {
    return { subscribers: this.subscribers.size, active: this.timers.length > 0, ...this.counters };
  }

  /** Adds an SSE response: it gets every section now, then the changes. */
  subscribe(res: ServerResponse): boolean {
    if (this.subscribers.size >= MAX_SUBSCRIBERS || this.closed) return false;
    this.subscribers.add(res);
    res.on('close', () => {
      this.subscribers.delete(res);
      // Kept running a little: a page reload or a second tab finds everything computed.
      this.demandUntil = Math.max(this.demandUntil, Date.now() + GRACE_MS);
    });
    res.write('retry: 1000\n\n');
    res.write(frame('history', JSON.stringify(this.sampler.history())));
    // What the hub computed last, if it was running until just now (a page reload); otherwise the
    // sections follow as soon as the first refresh is done (a few ms).
    if (this.timers.length > 0 || Date.now() - this.lastRefresh < REPLAY_MS) for (const f of this.encoded.values()) res.write(f);
    else this.json.clear(); // idle for a while: the first refresh sends every section, changed or not
    this.activate();
    return true;
  }

  /** The latest stats (sampled now if there are none yet); keeps the sampler running a while. */
  async stats(): Promise<StatsSnapshot | null> {
    this.demandUntil = Date.now() + DEMAND_MS;
    this.activate();
    // After an idle spell the last sample is old: take a fresh one (the groups first, then the sample).
    if (!this.latestStats || Date.now() - this.latestStats.at > 2 * STATS_MS) {
      await this.refreshStore();
      await this.sampleStats();
    }
    return this.latestStats; // null: the first sample failed (the store did not answer; logged)
  }

  async close(): Promise<void> {
    this.closed = true;
    this.deactivate();
    for (const r of this.subscribers) r.end();
    this.subscribers.clear();
    await this.refreshing?.catch(() => {});
    await this.statsInFlight?.catch(() => {});
    this.sampler.close();
  }

  private active(): boolean {
    return !this.closed && (this.subscribers.size > 0 || Date.now() < this.demandUntil);
  }

  private activate(): void {
    if (this.timers.length > 0 || this.closed) return;
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => {
        if (!this.active()) return this.deactivate();
        fn();
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    const storeTick = this.d.store ? MIN_REFRESH_MS : 1_000;
    every(storeTick, () => {
      const due = Date.now() - this.lastRefresh >= (this.d.store ? SAFETY_REFRESH_MS : 1_000);
      if (this.dirty || due) void this.refreshStore();
    });
    every(MIGRATION_POLL_MS, () => {
      if (this.migrationsRunning) void this.refreshSections(['migrations']);
    });
    every(STATS_MS, () => void this.sampleStats());
    every(SLOT_STATS_MS, () => void this.sampleSlotStats());
    every(HEARTBEAT_MS, () => this.send(': ping\n\n'));
    void this.startWatch();
    void this.refreshStore().then(() => Promise.all([this.sampleStats(), this.sampleSlotStats()]));
  }

  private deactivate(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.watch?.cancel();
    this.watch = null;
  }

  private async startWatch(): Promise<void> {
    const store = this.d.store;
    if (!store) return;
    while (this.timers.length > 0 && !this.closed) {
      try {
        const w = await store.watch(productPrefix(this.d.cluster.product));
        if (this.timers.length === 0) return w.cancel();
        this.watch = w;
        // Any change under the product marks the store sections dirty; the tick refreshes them.
        for await (const _ev of w) this.dirty = true;
        if (this.watch !== w) return; // cancelled by deactivate()
      } catch (err) {
        this.d.log?.(`dashboard stream: store watch failed (${(err as Error).message}); polling until it is back`);
      }
      this.watch = null;
      this.dirty = true;
      await new Promise((r) => setTimeout(r, 1_000).unref());
    }
  }

  private refreshStore(): Promise<void> {
    this.dirty = false;
    this.lastRefresh = Date.now();
    return this.refreshSections(['overview', 'groups', 'slots', 'proxies', 'migrations', 'events']);
  }

  /** One refresh at a time; a refresh asked for meanwhile runs right after (so no change is missed). */
  private refreshSections(names: SectionName[]): Promise<void> {
    if (this.refreshing) {
      if (names.length > 1) this.dirty = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        if (names.length > 1) this.counters.storeRefreshes++;
        this.memo?.clear();
        // Each section goes out as soon as it is read (a first page load shows the map before the events).
        await Promise.all(names.map(async (n) => this.publish(n, await this.read(n))));
      } catch (err) {
        this.d.log?.(`dashboard stream: refresh failed: ${(err as Error).message}`);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async read(name: SectionName): Promise<unknown> {
    const { migrator, events } = this.d;
    const cluster = this.reads;
    switch (name) {
      case 'overview':
        return cluster.overview();
      case 'groups':
        this.groups = await cluster.listGroups();
        return { groups: this.groups };
      case 'slots':
        return this.compactSlots(await cluster.slotTable());
      case 'proxies': {
        const p = await cluster.proxies();
        this.proxies = p.proxies;
        return p;
      }
      case 'migrations': {
        const list = migrator ? await migrator.list() : [];
        this.migrationsRunning = list.some((m) => m.state === 'running' || m.state === 'cancelling');
        return { migrations: list };
      }
      case 'events':
        return { events: events ? (await events.list({ limit: EVENTS_SHOWN })).reverse() : [] };
      default:
        return null;
    }
  }

  private compactSlots(table: Awaited<ReturnType<Cluster['slotTable']>>): CompactSlots {
    const owner = new Array<number>(SLOT_COUNT).fill(0);
    const migrating: Array<[number, number, number]> = [];
    for (const s of table.slots) {
      if (s.state.kind === 'online') owner[s.id] = s.state.group;
      else if (s.state.kind === 'migrating') {
        owner[s.id] = s.state.from;
        migrating.push([s.id, s.state.from, s.state.to]);
      }
    }
    this.slotOwner = owner;
    return { revision: table.revision, owner, migrating, unassigned: table.unassigned };
  }

  private targets(): SampleTargets {
    return {
      groups: this.groups.map((g) => ({ id: g.id, servers: g.servers, master: g.master })),
      proxies: this.proxies.map((p) => ({ id: p.id, admin: p.admin, listen: p.listen })),
      slotsOf: (group) => {
        const out: number[] = [];
        for (let s = 0; s < SLOT_COUNT; s++) if (this.slotOwner[s] === group) out.push(s);
        return out;
      },
    };
  }

  private sampleStats(): Promise<void> {
    // A sample still running (a node timing out) is not stacked on.
    this.statsInFlight ??= (async () => {
      try {
        this.counters.statsSamples++;
        this.latestStats = await this.sampler.sample(this.targets());
        this.publish('stats', this.latestStats);
      } catch (err) {
        this.d.log?.(`dashboard stream: stats failed: ${(err as Error).message}`);
      } finally {
        this.statsInFlight = null;
      }
    })();
    return this.statsInFlight;
  }

  private async sampleSlotStats(): Promise<void> {
    if (this.subscribers.size === 0) return; // only the stream shows them
    try {
      this.publish('slotstats', await this.sampler.slotStats(this.targets()));
    } catch (err) {
      this.d.log?.(`dashboard stream: slot stats failed: ${(err as Error).message}`);
    }
  }

  /** Encodes a section once and sends it to every subscriber if it changed. */
  private publish(name: SectionName, value: unknown): void {
    const json = JSON.stringify(value);
    if (this.json.get(name) === json) return;
    this.json.set(name, json);
    const f = frame(name, json);
    this.encoded.set(name, f);
    this.counters.broadcasts++;
    this.send(f);
  }

  private send(text: string): void {
    for (const r of this.subscribers) {
      if (r.writableLength > MAX_BUFFERED) {
        r.destroy();
        this.subscribers.delete(r);
        continue;
      }
      r.write(text);
    }
  }
}

function frame(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
