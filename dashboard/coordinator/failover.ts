// Automatic failover and planned switchover of a group's master (issue 9,
// ../shared/ARCHITECTURE.md "Coordinator"). The leader runs it; every step is written to the
// store (the group's failover record, failovers/NNNN) BEFORE it takes effect, so a coordinator
// that dies anywhere is succeeded by one that finishes from the record:
//
//   promoting  (one fenced txn: epoch+2 by compare-and-swap, the record naming old and new master)
//              → the old master, if it answers, fenced at epoch+1 and the replica drained to its
//                offset (fenceAndDrain); REPLICAOF NO ONE on the chosen replica; TESSERA.SLOTS SET <epoch> its group's
//                slots OWNED (so it serves them, confirmed, at an epoch no old master has)
//   switching  → the group in the store names the new master (proxies switch on the watch);
//                every other group's master is reconciled (its NONE OWNER names the new master);
//                the other replicas get REPLICAOF <new master> (they PSYNC with the old replid,
//                which the new master keeps as replid2: +CONTINUE, no full sync)
//   done       → paused migrations of the group resume; the group is held down (no automatic
//                failover) for holdDownMs, so a flapping server is not promoted back and forth.
// Every step is idempotent (REPLICAOF of the current master is a no-op, SET at the same epoch and
// state answers OK), which is what makes re-running a step after a crash safe.
//
// The old master. An automatic failover REMOVES it from the group (kept in the record as pending):
// proxies close their connections to a server that is in no group, failing whatever they had in
// flight to it, so a partitioned (SIGSTOP'd) old master that wakes up can never answer OK through
// a proxy for a write the new master does not have. When it answers again — restarted (its slot
// ownership is unconfirmed: it refuses writes by itself) or woken up (it still believes it owns the
// slots at the old epoch) — it is fenced at once (TESSERA.SLOTS SET at the current epoch: every
// slot NONE OWNER <its owner>), made a replica of the new master (it resyncs), and only then put
// back in the group as a replica. A planned switchover keeps it (it is reachable and under our
// control): writes are paused on it (CLIENT PAUSE WRITE), the replica catches up to its offset,
// the switch happens, it is fenced, unpaused (its held writes answer -MOVED to the new master,
// which the proxy follows) and made a replica: zero lost writes.
//
// The remaining window (documented in docs/operations.md "Failover"): a client connected
// DIRECTLY to an old master that was partitioned, not dead, can get OK for writes it sends after
// the promotion and before the fence reaches it (Redis Cluster has the same window); those writes
// are lost when it resyncs. Through proxies there is no such window.
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_FAILOVER_SETTINGS, type FailoverRecord, type FailoverSettings, type Group, encodeFailoverRecord, encodeGroup,
  masterOf, parseFailoverRecord, parseFailoverSettings, parseGroup, parseMigration, parseProxyInfo, slotTable,
} from '../../common/model.js';
import type { CoordStore, StoreEntry } from '../../common/store/coord-store.js';
import { failoverKey, failoverSettingsKey, failoversPrefix, groupKey, groupsPrefix, migrationsPrefix, proxiesPrefix } from '../../common/store/keys.js';
import { ApiError, conflict, notFound } from '../api-error.js';
import type { EventLog } from './events.js';
import { HealthTable, type NodeProbe, type ProbeResult, type ServerHealth, chooseReplica } from './health.js';
import { type LeaderView, NotLeaderError } from './leadership.js';
import { type NodeApi, compactSlots } from './node-client.js';
import { NodeLinks, splitAddr } from './node-links.js';
import { type ClusterState, type Reconciler, type Serial, desiredRanges, epochBump, readClusterState } from './reconcile.js';

/** The replication commands a failover sends (REPLICAOF, CLIENT PAUSE/UNPAUSE). */
export interface ReplicationAdmin {
  /** null: REPLICAOF NO ONE. */
  replicaOf(addr: string, master: string | null): Promise<void>;
  pauseWrites(addr: string, ms: number): Promise<void>;
  unpause(addr: string): Promise<void>;
  close(): Promise<void>;
}

/** What failover needs of the migration module: pause / resume a slot list's moves. */
export interface MigrationPauser {
  pause(selector: string, paused: boolean): Promise<{ changed: number }>;
}

export interface FailoverDeps {
  store: CoordStore;
  product: string;
  leader: LeaderView;
  nodes: NodeApi;
  repl: ReplicationAdmin;
  probe: NodeProbe;
  reconciler: Reconciler;
  serial: Serial;
  events: EventLog;
  migrations?: MigrationPauser;
  log: (msg: string) => void;
}

/** A planned switchover waits at most this long for the replica to reach the master's offset. */
const CATCH_UP_MS = 5_000;
/** CLIENT PAUSE of a planned switchover: ended by UNPAUSE; this only bounds a coordinator crash. */
const PAUSE_MS = 10_000;
/** A planned switchover waits at most this long for live proxies to apply the switched group. */
const PROXY_WAIT_MS = 2_000;
/** REPLICAOF / CLIENT PAUSE are quick on a node (REPLICAOF only starts the sync): a slow one means trouble. */
const REPL_CALL_TIMEOUT_MS = 3_000;
/** A server that needs repair (REPLICAOF) is told at most this often. */
const REPAIR_EVERY_MS = 2_000;

