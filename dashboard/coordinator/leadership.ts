// One active coordinator per product: every instance campaigns for the store's leader lock
// (common/store/leader-lock.ts); the winner is the leader, the others wait in line as standbys and
// serve reads. A leader that loses its lease (store unreachable too long, key deleted) steps down
// at once and campaigns again. Writes are fenced: each store txn the leader makes also requires
// its lock key to be unchanged, so a deposed leader can never write, even before it notices.
import { EventEmitter } from 'node:events';
import { type CoordinatorInfo, encodeCoordinatorInfo, parseCoordinatorInfo } from '../../common/model.js';
import type { CoordStore, LeaderLease, TxnCompare } from '../../common/store/coord-store.js';
import { leaderKey } from '../../common/store/keys.js';
import { reportingStoreErrors } from './store-errors.js';

/** Wait before campaigning again after the store failed or leadership was lost. */
const RECAMPAIGN_MS = 500;

export type Role = 'standby' | 'leader' | 'stopped';

export interface LeadershipEvents {
  /** This instance became the leader (the place to resume work). */
  elected: [];
  /** This instance lost leadership without resigning. */
  deposed: [reason: string];
}

/** What the API layer needs from leadership (a fake in unit tests). */
export interface LeaderView {
  readonly role: Role;
  readonly self: CoordinatorInfo;
  /** The compare that fences a write to this leader's term; throws NotLeaderError otherwise. */
  fence(): TxnCompare;
  /** Whether this instance's term is still current in the store (after a failed fenced txn). */
  stillLeader(): Promise<boolean>;
  /** Every live candidate in line order: the first leads, the rest are standbys. */
  candidates(): Promise<CoordinatorInfo[]>;
}

export class NotLeaderError extends Error {
  override name = 'NotLeaderError';
}

export class Leadership extends EventEmitter<LeadershipEvents> implements LeaderView {
  role: Role = 'standby';
  private lease: LeaderLease | null = null;
  private stopped = false;

  private readonly store: CoordStore;

  constructor(
    store: CoordStore,
    private readonly product: string,
    readonly self: CoordinatorInfo,
    private readonly ttlSeconds: number,
    private readonly log: (msg: string) => void,
  ) {
    super();
    this.store = reportingStoreErrors(store);
  }

  /** Campaigns in the background until stop(). */
  start(): void {
    void this.campaignLoop();
  }

  private async campaignLoop(): Promise<void> {
    while (!this.stopped) {
      let lease: LeaderLease;
      try {
        lease = await this.store.campaign(leaderKey(this.product), encodeCoordinatorInfo(this.self), this.ttlSeconds);
      } catch (err) {
        if (this.stopped) return;
        this.log(`campaign failed (${(err as Error).message}); retrying`);
        await delay(RECAMPAIGN_MS);
        continue;
      }
      if (this.stopped) {
        await lease.resign().catch(() => {});
        return;
      }
      this.lease = lease;
      this.role = 'leader';
      this.log(`elected leader of product ${this.product}`);
      this.emit('elected');
      const reason = await new Promise<string>((r) => lease.onLost((err) => r(err.message)));
      if (this.stopped) return;
      this.lease = null;
      this.role = 'standby';
      this.log(`lost leadership (${reason}); standing by`);
      this.emit('deposed', reason);
      await delay(RECAMPAIGN_MS);
    }
  }

  fence(): TxnCompare {
    const lease = this.lease;
    if (this.role !== 'leader' || lease === null) throw new NotLeaderError('this coordinator is a standby');
    return { key: lease.key, revision: lease.revision };
  }

  async stillLeader(): Promise<boolean> {
    const lease = this.lease;
    if (lease === null) return false;
    const entry = await this.store.get(lease.key);
    return entry !== null && entry.revision === lease.revision;
  }

  async candidates(): Promise<CoordinatorInfo[]> {
    const { entries } = await this.store.snapshot(`${leaderKey(this.product)}/`);
    const inLine = [...entries].sort((a, b) => (BigInt(a.createRevision) < BigInt(b.createRevision) ? -1 : 1));
    const out: CoordinatorInfo[] = [];
    for (const e of inLine) {
      try {
        out.push(parseCoordinatorInfo(e.value));
      } catch {
        this.log(`ignoring a leader-lock candidate that is not a coordinator: ${e.key}`);
      }
    }
    return out;
  }

  /** Resigns (a standby takes over at once, without waiting for the TTL). */
  async stop(): Promise<void> {
    this.stopped = true;
    const lease = this.lease;
    this.lease = null;
    this.role = 'stopped';
    await lease?.resign().catch(() => {});
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
