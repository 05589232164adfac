// The splitter over a fake router and a fake forwarder: the plan per policy (single whole,
// per-key pieces per backend in key order, all-shards), pieces answered out of order and merged
// into the shape the client expects, a failed piece becoming an error in its own place, reads
// routed by forRead(), and no request sent when a slot has no master or keys cross slots.
import { describe, expect, it } from 'vitest';
import { resolveCommand } from '../../../common/commands/table.js';
import type { CommandSpec } from '../../../common/commands/spec.js';
import { encodeCommand } from '../../../common/resp/encode.js';
import { SLOT_COUNT, slotOf } from '../../../common/slots.js';
import type { ReplyStream } from '../../../proxy/backend/connection.js';
import type { Done } from '../../../proxy/forwarder.js';
import type { SlotMode } from '../../../proxy/router.js';
import { CROSS, type SlotRouter, Splitter, commandSlot, slotModeOf } from '../../../proxy/splitter.js';

class Req implements ReplyStream {
  reply: string | null = null;
  settled = 0;
  offer(): number {
    return 0;
  }
  chunk(): void {}
}

interface Sent { addr: string; args: string[]; slot: number; done: Done }

/**
 * Slots below 512 live on "a", the rest on "b"; reads of slots below 512 go to "a-replica";
 * `modes` says what each backend takes per command (both plain nodes unless a test says so).
 */
const PLAIN: Array<[string, SlotMode]> = [['a', 'any'], ['b', 'any']];
const modes = new Map<string, SlotMode>(PLAIN);
const router: SlotRouter = {
  perSlot: (addr) => modes.get(addr) !== 'any',
  needsProbe: (addr) => !modes.has(addr) && modes.set(addr, 'probing') !== null,
  learnSlotMode: (addr, mode) => void (mode === null ? modes.delete(addr) : modes.set(addr, mode)),
  master: (slot) => (slot === 1000 ? null : slot < SLOT_COUNT / 2 ? 'a' : 'b'),
  forRead: (slot) => (slot < SLOT_COUNT / 2 ? 'a-replica' : 'b'),
  routeError: (slot) => `ERR slot ${slot} is not assigned to any group`,
  masters: () => ['a', 'b'],
};

function setup() {
  const sent: Sent[] = [];
  const splitter = new Splitter<Req>({
    router,
    forwarder: {
      forward: (addr, raw, slot, done) => void sent.push({ addr, args: decode(raw), slot, done }),
    },
    respond: (p, reply) => {
      p.reply = reply.toString('latin1');
      p.settled++;
    },
    maxKeysReply: () => 3,
  });
  const run = (...args: string[]) => {
    const r = resolveCommand(args);
    if ('error' in r) throw new Error(r.error);
    const p = new Req();
    expect(splitter.start(p, r.spec, args, encodeCommand(args))).toBe(true);
    return p;
  };
  /** Answers the request sent to `addr` (there is exactly one pending). */
  const answer = (addr: string, reply: string) => {
    const i = sent.findIndex((s) => s.addr === addr);
    const [s] = sent.splice(i, 1);
    s!.done(Buffer.from(reply, 'latin1'));
  };
  return { sent, run, answer };
}

/** Minimal decoder for the fake: the arguments of one RESP multibulk. */
function decode(raw: Buffer): string[] {
  const lines = raw.toString('latin1').split('\r\n');
  const out: string[] = [];
  for (let i = 2; i < lines.length; i += 2) out.push(lines[i]!);
  return out.slice(0, Number(lines[0]!.slice(1)));
}

/** Keys whose slots are on "a" (low) and on "b" (high). */
function keyOn(side: 'a' | 'b', n: number): string {
  for (let i = 0, found = 0; ; i++) {
    const k = `k${i}`;
    if ((slotOf(k) < SLOT_COUNT / 2) === (side === 'a') && slotOf(k) !== 1000 && found++ === n) return k;
  }
}
const a0 = keyOn('a', 0);
const a1 = keyOn('a', 1);
const b0 = keyOn('b', 0);
const b1 = keyOn('b', 1);

function spec(...args: string[]): CommandSpec {
  const r = resolveCommand(args);
  if ('error' in r) throw new Error(r.error);
  return r.spec;
}

describe('commandSlot', () => {
  it('the one slot of the keys, CROSS across slots', () => {
    expect(commandSlot(spec('GET', a0), ['GET', a0])).toBe(slotOf(a0));
    expect(commandSlot(spec('RENAME', 'x{t}', 'y{t}'), ['RENAME', 'x{t}', 'y{t}'])).toBe(slotOf('t'));
    expect(commandSlot(spec('RENAME', a0, b0), ['RENAME', a0, b0])).toBe(CROSS);
    const zu = ['ZUNIONSTORE', 'd{t}', '2', 'a{t}', 'b{t}'];
    expect(commandSlot(spec(...zu), zu)).toBe(slotOf('t')); // movable keys, from the table's rule
    const zx = ['ZUNIONSTORE', 'd{t}', '2', 'a{t}', b0];
    expect(commandSlot(spec(...zx), zx)).toBe(CROSS);
  });
});