export interface GroupStatus {
  group: number;
  master: string | null;
  /** The master has not answered for longer than down-after. */
  masterDown: boolean;
  masterDownForMs: number;
  downAfterMs: number;
  servers: ServerHealth[];
  failover: FailoverRecord | null;
  /** Why a down master cannot be replaced (no promotable replica), null otherwise. */
  blocked: string | null;
  holdDownUntil: string | null;
}

export class Failover {
  readonly health: HealthTable;
  readonly stats = { failovers: 0, planned: 0, fenced: 0, repairs: 0, blocked: 0 };
  private settings: FailoverSettings = { ...DEFAULT_FAILOVER_SETTINGS };
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private running = false;
  private readonly holdUntil = new Map<number, number>();
  private readonly blocked = new Map<number, string>();
  /** Servers reported down (an event each) and not yet back: masters with auto off, replicas. */
  private readonly reportedDown = new Set<string>();
  private readonly repairedAt = new Map<string, number>();
  /** Groups with a failover in progress in this process (auto or planned). */
  private readonly busy = new Set<number>();
  private groups: Group[] = [];
  /** Tests: throw once after this phase's record is written (a coordinator dying mid-failover). */
  crashAfter: 'promoting' | 'switching' | null = null;

  constructor(private readonly d: FailoverDeps) {
    this.health = new HealthTable(d.probe);
  }

