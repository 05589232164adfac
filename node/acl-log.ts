// ACL LOG: the refusals Redis 7.0 records — here failed authentications, the only ones a node with
// the default user alone can have. Like Redis, one entry per (reason, context, object, username)
// seen again within 60 s counts up and moves to the front; at most acllog-max-len entries.
import type { NodeServer } from './server.js';

/** Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA. */
const GROUPING_MS = 60_000;

export interface AclLogEntry {
  count: number;
  reason: 'auth';
  /** toplevel, multi (inside EXEC) or lua. */
  context: string;
  /** The command as the client typed it (AUTH, hello …). */
  object: string;
  username: string;
  /** When it last happened (ms since the epoch). */
  at: number;
  /** CLIENT INFO of the client, as it was then. */
  clientInfo: string;
}

export class AclLog {
  /** Newest first. */
  readonly entries: AclLogEntry[] = [];

  constructor(private readonly maxLen: () => number) {}

  add(entry: Omit<AclLogEntry, 'count' | 'at'>, now = Date.now()): void {
    const i = this.entries.findIndex(
      (e) => e.reason === entry.reason && e.context === entry.context && e.object === entry.object && e.username === entry.username && now - e.at < GROUPING_MS,
    );
    if (i >= 0) {
      const [e] = this.entries.splice(i, 1);
      e!.count++;
      e!.at = now;
      e!.clientInfo = entry.clientInfo;
      this.entries.unshift(e!);
      return;
    }
    this.entries.unshift({ ...entry, count: 1, at: now });
    this.trim();
  }

  /** Drops the oldest entries beyond acllog-max-len (as Redis, when a new one is added: lowering it, or a repeat, drops none). */
  private trim(): void {
    const max = this.maxLen();
    if (this.entries.length > max) this.entries.length = max;
  }

  reset(): void {
    this.entries.length = 0;
  }
}

const logs = new WeakMap<NodeServer, AclLog>();

/** The server's ACL log (made on first use). */
export function aclLogOf(server: NodeServer): AclLog {
  let log = logs.get(server);
  if (log === undefined) {
    log = new AclLog(() => server.config.getInt('acllog-max-len'));
    logs.set(server, log);
  }
  return log;
}
