// WAIT through the proxy (docs/compatibility.md "Proxy", docs/failover.md "WAIT through the
// proxy"). A client's writes go to masters over pipelined links it shares with other clients, so
// WAIT can neither be forwarded as is (the node would count the link's writes, not this client's)
// nor block a shared link (every client behind it would wait). For each master the client wrote
// to since its last WAIT: TESSERA.REPLOFFSET on the client's own pooled link to it, once every
// earlier request of the client settled (the position covers its writes), then
// TESSERA.WAITOFFSET on a blocking link of the pool. The answer is the smallest count.
// Owns the blocking links of a WAIT in progress; never touches the client's socket.
import { encodeCommand } from '../common/resp/encode.js';
import type { BackendConnection } from './backend/connection.js';
import type { BlockingWaiter } from './backend/pool.js';
import type { Link } from './forwarder.js';
import { arrayElements, errorFrame, integerFrame, integerOf, isError } from './merge.js';

/**
 * The masters a session wrote to since its last WAIT: the generation of its last write per
 * backend address. A write costs one Map.set of a key already there (no allocation); the map
 * holds one entry per backend ever written to since the WAIT before last (bounded by the servers).
 */
export class WriteTracker {
  private readonly lastWrite = new Map<string, number>();
  private generation = 1;

  wrote(addr: string): void {
    this.lastWrite.set(addr, this.generation);
  }

  /** The masters written to since the previous take(), sorted; later writes count for the next one. */
  take(): string[] {
    const out: string[] = [];
    for (const [addr, gen] of this.lastWrite) {
      if (gen === this.generation) out.push(addr);
      else this.lastWrite.delete(addr);
    }
    this.generation++;
    return out.sort();
  }
}

/** What a WAIT needs from its session (ProxySession; fakes in tests). */
export interface WaitHost {
  /** The client's pooled link to `addr`: the one its requests to that master went over. */
  sharedLink(addr: string): Link;
  /** Lends a blocking link to `addr` (the pool's, see BackendPool.acquireBlocking). */
  acquireBlocking(addr: string, waiter: BlockingWaiter): void;
  /** Gives it back: kept when `reusable` (its command returned normally), else closed. */
  releaseBlocking(conn: BackendConnection, reusable: boolean): void;
  /** backend-timeout, ms (0 = none): the margin a WAITOFFSET's link waits beyond its timeout. */
  backendTimeoutMs(): number;
  /** Whether `addr` is still a server of some group in the proxy's table. */
  inTable(addr: string): boolean;
}

/** A master to ask, and the position to wait for when already known (no writes: offset 0, any history). */
export interface WaitTarget {
  addr: string;
  position: { replId: string; offset: number } | null;
}

/** WAIT's arguments, checked as the node checks them (same error texts). */
export function parseWaitArgs(args: readonly string[]): { want: number; timeoutMs: number } | { error: string } {
  if (!isInteger(args[1]!)) return { error: 'ERR value is not an integer or out of range' };
  if (!isInteger(args[2]!)) return { error: 'ERR timeout is not an integer or out of range' };
  const timeoutMs = Number(args[2]);
  if (timeoutMs < 0) return { error: 'ERR timeout is negative' };
  return { want: Number(args[1]), timeoutMs };
}

/** A client that wrote nothing since its last WAIT: the replicas attached to the master it would use. */
export const NO_WRITES = { replId: '*', offset: 0 };

const REPLOFFSET = encodeCommand(['TESSERA.REPLOFFSET']);

export class ProxyWait {
  /** Blocking links lent to the WAIT in progress, and its requests still queued for one. */
  private readonly links = new Set<BackendConnection>();
  private readonly waiters = new Set<BlockingWaiter>();
  /** Bumped by close(): callbacks of an abandoned WAIT see a different run and do nothing. */
  private run = 0;

  constructor(private readonly host: WaitHost) {}

