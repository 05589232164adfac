// TESSERA.REPLOFFSET and TESSERA.WAITOFFSET: WAIT split in two for the proxy, whose clients share
// pipelined links (docs/compatibility.md "Proxy", docs/failover.md "WAIT through the proxy").
// REPLOFFSET, sent on the link a client's writes went over, right after them, answers the
// replication position that covers them; WAITOFFSET, sent on a link of its own, blocks like WAIT
// until enough replicas acknowledged that position. Thin: the waiting is replica-clients.ts's.
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

// The history a position belongs to cannot be told on a replica (it applies its master's).
const ON_REPLICA = (name: string) => `ERR ${name} cannot be used with replica instances`;
const NOT_INTEGER = 'ERR value is not an integer or out of range';

/** TESSERA.REPLOFFSET → [replication id, master_repl_offset]: every write run before it is at or below. */
function replOffsetCommand(s: Session): void {
  const repl = s.server.replication;
  if (repl.masterHost !== null) return s.w.error(ON_REPLICA('TESSERA.REPLOFFSET'));
  s.w.array(2);
  s.w.bulk(repl.replId);
  s.w.integer(repl.masterReplOffset);
}

/**
 * TESSERA.WAITOFFSET <replid|*> <offset> <numreplicas> <timeout-ms>: WAIT for a position read by
 * REPLOFFSET. The id must still describe this master's history (its own, or the one it continued
 * up to the promotion): after a restart or a role change the position means nothing here, and a
 * count for it would claim writes this node may never have had. `*` skips that check (offset 0:
 * "how many replicas are attached", what WAIT answers a connection that wrote nothing).
 */
function waitOffsetCommand(s: Session, args: string[]): void {
  const repl = s.server.replication;
  if (repl.masterHost !== null) return s.w.error(ON_REPLICA('TESSERA.WAITOFFSET'));
  const [, replId, offsetText, wantText, timeoutText] = args as [string, string, string, string, string];
  if (!isInteger(offsetText)) return s.w.error(NOT_INTEGER);
  if (!isInteger(wantText)) return s.w.error(NOT_INTEGER);
  if (!isInteger(timeoutText)) return s.w.error('ERR timeout is not an integer or out of range');
  const offset = Number(offsetText);
  const timeoutMs = Number(timeoutText);
  if (offset < 0) return s.w.error('ERR offset is negative');
  if (timeoutMs < 0) return s.w.error('ERR timeout is negative');
  if (offset > repl.masterReplOffset) {
    return s.w.error(`ERR offset ${offset} is beyond this master's replication offset ${repl.masterReplOffset}`);
  }
  const sameHistory = replId === '*' || replId === repl.replId || (replId === repl.replId2 && offset < repl.secondReplOffset);
  if (!sameHistory) return s.w.error(`ERR replication id ${replId.slice(0, 64)} is not this master's history (${repl.replId})`);
  repl.replicas.waitForOffset(s, offset, Number(wantText), timeoutMs);
}

function isInteger(text: string): boolean {
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

export const waitOffsetHandlers: HandlerMap = {
  'tessera.reploffset': replOffsetCommand,
  'tessera.waitoffset': waitOffsetCommand,
};
