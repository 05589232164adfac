// A request that was already in flight when an earlier request of the same client on the same
// slot began its -TRYAGAIN back-off, and is then answered -ASK or -MOVED, waits behind that
// retried request instead of running at the redirect's target first. The integration failure
// this reproduces (migration-faults.test.ts under load): a pipelined [MSET {t}:a {t}:b, DEL {t}:b]
// where {t}:b was absent on the migrating source: the MSET got -TRYAGAIN, the DEL -ASK, the DEL
// ran on the target (0 deleted) and the retried MSET then wrote {t}:b, which the client had
// deleted after it. Fake links record what is sent, per address, in order; time is fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { FakeLinks, TRYAGAIN_REPLY as TRY } from '../../helpers/fake-links.js';
import { Forwarder } from '../../../proxy/forwarder.js';

const cmd = (...args: string[]) => encodeCommand(args);

function setup() {
  const links = new FakeLinks();
  const hooks = { onMoved: () => {}, onInternalError: (e: unknown) => { throw e; }, gone: () => false };
  const moved: string[] = [];
  const writes = new Forwarder(links, { moved: (slot, addr) => void moved.push(`${slot} ${addr}`) }, hooks);
  const settled: string[] = [];
  const send = (slot: number, ...args: string[]) => writes.forward('src', cmd(...args), slot, (r) => void settled.push(`${args.join(' ')} → ${r.toString('latin1').trim()}`));
  return { links, writes, settled, send, moved };
}

describe('a redirected request waits behind an earlier one of the client in -TRYAGAIN back-off', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('-ASK: the pipelined DEL goes to the target only after the retried MSET settled', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.send(7, 'DEL', '{t}b'); // pipelined: on the wire before the MSET's answer
    t.links.answer(TRY); // {t}a here, {t}b absent: the MSET waits
    t.links.answer('-ASK 7 dst\r\n'); // {t}b absent on the source
    expect(t.links.wire(true)).toEqual([]); // the DEL is not sent to the target ahead of the MSET
    expect(t.writes.parked).toBe(2);
    // Meanwhile the tag moved: the retried MSET is sent to the target.
    vi.advanceTimersByTime(5);
    expect(t.links.wire(true)).toEqual(['src: MSET {t}a 1 {t}b 1']);
    t.links.answer('-ASK 7 dst\r\n');
    expect(t.links.wire(true)).toEqual(['dst: ASKING', 'dst: MSET {t}a 1 {t}b 1']);
    t.links.answer('+OK\r\n'); // ASKING
    t.links.answer('+OK\r\n');
    // Only now the DEL, to the target it was sent to, after ASKING: it finds the MSET's {t}b.
    expect(t.links.wire(true)).toEqual(['dst: ASKING', 'dst: DEL {t}b']);
    t.links.answer('+OK\r\n');
    t.links.answer(':1\r\n');
    expect(t.settled).toEqual(['MSET {t}a 1 {t}b 1 → +OK', 'DEL {t}b → :1']);
    expect(t.writes.parked).toBe(0);
  });

  it('-MOVED: the pipelined SET follows the owner only after the retried MSET settled; the router is still told at once', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.send(7, 'SET', '{t}b', '2');
    t.links.answer(TRY);
    t.links.answer('-MOVED 7 dst\r\n');
    expect(t.moved).toEqual(['7 dst']);
    expect(t.links.wire(true)).toEqual([]);
    vi.advanceTimersByTime(5);
    t.links.answer('-MOVED 7 dst\r\n');
    expect(t.links.wire(true)).toEqual(['dst: MSET {t}a 1 {t}b 1']);
    t.links.answer('+OK\r\n');
    expect(t.links.wire(true)).toEqual(['dst: SET {t}b 2']);
    t.links.answer('+OK\r\n');
    expect(t.settled.map((s) => s.split(' → ')[0])).toEqual(['MSET {t}a 1 {t}b 1', 'SET {t}b 2']);
  });

  it('a redirect of a request older than the chain\'s head, or of another slot, is followed at once', () => {
    const t = setup();
    t.send(7, 'DEL', '{t}b');
    t.send(8, 'DEL', 'x');
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.links.answer('-ASK 7 dst\r\n');
    t.links.answer('-ASK 8 dst\r\n');
    t.links.answer(TRY);
    expect(t.links.wire(true)).toEqual(['dst: ASKING', 'dst: DEL {t}b', 'dst: ASKING', 'dst: DEL x']);
  });

  it('several redirected requests behind the head keep the client\'s order among themselves', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.send(7, 'DEL', '{t}b');
    t.send(7, 'MGET', '{t}a', '{t}b');
    t.send(7, 'SET', '{t}b', '3');
    t.links.answer(TRY);
    t.links.answer('-ASK 7 dst\r\n');
    t.links.answer(TRY); // the MGET: behind the DEL
    t.links.answer('-ASK 7 dst\r\n');
    expect(t.links.wire(true)).toEqual([]);
    vi.advanceTimersByTime(5);
    t.links.answer('+OK\r\n'); // the MSET, at the source
    expect(t.links.wire(true)).toEqual(['dst: ASKING', 'dst: DEL {t}b']);
    t.links.answer('+OK\r\n');
    t.links.answer(':1\r\n');
    expect(t.links.wire(true)).toEqual(['src: MGET {t}a {t}b']);
    t.links.answer('*2\r\n$1\r\n1\r\n$-1\r\n');
    expect(t.links.wire(true)).toEqual(['dst: ASKING', 'dst: SET {t}b 3']);
    t.links.answer('+OK\r\n');
    t.links.answer('+OK\r\n');
    expect(t.settled.map((s) => s.split(' → ')[0])).toEqual(['MSET {t}a 1 {t}b 1', 'DEL {t}b', 'MGET {t}a {t}b', 'SET {t}b 3']);
  });
});