  // ---- leadership ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((err: unknown) => {
        if (!(err instanceof NotLeaderError)) this.d.log(`failover tick: ${(err as Error).message}`);
      }).finally(() => {
        this.ticking = null;
        this.schedule(this.settings.healthIntervalMs);
      });
    }, ms);
  }

  // ---- the loop ----

  async tick(): Promise<void> {
    const [groupEntries, settingsEntry, records] = await Promise.all([
      this.d.store.list(groupsPrefix(this.d.product)), this.d.store.get(failoverSettingsKey(this.d.product)), this.records(),
    ]);
    this.settings = settingsEntry ? parseFailoverSettings(settingsEntry.value) : { ...DEFAULT_FAILOVER_SETTINGS };
    this.groups = groupEntries.map((e) => parseGroup(e.value));
    // Half of down-after: a server must miss two probes in a row to be down.
    const timeoutMs = Math.max(100, Math.min(1000, Math.floor(this.settings.downAfterMs / 2)));
    const pendingOld = [...records.values()].filter((r) => r.phase === 'done').flatMap(pendingMasters);
    // A probe that misses timeoutMs stays in flight (a late reply proves the server alive) until
    // twice the longest down-after, then its link is dropped (a half-open one is replaced).
    const lateMs = 2 * Math.max(this.settings.downAfterMs, ...this.groups.map((g) => this.downAfter(g.id)));
    await this.health.check(this.groups, timeoutMs, pendingOld, Date.now, lateMs);
    if (!this.running) return;
    for (const r of records.values()) {
      if (this.busy.has(r.group)) continue;
      if (r.phase !== 'done') await this.guard(r.group, () => this.resume(r));
      else if (pendingMasters(r).length > 0) await this.guard(r.group, () => this.demoteOldMasters(r, timeoutMs));
    }
    for (const g of this.groups) {
      if (this.busy.has(g.id)) continue;
      const r = records.get(g.id);
      if (r && r.phase !== 'done') continue;
      // The hold-down counts from the record's switch, so it also holds for a coordinator that
      // took over after the failover, and a changed hold-down setting applies at once.
      if (r?.phase === 'done') this.holdUntil.set(g.id, switchedAt(r) + this.settings.holdDownMs);
      await this.checkGroup(g);
      this.reportReplicas(g);
      this.repairReplicas(g);
    }
  }

  /** Runs one group's work unless another is in flight for it; errors are logged and retried next tick. */
  private async guard(group: number, fn: () => Promise<void>): Promise<void> {
    if (this.busy.has(group)) return;
    this.busy.add(group);
    try {
      await fn();
    } catch (err) {
      if (err instanceof NotLeaderError) throw err;
      this.d.log(`failover of group ${group}: ${(err as Error).message} (retried)`);
    } finally {
      this.busy.delete(group);
    }
  }

  downAfter(group: number): number {
    return this.settings.groups[String(group)]?.downAfterMs ?? this.settings.downAfterMs;
  }

  private async checkGroup(g: Group): Promise<void> {
    const master = masterOf(g);
    if (master === null) return;
    const downFor = this.health.downFor(master);
    if (downFor <= this.downAfter(g.id)) {
      const wasDown = this.reportedDown.delete(master);
      if (this.blocked.delete(g.id) || wasDown) this.d.events.append({ type: 'group-recovered', group: g.id, message: `group ${g.id}: master ${master} answers again` });
      return;
    }
    if (!this.settings.auto) {
      // Nobody will replace it: say so once, so an operator (or an alert on the event) acts.
      if (!this.reportedDown.has(master)) {
        this.reportedDown.add(master);
        this.d.events.append({
          type: 'master-down', group: g.id,
          message: `group ${g.id}: master ${master} has not answered for ${(downFor / 1000).toFixed(1)} s; automatic failover is off, so it is not replaced (tessera admin group promote ${g.id} <replica> switches by hand)`,
          details: { addr: master, downForMs: downFor, error: this.health.get(master)?.lastError ?? null },
        });
      }
      return;
    }
    if ((this.holdUntil.get(g.id) ?? 0) > Date.now()) return;
    const choice = chooseReplica(this.health.ofGroup(g.id));
    if (choice.addr === null) {
      const why = `group ${g.id} is down: its master ${master} has not answered for ${(downFor / 1000).toFixed(1)} s and no replica can be promoted (${choice.reasons.join('; ')})`;
      if (!this.blocked.has(g.id)) {
        this.stats.blocked++;
        this.d.events.append({ type: 'failover-blocked', group: g.id, message: why, details: { master, reasons: choice.reasons } });
      }
      this.blocked.set(g.id, why);
      return;
    }
    this.blocked.delete(g.id);
    await this.guard(g.id, async () => void await this.run(g.id, choice.addr, { planned: false, reason: `master ${master} unreachable for ${downFor} ms (down-after ${this.downAfter(g.id)} ms): ${this.health.get(master)?.lastError ?? ''}` }));
  }

  /** A replica unreachable past down-after, and back again: one event each way. */
  private reportReplicas(g: Group): void {
    for (const r of g.servers) {
      if (r.role !== 'replica') continue;
      const downFor = this.health.downFor(r.addr);
      if (downFor > this.downAfter(g.id)) {
        if (this.reportedDown.has(r.addr)) continue;
        this.reportedDown.add(r.addr);
        this.d.events.append({
          type: 'replica-down', group: g.id,
          message: `group ${g.id}: replica ${r.addr} has not answered for ${(downFor / 1000).toFixed(1)} s (the group has one copy less; it cannot be promoted)`,
          details: { addr: r.addr, downForMs: downFor, error: this.health.get(r.addr)?.lastError ?? null },
        });
      } else if (downFor === 0 && this.reportedDown.delete(r.addr)) {
        this.d.events.append({ type: 'replica-up', group: g.id, message: `group ${g.id}: replica ${r.addr} answers again`, details: { addr: r.addr } });
      }
    }
  }

  // ---- one failover ----

  /** Planned switchover to `target` (API/CLI promote). Resolves when the group names it master. */
  async promote(group: number, target: string): Promise<FailoverRecord> {
    if (this.d.leader.role !== 'leader') throw new NotLeaderError('this coordinator is a standby');
    const g = this.groups.find((x) => x.id === group) ?? (await this.readGroup(group)).group;
    const master = masterOf(g);
    if (master === target) throw conflict('ALREADY_MASTER', `${target} is already the master of group ${group}`);
    if (!g.servers.some((s) => s.addr === target && s.role === 'replica')) throw notFound(`${target} is not a replica of group ${group}`);
    if (master === null) throw conflict('NO_MASTER', `group ${group} has no master to switch from`);
    // A repair of the group's replicas finishes first (bounded: its calls have timeouts).
    for (let i = 0; i < 100 && this.busy.has(group); i++) await new Promise((r) => setTimeout(r, 50));
    if (this.busy.has(group)) throw conflict('FAILOVER_IN_PROGRESS', `group ${group} has a failover or repair in progress`);
    // Taken in the same turn as the check (no await between): a repair started by a tick during
    // an await here would run under our switchover and drop the mark when it ends.
    this.busy.add(group);
    try {
      const open = (await this.records()).get(group);
      if (open && open.phase !== 'done') throw conflict('FAILOVER_IN_PROGRESS', `group ${group} has a failover in progress (${open.phase})`);
      return await this.run(group, target, { planned: true, reason: `planned switchover from ${master} to ${target}` });
    } finally {
      this.busy.delete(group);
    }
  }

  private async run(group: number, target: string, opts: { planned: boolean; reason: string }): Promise<FailoverRecord> {
    const started = Date.now();
    const pausedSlots = await this.pauseMigrations(group);
    const { group: g } = await this.readGroup(group);
    const oldMaster = masterOf(g);
    if (oldMaster === null) throw conflict('NO_MASTER', `group ${group} has no master`);
    if (opts.planned) await this.catchUp(oldMaster, target);
    // Automatic: does the old master still answer (alive but slow: a false failover)? A killed one
    // is refused at once; a stopped one costs the bound. Asked once: fenceAndDrain reuses it.
    const answered = opts.planned || (await this.answers(oldMaster, Math.max(1000, this.downAfter(group))));
    let record: FailoverRecord;
    try {
      // Automatic: not inside the Serial: a reconcile stuck on the dead master (its calls wait
      // seconds) must not delay the promotion. The epoch compare-and-swap orders this against
      // every other epoch change (reconcile, migration steps), and nodes refuse an older epoch.
      // Planned: inside it, up to the group switch: the old master is alive and fenced by then, and
      // a reconcile run in between would read the old table at the new epoch and tell the fenced
      // old master it owns the slots again (it would then take writes the new master never sees).
      const steps = async () => {
        const st = await readClusterState(this.d.store, this.d.product);
        const now = new Date().toISOString();
        const existing = await this.d.store.get(failoverKey(this.d.product, group));
        const rec: FailoverRecord = {
          group, id: `f-${randomBytes(4).toString('hex')}`, phase: 'promoting', planned: opts.planned, oldMaster, newMaster: target,
          // Two epochs: the lower one fences the old master before the promotion (fenceAndDrain).
          epoch: st.epoch + 2, oldMasterDemoted: false, pausedSlots, reason: opts.reason, startedAt: now, updatedAt: now,
        };
        // Old masters of earlier failovers still away stay pending (this record replaces theirs).
        const earlier = existing ? pendingMasters(parseFailoverRecord(existing.value)).filter((a) => a !== target && a !== oldMaster) : [];
        if (earlier.length > 0) rec.formerMasters = earlier;
        const bump = epochBump(this.d.product, st.epochEntry, rec.epoch);
        const key = failoverKey(this.d.product, group);
        const res = await this.d.store.txn(
          [this.d.leader.fence(), bump.compare, { key, revision: existing?.revision ?? null }],
          [bump.op, { op: 'put', key, value: encodeFailoverRecord(rec) }],
        );
        if (!res.ok) {
          if (!(await this.d.leader.stillLeader())) throw new NotLeaderError('lost leadership while starting a failover');
          throw new Error('the epoch or the failover record changed; retrying');
        }
        this.stats.failovers++;
        if (opts.planned) this.stats.planned++;
        this.d.events.append({
          type: opts.planned ? 'switchover-started' : 'failover-started', group,
          message: `group ${group}: ${opts.reason}; promoting ${target} at epoch ${rec.epoch}`,
          details: { failover: rec.id, oldMaster, newMaster: target, epoch: rec.epoch, pausedSlots: compactSlots(pausedSlots) },
        });
        this.crash('promoting');
        return this.drive(rec, started, answered);
      };
      // Also inside it when the old master answers: a reconcile run between the epoch bump and the
      // group switch would read the group still naming it and SET it OWNED at the new epoch, undoing
      // the fence (it would take writes the promoted replica never gets). A dead or stopped one
      // cannot be told anything, so a reconcile stuck on it does not delay the promotion.
      record = answered ? await this.d.serial.run(steps) : await steps();
    } catch (err) {
      if (opts.planned) await this.d.repl.unpause(oldMaster).catch(() => {});
      throw err;
    }
    await this.finish(record);
    return record;
  }

  /** Re-runs an unfinished record (a coordinator died mid-failover). */
  private async resume(r: FailoverRecord): Promise<void> {
    this.d.log(`resuming the failover of group ${r.group} (${r.id}) from ${r.phase}`);
    this.d.events.append({ type: 'failover-resumed', group: r.group, message: `group ${r.group}: resuming failover ${r.id} from ${r.phase} (promoting ${r.newMaster})`, details: { failover: r.id, phase: r.phase } });
    const drive = () => this.drive(r, Date.parse(r.startedAt));
    const rec = r.planned && r.phase === 'promoting' ? await this.d.serial.run(drive) : await drive();
    await this.finish(rec);
  }

  /** The steps after the record was written; each re-runnable. */
  private async drive(rec: FailoverRecord, started: number, oldMasterAnswered?: boolean): Promise<FailoverRecord> {
    let r = rec;
    if (r.phase === 'promoting') {
      const drain = await this.fenceAndDrain(r, oldMasterAnswered);
      await this.d.repl.replicaOf(r.newMaster, null);
      const st = await readClusterState(this.d.store, this.d.product);
      const table = this.tableWith(st, r.group, r.newMaster);
      await this.d.nodes.setSlots(r.newMaster, r.epoch, desiredRanges(table, r.group));
      this.d.events.append({
        type: 'promoted', group: r.group,
        message: `group ${r.group}: ${r.newMaster} is master (REPLICAOF NO ONE) and owns the group's slots at epoch ${r.epoch}; ${describeDrain(r, drain)}`,
        details: { failover: r.id, addr: r.newMaster, epoch: r.epoch, ...drain },
      });
      r = await this.writeRecord({ ...r, phase: 'switching' });
      this.crash('switching');
    }
    if (r.phase === 'switching') {
      const revision = await this.switchGroup(r);
      const switchMs = Date.now() - started;
      // Other groups' masters learn the new owner (their MOVED); queued, not awaited (see run()).
      void this.d.serial.run(() => this.d.reconciler.reconcileAll(undefined, true)).catch((err: unknown) => this.d.log(`reconcile after failover: ${(err as Error).message}`));
      if (r.planned) {
        // The fenced old master answers -MOVED (which proxies follow) until it is a replica; once
        // it is one (its full sync brings the new master's ownership) it answers READONLY. So wait
        // (bounded) for the live proxies to route to the new master before demoting it.
        await this.waitForProxies(revision);
        await this.d.repl.unpause(r.oldMaster).catch((err: unknown) => this.d.log(`unpause ${r.oldMaster}: ${(err as Error).message}`));
        try {
          await this.d.repl.replicaOf(r.oldMaster, r.newMaster);
          r = { ...r, oldMasterDemoted: true };
        } catch (err) {
          // Gone meanwhile (a resumed switchover): it stays pending and is demoted when it answers.
          this.d.log(`demoting ${r.oldMaster}: ${(err as Error).message} (demoted when it answers)`);
        }
      }
      r = await this.writeRecord({ ...r, phase: 'done', switchMs });
      this.d.events.append({
        type: r.planned ? 'switchover-done' : 'failover-done', group: r.group,
        message: `group ${r.group}: ${r.newMaster} replaced ${r.oldMaster} as master in ${switchMs} ms${r.planned ? '' : `; ${r.oldMaster} is out of the group until it is fenced and resynced`}`,
        details: { failover: r.id, oldMaster: r.oldMaster, newMaster: r.newMaster, epoch: r.epoch, switchMs },
      });
      await this.repointReplicas(r);
    }
    return r;
  }

  /** After done (outside the Serial): hold-down, migrations resumed. */
  private async finish(r: FailoverRecord): Promise<void> {
    this.holdUntil.set(r.group, Date.now() + this.settings.holdDownMs);
    if (r.pausedSlots.length > 0 && this.d.migrations) {
      try {
        await this.d.migrations.pause(compactSlots(r.pausedSlots), false);
        this.d.events.append({ type: 'migrations-resumed', group: r.group, message: `group ${r.group}: resumed the moves of slots ${compactSlots(r.pausedSlots)} after the failover`, details: { slots: compactSlots(r.pausedSlots) } });
      } catch (err) {
        this.d.log(`resuming migrations of slots ${compactSlots(r.pausedSlots)}: ${(err as Error).message}`);
      }
    }
  }

  /** The group in the store names the new master; the old master stays (planned) or leaves (automatic). */
  /** Returns the group key's revision that names the new master (what proxies must apply). */
  private async switchGroup(r: FailoverRecord): Promise<string> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const { group: g, entry } = await this.readGroup(r.group);
      if (masterOf(g) === r.newMaster) return entry.revision;
      const servers = g.servers
        .filter((s) => s.addr !== r.newMaster && (r.planned || s.addr !== r.oldMaster))
        .map((s) => ({ addr: s.addr, role: 'replica' as const }));
      const next: Group = { id: g.id, servers: [{ addr: r.newMaster, role: 'master' }, ...servers] };
      const res = await this.d.store.txn([this.d.leader.fence(), { key: entry.key, revision: entry.revision }], [{ op: 'put', key: entry.key, value: encodeGroup(next) }]);
      if (res.ok) return res.revision;
      if (!(await this.d.leader.stillLeader())) throw new NotLeaderError('lost leadership while switching a group');
    }
    throw new Error(`group ${r.group} kept changing while switching it to ${r.newMaster}`);
  }

  private async waitForProxies(revision: string): Promise<void> {
    const deadline = Date.now() + PROXY_WAIT_MS;
    while (Date.now() < deadline) {
      const entries = await this.d.store.list(proxiesPrefix(this.d.product));
      const behind = entries.filter((e) => {
        try {
          return BigInt(parseProxyInfo(e.value).tableRevision) < BigInt(revision);
        } catch {
          return false;
        }
      });
      if (behind.length === 0) return;
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  private async repointReplicas(r: FailoverRecord): Promise<void> {
    const { group: g } = await this.readGroup(r.group);
    await Promise.all(g.servers.filter((s) => s.role === 'replica' && s.addr !== r.oldMaster).map(async (s) => {
      try {
        await this.d.repl.replicaOf(s.addr, r.newMaster);
        this.d.events.append({ type: 'replica-repointed', group: r.group, message: `group ${r.group}: ${s.addr} replicates from ${r.newMaster}`, details: { addr: s.addr, master: r.newMaster } });
      } catch (err) {
        this.d.log(`re-pointing ${s.addr} to ${r.newMaster}: ${(err as Error).message} (repaired when it answers)`);
      }
    }));
  }

  /** TESSERA.SLOTS SET at the current epoch: every slot NONE OWNER <its owner>. Refuses writes from now on. */
  private async fence(r: FailoverRecord, addr: string, st: ClusterState, epoch = Math.max(st.epoch, r.epoch)): Promise<void> {
    await this.d.nodes.setSlots(addr, epoch, desiredRanges(this.tableWith(st, r.group, r.newMaster), 0));
    this.stats.fenced++;
    this.d.events.append({ type: 'fenced', group: r.group, message: `group ${r.group}: fenced ${addr} at epoch ${epoch} (serves none of the group's slots; MOVED to ${r.newMaster})`, details: { addr, epoch } });
  }

  /** The old master of an automatic failover answers again: fence, REPLICAOF, back into the group. */
  private async demoteOldMasters(r: FailoverRecord, timeoutMs: number): Promise<void> {
    for (const addr of pendingMasters(r)) {
      try {
        await this.d.probe.probe(addr, timeoutMs);
      } catch {
        continue; // still away
      }
      await this.d.serial.run(() => this.demote(r, addr));
      return; // the record changed: the next tick takes the next one
    }
  }

  private async demote(r: FailoverRecord, old: string): Promise<void> {
    const st = await readClusterState(this.d.store, this.d.product);
    const master = masterOf(st.groups.get(r.group) ?? { id: r.group, servers: [] }) ?? r.newMaster;
    try {
      await this.fence({ ...r, newMaster: master }, old, st);
    } catch (err) {
      // A node already past this epoch (or unconfirmed at it) is not serving the slots either; REPLICAOF follows.
      this.d.log(`fencing ${old}: ${(err as Error).message}`);
    }
    await this.d.repl.replicaOf(old, master);
    for (let attempt = 0; attempt < 8; attempt++) {
      const { group: g, entry } = await this.readGroup(r.group);
      if (g.servers.some((s) => s.addr === old)) break;
      const next: Group = { id: g.id, servers: [...g.servers, { addr: old, role: 'replica' }] };
      const res = await this.d.store.txn([this.d.leader.fence(), { key: entry.key, revision: entry.revision }], [{ op: 'put', key: entry.key, value: encodeGroup(next) }]);
      if (res.ok) break;
    }
    const formerMasters = (r.formerMasters ?? []).filter((a) => a !== old);
    await this.writeRecord({ ...r, oldMasterDemoted: r.oldMasterDemoted || old === r.oldMaster, formerMasters });
    this.d.events.append({ type: 'old-master-demoted', group: r.group, message: `group ${r.group}: the old master ${old} answers again: fenced, now a replica of ${master} (resyncing)`, details: { addr: old, master } });
  }

  /** A replica in the store that reports itself master, or follows another master: REPLICAOF the group's master. */
  private repairReplicas(g: Group): void {
    const master = masterOf(g);
    if (master === null || !this.health.get(master)?.reachable || this.busy.has(g.id)) return;
    const todo = g.servers.filter((s) => {
      if (s.role !== 'replica') return false;
      const h = this.health.get(s.addr);
      if (!h?.reachable || (h.role === 'replica' && h.masterAddr === master)) return false;
      return Date.now() - (this.repairedAt.get(s.addr) ?? 0) >= REPAIR_EVERY_MS;
    });
    if (todo.length === 0) return;
    // Under the group's busy mark (not the Serial, which a reconcile may hold for seconds): a
    // promote or failover of the group waits for it, so a REPLICAOF decided from an older view
    // can never land on a replica that was promoted meanwhile.
    this.busy.add(g.id);
    void (async () => {
      for (const s of todo) {
        this.repairedAt.set(s.addr, Date.now());
        try {
          // Decided from the last tick: check again now.
          const { group: now } = await this.readGroup(g.id);
          if (masterOf(now) !== master || !now.servers.some((x) => x.addr === s.addr && x.role === 'replica')) return;
          const seen = await this.d.probe.probe(s.addr, 1000);
          if (seen.role === 'replica' && seen.masterAddr === master) continue;
          if (seen.role === 'master') {
            const st = await readClusterState(this.d.store, this.d.product);
            await this.d.nodes.setSlots(s.addr, st.epoch, desiredRanges(st.table, 0)).catch((err: unknown) => this.d.log(`fencing ${s.addr}: ${(err as Error).message}`));
          }
          await this.d.repl.replicaOf(s.addr, master);
          this.stats.repairs++;
          this.d.events.append({ type: 'replica-repaired', group: g.id, message: `group ${g.id}: ${s.addr} reported ${seen.role === 'master' ? 'itself master' : `master ${seen.masterAddr}`}; made it a replica of ${master}`, details: { addr: s.addr, master, was: seen.role } });
        } catch (err) {
          this.d.log(`repairing ${s.addr}: ${(err as Error).message}`);
        }
      }
    })().finally(() => this.busy.delete(g.id));
  }

  // ---- planned switchover ----

  /**
   * Before the promotion (planned and automatic): fence the old master at the record's lower epoch
   * (it refuses every write of the group's slots from here on, paused or not), then wait for the
   * replica to reach the old master's offset read AFTER the fence. Every write the old master
   * acknowledged ran before the fence, so it is within that offset, so it is on the replica before
   * the replica leaves its master: zero lost writes by construction, even if the CLIENT PAUSE ran
   * out (the pause only keeps clients waiting instead of erroring). The fence reaches the replica
   * through the replication stream, which is why the replica is then SET at the higher epoch.
   * An old master that does not answer can acknowledge nothing: skipped (a killed one fails the
   * probe at once: its connection is refused). An automatic failover may have been started by a
   * master that is alive but slow (it answered later than down-after): the fence then reaches it,
   * and the drain keeps what it acknowledged. Its bounds are max(1 s, down-after) each; a replica
   * still behind after that is promoted anyway (the master was judged down) and the event says so;
   * a planned switchover instead throws (retried; the old master stays fenced and paused).
   */
  private async fenceAndDrain(r: FailoverRecord, answered?: boolean): Promise<Drain> {
    const boundMs = r.planned ? 1000 : Math.max(1000, this.downAfter(r.group));
    const catchUpMs = r.planned ? CATCH_UP_MS : boundMs;
    const unreached = (why: string): Drain => {
      this.d.log(`${r.planned ? 'switchover' : 'failover'} of group ${r.group}: ${r.oldMaster} does not answer (${why}); promoting without draining it`);
      return { oldMasterReachable: false, caughtUp: null, oldMasterOffset: null, replicaOffset: null };
    };
    if (answered === false) return unreached(this.health.get(r.oldMaster)?.lastError ?? 'no answer');
    try {
      if (answered === undefined) await this.d.probe.probe(r.oldMaster, boundMs);
    } catch (err) {
      return unreached((err as Error).message);
    }
    const st = await readClusterState(this.d.store, this.d.product);
    let m: ProbeResult;
    if (r.planned) {
      // Under our control and answering: a failing fence is retried, never skipped.
      await this.fence(r, r.oldMaster, st, r.epoch - 1);
      m = await this.d.probe.probe(r.oldMaster, boundMs);
    } else {
      try {
        await withBound(this.fence(r, r.oldMaster, st, r.epoch - 1), boundMs, `fencing ${r.oldMaster}`);
        m = await this.d.probe.probe(r.oldMaster, boundMs);
      } catch (err) {
        return unreached((err as Error).message);
      }
    }
    const deadline = Date.now() + catchUpMs;
    for (;;) {
      const rep = await this.d.probe.probe(r.newMaster, 1000);
      const drained = (caughtUp: boolean): Drain => ({ oldMasterReachable: true, caughtUp, oldMasterOffset: m.offset, replicaOffset: rep.offset });
      if (rep.role === 'replica' && rep.masterAddr === r.oldMaster && rep.offset >= m.offset) return drained(true);
      // Already promoted by an earlier run of this step, which drained before REPLICAOF NO ONE.
      if (rep.role === 'master') return drained(true);
      if (Date.now() > deadline) {
        const why = `${r.newMaster} did not reach the fenced old master's offset ${m.offset} (at ${rep.offset}, master ${rep.masterAddr ?? 'none'}) within ${catchUpMs} ms`;
        // Planned: retried (the record stays in promoting).
        if (r.planned) throw new Error(why);
        this.d.log(`failover of group ${r.group}: ${why}; promoting it anyway`);
        return drained(false);
      }
      await new Promise((res) => setTimeout(res, 10));
    }
  }

  private async answers(addr: string, boundMs: number): Promise<boolean> {
    try {
      await this.d.probe.probe(addr, boundMs);
      return true;
    } catch {
      return false;
    }
  }

  private async catchUp(master: string, replica: string): Promise<void> {
    await this.d.repl.pauseWrites(master, PAUSE_MS);
    const deadline = Date.now() + CATCH_UP_MS;
    // Caught up = the replica reached the master's offset AND the master's offset did not move
    // since the previous poll: a write executed just before the pause may not be counted in the
    // master's offset yet when INFO runs in the same event-loop turn.
    let lastMaster = -1;
    for (;;) {
      const [m, r] = await Promise.all([this.d.probe.probe(master, 1000), this.d.probe.probe(replica, 1000)]);
      if (r.role === 'replica' && r.masterAddr === master && r.linkUp && r.offset >= m.offset && m.offset === lastMaster) return;
      lastMaster = m.offset;
      if (Date.now() > deadline) {
        await this.d.repl.unpause(master).catch(() => {});
        throw conflict('NOT_CAUGHT_UP', `${replica} did not reach the offset of ${master} (${r.masterAddr === master ? `${r.offset} < ${m.offset}` : `it replicates from ${r.masterAddr ?? 'nothing'}`}) within ${CATCH_UP_MS} ms; writes were resumed, nothing changed`);
      }
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  // ---- migrations ----

  /** Pauses every unfinished move from or to the group (a failover never runs under a moving slot). */
  private async pauseMigrations(group: number): Promise<number[]> {
    if (!this.d.migrations) return [];
    const slots: number[] = [];
    for (const e of await this.d.store.list(migrationsPrefix(this.d.product))) {
      try {
        const m = parseMigration(e.value);
        if ((m.from === group || m.to === group) && !m.paused && !['done', 'cancelled', 'finished'].includes(m.phase)) slots.push(m.slot);
      } catch {
        /* not a per-slot record */
      }
    }
    if (slots.length === 0) return [];
    await this.d.migrations.pause(compactSlots(slots), true);
    this.d.events.append({ type: 'migrations-paused', group, message: `group ${group}: paused the moves of slots ${compactSlots(slots)} for a failover`, details: { slots: compactSlots(slots) } });
    return slots;
  }

  // ---- store ----

  private tableWith(st: ClusterState, group: number, newMaster: string) {
    const groups = [...st.groups.values()].map((g) => (g.id === group ? { id: g.id, servers: [{ addr: newMaster, role: 'master' as const }] } : g));
    return slotTable(st.slots, groups);
  }

  private async readGroup(id: number): Promise<{ group: Group; entry: StoreEntry }> {
    const entry = await this.d.store.get(groupKey(this.d.product, id));
    if (!entry) throw notFound(`group ${id} does not exist`);
    return { group: parseGroup(entry.value), entry };
  }

  async records(): Promise<Map<number, FailoverRecord>> {
    const out = new Map<number, FailoverRecord>();
    for (const e of await this.d.store.list(failoversPrefix(this.d.product))) {
      try {
        const r = parseFailoverRecord(e.value);
        out.set(r.group, r);
      } catch (err) {
        this.d.log(`ignoring unreadable failover record ${e.key}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  private async writeRecord(r: FailoverRecord): Promise<FailoverRecord> {
    const next = { ...r, updatedAt: new Date().toISOString() };
    const key = failoverKey(this.d.product, r.group);
    const cur = await this.d.store.get(key);
    if (cur && parseFailoverRecord(cur.value).id !== r.id) throw new Error(`failover record of group ${r.group} was replaced`);
    const res = await this.d.store.txn([this.d.leader.fence(), { key, revision: cur?.revision ?? null }], [{ op: 'put', key, value: encodeFailoverRecord(next) }]);
    if (!res.ok) {
      if (!(await this.d.leader.stillLeader())) throw new NotLeaderError('lost leadership during a failover');
      throw new Error(`failover record of group ${r.group} changed during the step`);
    }
    return next;
  }

  private crash(after: 'promoting' | 'switching'): void {
    // Integration tests kill a coordinator process at a step (TESSERA_TEST_CRASH_AFTER=<phase>).
    if (process.env.TESSERA_TEST_CRASH_AFTER === after) process.kill(process.pid, 'SIGKILL');
    if (this.crashAfter !== after) return;
    this.crashAfter = null;
    this.running = false;
    throw new NotLeaderError(`test crash after ${after}`);
  }

  // ---- API ----

  async status(id: number): Promise<GroupStatus> {
    if (this.d.leader.role !== 'leader') throw new NotLeaderError('health is checked by the leader; ask it');
    const { group: g } = await this.readGroup(id);
    const master = masterOf(g);
    const downFor = master ? this.health.downFor(master) : 0;
    const hold = this.holdUntil.get(id) ?? 0;
    return {
      group: id, master,
      masterDown: master !== null && downFor > this.downAfter(id),
      masterDownForMs: downFor,
      downAfterMs: this.downAfter(id),
      servers: g.servers.map((s) => this.health.get(s.addr) ?? null).filter((h): h is ServerHealth => h !== null),
      failover: (await this.records()).get(id) ?? null,
      blocked: this.blocked.get(id) ?? null,
      holdDownUntil: hold > Date.now() ? new Date(hold).toISOString() : null,
    };
  }

  getSettings(): FailoverSettings {
    return this.settings;
  }
}

/** What the drain before a promotion found (in the promoted event's details). */
interface Drain {
  oldMasterReachable: boolean;
  /** null: the old master was not reached, nothing to wait for. */
  caughtUp: boolean | null;
  oldMasterOffset: number | null;
  replicaOffset: number | null;
}

function describeDrain(r: FailoverRecord, d: Drain): string {
  if (!d.oldMasterReachable) return `the old master ${r.oldMaster} was not reachable (not drained)`;
  return `the old master ${r.oldMaster} was fenced and ${d.caughtUp ? 'drained' : 'NOT drained'} (its offset ${d.oldMasterOffset}, the replica's ${d.replicaOffset})`;
}

/** Rejects past boundMs (the call itself may still land later). */
async function withBound<T>(p: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${boundMs} ms`)), boundMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** When the record's group switched to the new master (its last update if it does not say). */
function switchedAt(r: FailoverRecord): number {
  return r.switchMs !== undefined ? Date.parse(r.startedAt) + r.switchMs : Date.parse(r.updatedAt);
}

/** Old masters of the group not yet fenced and demoted (they were away). */
function pendingMasters(r: FailoverRecord): string[] {
  return [...(r.oldMasterDemoted ? [] : [r.oldMaster]), ...(r.formerMasters ?? [])];
}

/** REPLICAOF and CLIENT PAUSE on links of their own, each call bounded. */
export class RedisReplicationAdmin implements ReplicationAdmin {
  private readonly links: NodeLinks;

  constructor(password: string | null = null) {
    this.links = new NodeLinks({ name: 'tessera-failover', password, connectTimeoutMs: 1000, retryMs: 100 });
  }

  private async call(addr: string, args: string[]): Promise<void> {
    try {
      await this.links.call(addr, args, { timeoutMs: REPL_CALL_TIMEOUT_MS });
    } catch (err) {
      throw new Error(`${addr}: ${args.join(' ')}: ${(err as Error).message}`);
    }
  }

  async replicaOf(addr: string, master: string | null): Promise<void> {
    if (master === null) await this.call(addr, ['REPLICAOF', 'NO', 'ONE']);
    else {
      const { host, port } = splitAddr(master);
      await this.call(addr, ['REPLICAOF', host, String(port)]);
    }
    // As Sentinel does: the role goes into the node's config file, so a restarted replica comes
    // back as a replica and resumes with a partial resync instead of a full one. Best effort: a
    // node without a config file ("running without a config file") or a failed rewrite only
    // costs that full resync, and the role is already applied.
    await this.links.call(addr, ['CONFIG', 'REWRITE'], { timeoutMs: REPL_CALL_TIMEOUT_MS }).catch(() => {});
  }

  pauseWrites(addr: string, ms: number): Promise<void> {
    return this.call(addr, ['CLIENT', 'PAUSE', String(ms), 'WRITE']);
  }

  unpause(addr: string): Promise<void> {
    return this.call(addr, ['CLIENT', 'UNPAUSE']);
  }

  close(): Promise<void> {
    return this.links.close();
  }
}

export { ApiError };
