// Helpers shared by the slot mover's integration tests: keys that hash to one slot, and
// TESSERA.MIGRATE SLOT calls that may wait long for a big key.
import type { Reply } from '../../common/resp/reply-decoder.js';
import { ReplyErrorValue } from '../../common/resp/reply-decoder.js';
import { encodeCommand } from '../../common/resp/encode.js';
import { slotOf } from '../../common/slots.js';
import type { RawClient } from './raw-client.js';

/** `count` keys named prefix+i that hash to `slot`. */
export function keysInSlot(slot: number, count: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) if (slotOf(`${prefix}${i}`) === slot) out.push(`${prefix}${i}`);
  return out;
}

/**
 * A call with a long reply deadline: one MIGRATE SLOT call moves a big key whole, and a target
 * with appendfsync always on this loaded machine can take longer than RawClient's 5 s for it.
 */
export async function callLong(c: RawClient, ...args: Array<string | number>): Promise<Reply> {
  const reply = c.nextReply(60_000);
  c.write(encodeCommand(args));
  return reply;
}

/** Runs MIGRATE SLOT until the slot is empty; returns the calls' replies. */
export async function migrateAll(c: RawClient, slot: number, target: string, extra: Array<string | number> = []): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < 100_000; i++) {
    const r = await callLong(c, 'TESSERA.MIGRATE', 'SLOT', slot, target, ...extra);
    if (r instanceof ReplyErrorValue) throw new Error(r.message);
    out.push(r as number[]);
    if ((r as number[])[2] === 0) return out;
  }
  throw new Error('slot never emptied');
}
