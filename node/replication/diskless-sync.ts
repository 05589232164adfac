// Full resyncs to diskless replicas (capa eof): replicas that ask within repl-diskless-sync-delay
// share one background snapshot streamed to all their sockets ($EOF:<mark> … <mark>); one that
// asks while a snapshot runs waits for the next. Clients keep being served throughout.
// Knows nothing of PSYNC replies or replica bookkeeping: the host does those.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';

export interface PendingSync {
  session: Session;
  /** "ip:port" for log lines. */
  name: string;
  /** When it asked (ms since the epoch), for the delay. */
  since: number;
}

export interface DisklessHost {
  /** The transfer starts now: reply +FULLRESYNC to each target and attach it with its stream held. */
  begin(targets: readonly PendingSync[]): void;
  /** The image was fully sent to `target` (ok) or the transfer failed for it. */
  end(target: PendingSync, ok: boolean): void;
}

const EOF_MARK_BYTES = 20;

export class DisklessSyncs {
  private waiting: PendingSync[] = [];
  private running = false;

  constructor(
    private readonly server: NodeServer,
    private readonly host: DisklessHost,
  ) {
    // A snapshot just ended (ours or a BGSAVE): replicas waiting for one can go now.
    server.snapshots.onBackgroundDone.push(() => setImmediate(() => this.maybeStart(Date.now())));
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  enqueue(p: PendingSync): void {
    this.waiting.push(p);
    if (this.server.config.getInt('repl-diskless-sync-delay') > 0 && this.waiting.length === 1) {
      this.server.log('notice', 'Delay next BGSAVE for diskless SYNC');
    }
    this.maybeStart(Date.now());
  }

  /** Once a second: keep waiting replicas' links alive (Redis sends newlines) and start when due. */
  tick(now: number): void {
    for (const p of this.waiting) if (!p.session.closed) p.session.socket.write('\n');
    this.maybeStart(now);
  }

  /** Closes every waiting replica (our role or history changed). */
  dropAll(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const p of waiting) p.session.close();
  }

  private maybeStart(now: number): void {
    this.waiting = this.waiting.filter((p) => !p.session.closed);
    if (this.waiting.length === 0 || this.running || this.server.snapshots.inProgress) return;
    const delayMs = this.server.config.getInt('repl-diskless-sync-delay') * 1000;
    if (now - this.waiting[0]!.since < delayMs) return;
    const targets = this.waiting;
    this.waiting = [];
    const mark = randomBytes(EOF_MARK_BYTES).toString('hex');
    // Replies and attachments first: the snapshot may write its first chunk before startBackground returns.
    this.host.begin(targets);
    for (const t of targets) t.session.socket.write(`$EOF:${mark}\r\n`, 'latin1');
    this.server.log('notice', 'Starting BGSAVE for SYNC with target: replicas sockets');
    const alive = () => targets.filter((t) => !t.session.closed);
    const sink = {
      write: (chunk: Buffer): void | Promise<void> => {
        const open = alive();
        if (open.length === 0) throw new Error('every replica of the transfer disconnected');
        const full = open.filter((t) => !t.session.socket.write(chunk));
        // Back-pressure: the snapshot waits for the slowest socket (or its close).
        if (full.length > 0) return Promise.all(full.map((t) => drained(t.session.socket))).then(() => undefined);
      },
      end: () => {
        for (const t of alive()) t.session.socket.write(mark, 'latin1');
      },
    };
    this.running = true;
    const started = this.server.snapshots.startBackground(sink, (ok) => {
      this.running = false;
      for (const t of targets) this.host.end(t, ok && !t.session.closed);
      this.maybeStart(Date.now());
    });
    if (!started) {
      // Cannot happen (checked inProgress above); fail the targets rather than leave them hanging.
      this.running = false;
      for (const t of targets) this.host.end(t, false);
    }
  }
}

/** Resolves when the socket can take more, or when it closed. */
function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
