// Leader lock built only from store primitives (lease key + snapshot + watch), shared by all backends.
// Each candidate holds an ephemeral key `${name}/<random>`; the lowest create revision leads. We do not
// use etcd3's Election: its observer can report the wrong leader (toolchain notes §4, gotcha 1).

import { randomBytes } from 'node:crypto';
import type { CoordStore, EphemeralKey, LeaderLease, StoreWatch } from './coord-store.js';

type Primitives = Pick<CoordStore, 'putEphemeral' | 'snapshot' | 'watch'>;

class StoreLeaderLease implements LeaderLease {
  private readonly listeners: ((err: Error) => void)[] = [];
  private lostWith: Error | null = null;
  private resigned = false;

  constructor(
    readonly name: string,
    readonly id: string,
    private readonly mine: EphemeralKey,
    private readonly watch: StoreWatch,
  ) {}

  get key(): string {
    return this.mine.key;
  }

  get revision(): string {
    return this.mine.revision;
  }

  async resign(): Promise<void> {
    this.resigned = true;
    this.watch.cancel();
    await this.mine.revoke();
  }

  onLost(listener: (err: Error) => void): void {
    if (this.lostWith) listener(this.lostWith);
    else this.listeners.push(listener);
  }

  markLost(err: Error): void {
    if (this.resigned || this.lostWith) return;
    this.lostWith = err;
    this.watch.cancel();
    this.mine.revoke().catch(() => {}); // best effort: the lease may already be gone
    for (const l of this.listeners) l(err);
  }
}

/** The candidate key with the lowest create revision, or null when nobody campaigns. */
function firstInLine(created: Map<string, bigint>): string | null {
  let best: string | null = null;
  let bestRev = 0n;
  for (const [key, rev] of created) {
    if (best === null || rev < bestRev) {
      best = key;
      bestRev = rev;
    }
  }
  return best;
}

export async function campaignOn(store: Primitives, name: string, id: string, ttlSeconds: number): Promise<LeaderLease> {
  const prefix = `${name}/`;
  const mine = await store.putEphemeral(prefix + randomBytes(8).toString('hex'), id, ttlSeconds);
  let created: Map<string, bigint>;
  let watch: StoreWatch;
  try {
    const snap = await store.snapshot(prefix);
    created = new Map(snap.entries.map((e) => [e.key, BigInt(e.createRevision)]));
    watch = await store.watch(prefix, (BigInt(snap.revision) + 1n).toString());
  } catch (err) {
    await mine.revoke().catch(() => {});
    throw err;
  }
  const lease = new StoreLeaderLease(name, id, mine, watch);

  return new Promise<LeaderLease>((resolve, reject) => {
    let won = false;
    const lose = (err: Error): void => {
      if (won) {
        lease.markLost(err);
      } else {
        watch.cancel();
        mine.revoke().catch(() => {});
        reject(err);
      }
    };
    const check = (): void => {
      if (!created.has(mine.key)) throw new Error(`leader lock ${name}: our key ${mine.key} disappeared`);
      if (!won && firstInLine(created) === mine.key) {
        won = true;
        resolve(lease);
      }
    };
    mine.onLost(lose);
    void (async () => {
      try {
        check();
        for await (const ev of watch) {
          if (ev.type === 'delete') created.delete(ev.key);
          else if (!created.has(ev.key)) created.set(ev.key, BigInt(ev.revision));
          check();
        }
        // The watch ended: resign() (ignored by markLost) or the store was closed.
        lose(new Error(`leader lock ${name}: store closed`));
      } catch (err) {
        lose(err instanceof Error ? err : new Error(String(err)));
      }
    })();
  });
}

export async function leaderOf(store: Pick<CoordStore, 'snapshot'>, name: string): Promise<string | null> {
  const { entries } = await store.snapshot(`${name}/`);
  let best: { rev: bigint; id: string } | null = null;
  for (const e of entries) {
    const rev = BigInt(e.createRevision);
    if (!best || rev < best.rev) best = { rev, id: e.value };
  }
  return best ? best.id : null;
}
