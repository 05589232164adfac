// On a slot the proxy's table marks as migrating, a client's requests go one at a time: the next
// is sent only once the previous one got its final reply (not a redirect, not -TRYAGAIN). Without
// that, a pipelined `MSET {t}:a 1 {t}:b 1` then `SET {t}:a x` lose the acknowledged SET: the
// source refuses the MSET -TRYAGAIN (only {t}:a is still there), runs the SET at once (its key is
// there), and the retried MSET lands later and writes {t}:a = 1. Slots not migrating stay fully
// pipelined. The real Router (over a slotTable) and Splitter drive a real Forwarder; the links
// are fakes and the two nodes a small model of a slot mid-move; time is fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveCommand } from '../../../common/commands/table.js';
import { type Group, type Slot, type SlotRoute, slotTable } from '../../../common/model.js';
import { encodeCommand } from '../../../common/resp/encode.js';
import { slotOf } from '../../../common/slots.js';
import type { ReplyCallback, ReplyStream } from '../../../proxy/backend/connection.js';
import { Forwarder, type Link } from '../../../proxy/forwarder.js';
import { Router, type RouteSource, type SlotMode } from '../../../proxy/router.js';
import { Splitter } from '../../../proxy/splitter.js';

const T = slotOf('{t}:a'); // migrating from group 1 (src) to group 2 (dst)
const U = slotOf('{u}:x'); // online on group 1
const groups: Group[] = [
  { id: 1, servers: [{ addr: 'src', role: 'master' }] },
  { id: 2, servers: [{ addr: 'dst', role: 'master' }] },
];

class Source implements RouteSource {
  routes: SlotRoute[];
  readonly groups = new Map(groups.map((g) => [g.id, g]));
  readonly moved = new Map<number, string>();
  // Both nodes in cluster mode: a split sends one piece per slot.
  readonly slotModes = new Map<string, SlotMode>([['src', 'one'], ['dst', 'one']]);
  constructor(migrating: boolean) {
    const slots: Slot[] = [
      { id: T, state: migrating ? { kind: 'migrating', from: 1, to: 2 } : { kind: 'online', group: 1 } },
      { id: U, state: { kind: 'online', group: 1 } },
    ];
    this.routes = slotTable(slots, groups);
  }
  noteMoved(slot: number, addr: string): void {
    this.moved.set(slot, addr);
  }
  setSlotMode(addr: string, mode: SlotMode | null): void {
    if (mode !== null) this.slotModes.set(addr, mode);
  }
}

interface Sent { addr: string; args: string[]; cb: ReplyCallback }

const decode = (raw: Buffer): string[] => raw.toString('latin1').split('\r\n').filter((_, i) => i % 2 === 0 && i > 0);

/**
 * Two nodes mid-move of slot T, as ours answer: the source runs a request whose keys are all
 * still there, answers -ASK when none are, -TRYAGAIN when some are; the target runs what comes
 * after ASKING. Requests wait on the wire until step() answers the oldest.
 */
class Nodes {
  readonly wire: Sent[] = [];
  readonly src = new Map<string, string>([['{t}:a', '0'], ['{u}:x', '0']]);
  readonly dst = new Map<string, string>([['{t}:b', '0']]);
  private asking = false;
  link(addr: string): Link {
    return { send: (raw, cb) => void this.wire.push({ addr, args: decode(raw), cb }) };
  }
  /** The wire as "addr: CMD args", oldest first (ASKING included). */
  shown(): string[] {
    return this.wire.map((s) => `${s.addr}: ${s.args.join(' ')}`);
  }
  /** The mover moves `key` from the source to the target. */
  move(key: string): void {
    this.dst.set(key, this.src.get(key)!);
    this.src.delete(key);
  }
  /** Answers the oldest request on the wire; returns what it answered ("SET {t}:a x → +OK"). */
  step(): string {
    const s = this.wire.shift();
    if (!s) throw new Error('nothing on the wire');
    const reply = this.run(s);
    s.cb(Buffer.from(reply, 'latin1'), null);
    return `${s.addr}: ${s.args.join(' ')} → ${reply.trim()}`;
  }
  private run({ addr, args }: Sent): string {
    const [name, ...rest] = args;
    if (name === 'ASKING') return void (this.asking = true), '+OK\r\n';
    const asked = this.asking;
    this.asking = false;
    const keys = name === 'MSET' ? rest.filter((_, i) => i % 2 === 0) : [rest[0]!];
    const store = addr === 'src' ? this.src : this.dst;
    if (addr === 'src' && keys.some((k) => slotOf(k) === T)) {
      const here = keys.filter((k) => store.has(k)).length;
      if (here === 0) return `-ASK ${T} dst\r\n`;
      if (here < keys.length) return '-TRYAGAIN Multiple keys request during rehashing of slot\r\n';
    }
    if (addr === 'dst' && !asked) return `-MOVED ${T} src\r\n`;
    if (name === 'GET') return store.has(keys[0]!) ? `$${store.get(keys[0]!)!.length}\r\n${store.get(keys[0]!)}\r\n` : '$-1\r\n';
    for (let i = 0; i < rest.length; i += 2) store.set(rest[i]!, rest[i + 1]!);
    return '+OK\r\n';
  }
}

class Req implements ReplyStream {
  reply: string | null = null;
  constructor(readonly name: string) {}
  offer(): number {
    return 0;
  }
  chunk(): void {}
}