describe('Splitter', () => {
  it('single: the raw request goes whole to the slot master; reads by forRead()', () => {
    const t = setup();
    const set = t.run('SET', b0, 'v');
    const get = t.run('GET', a0);
    expect(t.sent.map((s) => [s.addr, s.args, s.slot])).toEqual([
      ['b', ['SET', b0, 'v'], slotOf(b0)],
      ['a-replica', ['GET', a0], slotOf(a0)],
    ]);
    t.answer('a-replica', '$1\r\nx\r\n');
    t.answer('b', '+OK\r\n');
    expect([set.reply, get.reply]).toEqual(['+OK\r\n', '$1\r\nx\r\n']);
  });

  it('single: keys across slots are refused with CROSSSLOT; a slot with no master says why; nothing is sent', () => {
    const t = setup();
    const cross = t.run('RENAME', a0, b0);
    let k = 'x';
    for (let i = 0; slotOf(k) !== 1000; i++) k = `x${i}`;
    const none = t.run('SET', k, 'v');
    expect(cross.reply).toMatch(/^-CROSSSLOT /);
    expect(none.reply).toBe('-ERR slot 1000 is not assigned to any group\r\n');
    expect(t.sent).toEqual([]);
  });

  it('MGET: one piece per backend with its keys in client order; answered out of order; merged in key order', () => {
    const t = setup();
    const p = t.run('MGET', b0, a0, b1, a1);
    expect(t.sent.map((s) => [s.addr, s.args])).toEqual([
      ['b', ['MGET', b0, b1]],
      ['a', ['MGET', a0, a1]],
    ]);
    t.answer('a', '*2\r\n$2\r\nA0\r\n$-1\r\n');
    expect(p.reply).toBeNull();
    t.answer('b', '*2\r\n$2\r\nB0\r\n$2\r\nB1\r\n');
    expect(p.reply).toBe('*4\r\n$2\r\nB0\r\n$2\r\nA0\r\n$2\r\nB1\r\n$-1\r\n');
    expect(p.settled).toBe(1);
  });

  it('MGET: a failed piece (a redirect passed on, a timeout) fails only its own keys', () => {
    const t = setup();
    const p = t.run('MGET', a0, b0, a1);
    t.answer('b', '$-1\r\n'); // not an array: a broken backend
    t.answer('a', '-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    expect(p.reply).toBe('*3\r\n-TRYAGAIN Multiple keys request during rehashing of slot\r\n-ERR unexpected reply from backend\r\n-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
  });

  it('MSET: key/value pairs split per backend; +OK only when every piece is +OK, else the error', () => {
    const t = setup();
    const ok = t.run('MSET', a0, '1', b0, '2', a1, '3');
    expect(t.sent.map((s) => [s.addr, s.args, s.slot])).toEqual([
      ['a', ['MSET', a0, '1', a1, '3'], slotOf(a0) === slotOf(a1) ? slotOf(a0) : -1],
      ['b', ['MSET', b0, '2'], slotOf(b0)],
    ]);
    t.answer('b', '+OK\r\n');
    t.answer('a', '+OK\r\n');
    expect(ok.reply).toBe('+OK\r\n');
    const bad = t.run('MSET', a0, '1', b0, '2');
    t.answer('a', '+OK\r\n');
    t.answer('b', '-ERR backend b timed out\r\n');
    expect(bad.reply).toBe('-ERR backend b timed out\r\n');
  });

  it('DEL: the counts are summed whatever order the pieces answer in', () => {
    const t = setup();
    const p = t.run('DEL', a0, b0, b1);
    t.answer('b', ':2\r\n');
    t.answer('a', ':1\r\n');
    expect(p.reply).toBe(':3\r\n');
  });

  it('keys of one backend: the raw request goes whole, not re-encoded', () => {
    const t = setup();
    const p = t.run('MGET', a0, a1);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.args).toEqual(['MGET', a0, a1]);
    t.answer('a', '*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
    expect(p.reply).toBe('*2\r\n$1\r\n1\r\n$1\r\n2\r\n');
  });

  it('allShards: DBSIZE summed, KEYS concatenated and capped by max-keys-reply', () => {
    const t = setup();
    const dbsize = t.run('DBSIZE');
    const keys = t.run('KEYS', '*');
    expect(t.sent.map((s) => s.addr)).toEqual(['a', 'b', 'a', 'b']);
    t.answer('b', ':5\r\n');
    t.answer('b', '*2\r\n$1\r\nx\r\n$1\r\ny\r\n');
    t.answer('a', ':7\r\n');
    t.answer('a', '*1\r\n$1\r\nz\r\n');
    expect(dbsize.reply).toBe(':12\r\n');
    expect(keys.reply).toBe('*3\r\n$1\r\nz\r\n$1\r\nx\r\n$1\r\ny\r\n');
    const many = t.run('KEYS', '*');
    t.answer('a', '*2\r\n$1\r\nz\r\n$1\r\nw\r\n');
    t.answer('b', '*2\r\n$1\r\nx\r\n$1\r\ny\r\n');
    expect(many.reply).toMatch(/^-ERR KEYS matched more than 3 keys/);
  });

  it('a piece of several slots refused with CROSSSLOT (cluster-mode node) is re-sent per slot, and later splits are per slot', () => {
    const t = setup();
    let a2 = a1;
    for (let n = 2; slotOf(a2) === slotOf(a0); n++) a2 = keyOn('a', n);
    const p = t.run('MGET', a0, b0, a2);
    expect(t.sent.map((s) => [s.addr, s.args, s.slot])).toEqual([['a', ['MGET', a0, a2], -1], ['b', ['MGET', b0], slotOf(b0)]]);
    t.answer('a', "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    expect(t.sent.map((s) => [s.addr, s.args, s.slot])).toEqual([['b', ['MGET', b0], slotOf(b0)], ['a', ['MGET', a0], slotOf(a0)], ['a', ['MGET', a2], slotOf(a2)]]);
    t.answer('a', '*1\r\n$2\r\nA0\r\n');
    t.answer('b', '*1\r\n$2\r\nB0\r\n');
    t.answer('a', '*1\r\n$2\r\nA2\r\n');
    expect(p.reply).toBe('*3\r\n$2\r\nA0\r\n$2\r\nB0\r\n$2\r\nA2\r\n');
    expect(p.settled).toBe(1);
    const del = t.run('DEL', a0, a2);
    expect(t.sent.map((s) => [s.addr, s.args])).toEqual([['a', ['DEL', a0]], ['a', ['DEL', a2]]]);
    t.answer('a', ':1\r\n');
    t.answer('a', ':0\r\n');
    expect(del.reply).toBe(':1\r\n');
    expect(modes.get('a')).toBe('one');
    for (const [k, v] of PLAIN) modes.set(k, v);
  });

  it('a backend not known yet gets one piece per slot and one probe (ASKING then PING); its answer decides later splits', () => {
    const t = setup();
    modes.clear();
    let a2 = a1;
    for (let n = 2; slotOf(a2) === slotOf(a0); n++) a2 = keyOn('a', n);
    const p = t.run('MGET', a0, a2, b0);
    expect(t.sent.map((s) => [s.addr, s.args])).toEqual([
      ['a', ['ASKING']], ['a', ['PING']], ['b', ['ASKING']], ['b', ['PING']],
      ['a', ['MGET', a0]], ['a', ['MGET', a2]], ['b', ['MGET', b0]],
    ]);
    t.answer('a', '-ERR This instance has cluster support disabled\r\n');
    t.answer('a', '+PONG\r\n');
    t.answer('b', '+OK\r\n');
    t.answer('b', '+PONG\r\n');
    t.answer('b', '*1\r\n$2\r\nB0\r\n'); // pieces settle out of order (a link's own replies stay FIFO)
    t.answer('a', '*1\r\n$2\r\nA0\r\n');
    t.answer('a', '*1\r\n$2\r\nA2\r\n');
    expect(p.reply).toBe('*3\r\n$2\r\nA0\r\n$2\r\nA2\r\n$2\r\nB0\r\n');
    expect(p.settled).toBe(1);
    expect([modes.get('a'), modes.get('b')]).toEqual(['any', 'one']);
    const b2 = [b1, keyOn('b', 2), keyOn('b', 3)].find((k) => slotOf(k) !== slotOf(b0))!;
    t.run('DEL', a0, a2, b0, b2);
    expect(t.sent.map((s) => [s.addr, s.args])).toEqual([['a', ['DEL', a0, a2]], ['b', ['DEL', b0]], ['b', ['DEL', b2]]]);
    for (const [k, v] of PLAIN) modes.set(k, v);
    modes.delete('a-replica');
  });

  it('probe answers: +OK is cluster mode, the cluster-disabled error a plain node, anything else unknown', () => {
    expect(slotModeOf(Buffer.from('+OK\r\n'))).toBe('one');
    expect(slotModeOf(Buffer.from('-ERR This instance has cluster support disabled\r\n'))).toBe('any');
    expect(slotModeOf(Buffer.from('-ERR backend 127.0.0.1:1 is down: ECONNREFUSED\r\n'))).toBeNull();
    expect(slotModeOf(Buffer.from('-NOAUTH Authentication required.\r\n'))).toBeNull();
  });

  it('leaves the session its own policies', () => {
    const t = setup();
    const s = new Splitter<Req>({ router, forwarder: { forward: () => {} }, respond: () => {}, maxKeysReply: () => 0 });
    for (const args of [['PING'], ['MULTI'], ['BLPOP', 'k', '0'], ['SUBSCRIBE', 'c'], ['INFO']]) {
      expect(s.start(new Req(), spec(...args), args, encodeCommand(args))).toBe(false);
    }
    expect(t.sent).toEqual([]);
  });
});