  /**
   * Runs one WAIT for `want` replicas on `targets`; `done` gets the smallest count (a master that
   * cannot be asked, or whose history changed since the writes, counts 0: nothing is known to be
   * replicated there). `startedAt` (Date.now() at the WAIT's arrival) bounds the whole WAIT by
   * `timeoutMs`, as on a node. `done` runs exactly once, unless close() comes first.
   */
  start(targets: readonly WaitTarget[], want: number, timeoutMs: number, startedAt: number, done: (reply: Buffer) => void): void {
    const run = ++this.run;
    const counts: number[] = new Array(targets.length).fill(0);
    let waiting = targets.length;
    let fatal: Buffer | null = null;
    const settle = (i: number, count: number, error: Buffer | null = null) => {
      if (run !== this.run) return;
      counts[i] = count;
      fatal ??= error;
      if (--waiting === 0) done(fatal ?? integerFrame(Math.min(...counts)));
    };
    targets.forEach((t, i) => {
      const ask = (replId: string, offset: number) =>
        this.waitOffset(run, t.addr, replId, offset, want, timeoutMs, startedAt, (n) => settle(i, n));
      if (t.position !== null) return ask(t.position.replId, t.position.offset);
      // Failed over and out of every group: nothing is known of the writes it took (and no link to
      // a removed server is opened again for asking).
      if (!this.host.inTable(t.addr)) return settle(i, 0);
      this.host.sharedLink(t.addr).send(REPLOFFSET, (reply) => {
        if (run !== this.run) return;
        const position = reply === null ? null : positionOf(reply);
        if (position !== null) return ask(position.replId, position.offset);
        // A backend that is not a Tessera node can never answer: say so instead of a silent 0.
        if (reply !== null && isUnknownCommand(reply)) {
          return settle(i, 0, errorFrame(`ERR WAIT through the proxy needs Tessera nodes: backend ${t.addr} does not know TESSERA.REPLOFFSET`));
        }
        settle(i, 0); // down, demoted to a replica, or failed over: nothing known
      });
    });
  }

  /** TESSERA.WAITOFFSET on a blocking link to `addr`; `done` gets the count (0 on any failure). */
  private waitOffset(run: number, addr: string, replId: string, offset: number, want: number, timeoutMs: number, startedAt: number, done: (count: number) => void): void {
    const waiter: BlockingWaiter = {
      cancelled: false,
      grant: (conn) => {
        this.waiters.delete(waiter);
        if (run !== this.run) {
          if (conn !== null) this.host.releaseBlocking(conn, true);
          return;
        }
        if (conn === null) return done(0);
        // The WAIT's timeout counts from its arrival: what the offset read and the link took is spent.
        const left = timeoutMs === 0 ? 0 : Math.max(1, timeoutMs - (Date.now() - startedAt));
        const margin = this.host.backendTimeoutMs();
        const limit = left === 0 || margin <= 0 ? 0 : left + margin;
        this.links.add(conn);
        conn.send(encodeCommand(['TESSERA.WAITOFFSET', replId, String(offset), String(want), String(left)]), (reply) => {
          this.links.delete(conn);
          this.host.releaseBlocking(conn, reply !== null && run === this.run);
          if (run !== this.run) return;
          done(reply === null ? 0 : integerOf(reply) ?? 0);
        }, limit);
      },
    };
    this.waiters.add(waiter);
    this.host.acquireBlocking(addr, waiter);
  }

  /** The client left (or reset): the WAIT is abandoned; closing its links unblocks the nodes. */
  close(): void {
    this.run++;
    for (const w of this.waiters) w.cancelled = true;
    this.waiters.clear();
    for (const conn of this.links) conn.close();
    this.links.clear();
  }
}

/** [replid, offset] of a TESSERA.REPLOFFSET reply, or null (an error, or not that shape). */
export function positionOf(reply: Buffer): { replId: string; offset: number } | null {
  if (isError(reply)) return null;
  const els = arrayElements(reply);
  if (els === null || els.length !== 2 || els[0]![0] !== 0x24) return null;
  const id = els[0]!;
  const offset = integerOf(els[1]!);
  if (offset === null || !Number.isSafeInteger(offset) || offset < 0) return null;
  return { replId: id.latin1Slice(id.indexOf(10) + 1, id.length - 2), offset };
}

function isUnknownCommand(reply: Buffer): boolean {
  return isError(reply) && reply.latin1Slice(0, Math.min(reply.length, 40)).startsWith('-ERR unknown command');
}

function isInteger(text: string): boolean {
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text));
}