function setup(migrating: boolean) {
  const nodes = new Nodes();
  const router = new Router(new Source(migrating), { readFromReplica: 'never' }, 1);
  const hooks = { onMoved: () => {}, onInternalError: (e: unknown) => { throw e; }, gone: () => false };
  const forwarder = new Forwarder(nodes, router, hooks);
  const settled: string[] = [];
  const splitter = new Splitter<Req>({
    router,
    forwarder,
    respond: (p, reply) => {
      p.reply = reply.toString('latin1').trim();
      settled.push(`${p.name} → ${p.reply}`);
    },
    maxKeysReply: () => 0,
  });
  const run = (...args: string[]) => {
    const r = resolveCommand(args);
    if ('error' in r) throw new Error(r.error);
    const p = new Req(args.join(' '));
    expect(splitter.start(p, r.spec, args, encodeCommand(args))).toBe(true);
    return p;
  };
  return { nodes, forwarder, settled, run };
}

describe('a migrating slot: one request of a client at a time', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('MSET refused -TRYAGAIN then SET of one of its keys: the SET is sent only after the MSET settled, and it wins', () => {
    const t = setup(true);
    t.run('MSET', '{t}:a', '1', '{t}:b', '1');
    t.run('SET', '{t}:a', 'x');
    // Pipelined by the client, but the SET is held while the MSET is in flight.
    expect(t.nodes.shown()).toEqual(['src: MSET {t}:a 1 {t}:b 1']);
    expect(t.nodes.step()).toBe(`src: MSET {t}:a 1 {t}:b 1 → -TRYAGAIN Multiple keys request during rehashing of slot`);
    expect(t.nodes.shown()).toEqual([]); // still held: the MSET waits out its back-off
    t.nodes.move('{t}:a'); // the mover finishes the slot's keys meanwhile
    vi.advanceTimersByTime(5);
    expect(t.nodes.shown()).toEqual(['src: MSET {t}:a 1 {t}:b 1']);
    expect(t.nodes.step()).toBe(`src: MSET {t}:a 1 {t}:b 1 → -ASK ${T} dst`);
    expect(t.nodes.shown()).toEqual(['dst: ASKING', 'dst: MSET {t}:a 1 {t}:b 1']); // the ASK hop: still not the SET
    t.nodes.step();
    expect(t.nodes.step()).toBe('dst: MSET {t}:a 1 {t}:b 1 → +OK');
    // Only now, after the MSET's final reply, the SET goes.
    expect(t.nodes.shown()).toEqual(['src: SET {t}:a x']);
    t.nodes.step();
    t.nodes.step();
    expect(t.nodes.step()).toBe('dst: SET {t}:a x → +OK');
    expect(t.settled).toEqual(['MSET {t}:a 1 {t}:b 1 → +OK', 'SET {t}:a x → +OK']);
    // The effect order is the client's: its acknowledged SET is what is stored.
    expect(t.nodes.dst.get('{t}:a')).toBe('x');
    expect(t.forwarder.parked).toBe(0);
  });

  it('each piece of a split waits on its own slot; the pieces of other slots and later requests there are pipelined', () => {
    const t = setup(true);
    t.run('MSET', '{t}:a', '1', '{u}:x', '1'); // pieces: slot T (migrating), slot U (online)
    t.run('SET', '{t}:a', 'x');
    t.run('SET', '{u}:x', 'y');
    t.run('GET', '{u}:x');
    expect(t.nodes.shown()).toEqual(['src: MSET {t}:a 1', 'src: MSET {u}:x 1', 'src: SET {u}:x y', 'src: GET {u}:x']);
    t.nodes.step(); // the slot-T piece settles: the SET on slot T goes now, after it
    expect(t.nodes.shown()).toEqual(['src: MSET {u}:x 1', 'src: SET {u}:x y', 'src: GET {u}:x', 'src: SET {t}:a x']);
    for (let i = 0; i < 4; i++) t.nodes.step();
    expect(t.settled).toEqual(['MSET {t}:a 1 {u}:x 1 → +OK', 'SET {u}:x y → +OK', 'GET {u}:x → $1\r\ny', 'SET {t}:a x → +OK']);
    expect(t.nodes.src.get('{t}:a')).toBe('x');
    expect(t.forwarder.parked).toBe(0);
  });

  it('a slot not migrating is fully pipelined and parks nothing', () => {
    const t = setup(false);
    t.run('MSET', '{t}:a', '1', '{t}:b', '1');
    t.run('SET', '{t}:a', 'x');
    t.run('GET', '{t}:a');
    expect(t.nodes.shown()).toEqual(['src: MSET {t}:a 1 {t}:b 1', 'src: SET {t}:a x', 'src: GET {t}:a']);
    expect(t.forwarder.parked).toBe(0);
  });

  it('after the chain drained, a migrating slot\'s next request is sent at once (nothing left behind)', () => {
    const t = setup(true);
    t.run('SET', '{t}:a', '1');
    expect(t.forwarder.parked).toBe(1); // in flight, heading the slot's chain
    t.nodes.step();
    expect(t.forwarder.parked).toBe(0);
    t.run('GET', '{t}:a');
    expect(t.nodes.shown()).toEqual(['src: GET {t}:a']);
    t.nodes.step();
    expect(t.settled).toEqual(['SET {t}:a 1 → +OK', 'GET {t}:a → $1\r\n1']);
  });
});
