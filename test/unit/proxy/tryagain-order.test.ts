// The forwarder keeps a client's order of effects across a -TRYAGAIN back-off: a later request
// of the same client on the same slot waits behind the retried one (it is not sent before the
// retry settled), one that was already in flight and also answered -TRYAGAIN is re-sent behind
// it in the client's order, other slots never wait, and a chain behind a request that keeps
// getting -TRYAGAIN drains in bounded time (each waiting request gets one more try, not a whole
// budget). Fake links record what is sent in order; time is fake.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { FakeLinks, TRYAGAIN_REPLY as TRY } from '../../helpers/fake-links.js';
import { Forwarder, TRYAGAIN_BUDGET_MS } from '../../../proxy/forwarder.js';

const cmd = (...args: string[]) => encodeCommand(args);

function setup() {
  const links = new FakeLinks();
  let gone = false;
  const fwd = new Forwarder(links, { moved: () => {} }, { onMoved: () => {}, onInternalError: (e) => { throw e; }, gone: () => gone });
  const settled: string[] = [];
  const send = (slot: number, ...args: string[]) => fwd.forward('a', cmd(...args), slot, (r) => void settled.push(`${args.join(' ')} → ${r.toString('latin1').trim()}`));
  return { links, fwd, settled, send, leave: () => (gone = true) };
}

describe('TRYAGAIN keeps the client\'s order on a slot', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('a later request on the same slot is not sent before the retried one settled; other slots go on', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.links.answer(TRY);
    // Arrive while the MSET waits out its back-off: GET on the same slot waits, slot 8 does not.
    t.send(7, 'GET', '{t}a');
    t.send(8, 'GET', 'other');
    expect(t.links.wire()).toEqual(['GET other']);
    t.links.answer('$1\r\nx\r\n');
    expect(t.fwd.parked).toBe(2); // the MSET (head) and the GET behind it
    vi.advanceTimersByTime(5);
    expect(t.links.wire()).toEqual(['MSET {t}a 1 {t}b 1']);
    t.links.answer('+OK\r\n');
    expect(t.links.wire()).toEqual(['GET {t}a']); // sent only now, after the MSET ran
    t.links.answer('$1\r\n1\r\n');
    expect(t.settled).toEqual(['GET other → $1\r\nx', 'MSET {t}a 1 {t}b 1 → +OK', 'GET {t}a → $1\r\n1']);
    expect(t.fwd.parked).toBe(0);
    // The chain is gone: the next request on slot 7 goes at once.
    t.send(7, 'GET', '{t}b');
    expect(t.links.wire()).toEqual(['GET {t}b']);
  });

  it('requests parked behind the head go one at a time, in the client\'s order, each after the previous settled', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.links.answer(TRY);
    t.send(7, 'SET', '{t}a', '2');
    t.send(7, 'MGET', '{t}a', '{t}b');
    t.send(7, 'DEL', '{t}a');
    vi.advanceTimersByTime(5);
    t.links.answer('+OK\r\n');
    expect(t.links.wire()).toEqual(['SET {t}a 2']);
    t.links.answer('+OK\r\n');
    expect(t.links.wire()).toEqual(['MGET {t}a {t}b']);
    // The MGET is refused too (still mid-move): it heads the chain now, the DEL stays behind it.
    t.links.answer(TRY);
    expect(t.links.wire()).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(t.links.wire()).toEqual(['MGET {t}a {t}b']);
    t.links.answer('*2\r\n$1\r\n2\r\n$1\r\n1\r\n');
    expect(t.links.wire()).toEqual(['DEL {t}a']);
    t.links.answer(':1\r\n');
    expect(t.settled.map((s) => s.split(' → ')[0])).toEqual(['MSET {t}a 1 {t}b 1', 'SET {t}a 2', 'MGET {t}a {t}b', 'DEL {t}a']);
  });

  it('a request already in flight that is also answered -TRYAGAIN goes behind the head and before later arrivals', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.send(7, 'MGET', '{t}a', '{t}b'); // pipelined: on the wire before the MSET's answer
    t.links.answer(TRY);
    t.send(7, 'GET', '{t}a'); // arrives now: parked
    t.links.answer(TRY); // the MGET's answer
    vi.advanceTimersByTime(5);
    expect(t.links.wire()).toEqual(['MSET {t}a 1 {t}b 1']);
    t.links.answer('+OK\r\n');
    expect(t.links.wire()).toEqual(['MGET {t}a {t}b']);
    t.links.answer('*2\r\n$1\r\n1\r\n$1\r\n1\r\n');
    expect(t.links.wire()).toEqual(['GET {t}a']);
    t.links.answer('$1\r\n1\r\n');
    expect(t.settled.map((s) => s.split(' → ')[0])).toEqual(['MSET {t}a 1 {t}b 1', 'MGET {t}a {t}b', 'GET {t}a']);
  });

  it('behind a head that never gets through, the chain drains in bounded time: the head gives up at the budget, each waiting request gets one try', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.links.answer(TRY);
    for (let i = 0; i < 5; i++) t.send(7, 'GET', `{t}${i}`);
    let elapsed = 0;
    while (t.settled.length === 0 && elapsed < 10_000) {
      vi.advanceTimersByTime(100);
      elapsed += 100;
      if (t.links.sent.length > 0) t.links.answer(TRY);
    }
    expect(t.settled[0]).toMatch(/^MSET .* → -TRYAGAIN/);
    expect(elapsed).toBeLessThanOrEqual(TRYAGAIN_BUDGET_MS + 100);
    // Each GET waited the whole budget behind the MSET: one try each, passed on at once.
    for (let i = 0; i < 5; i++) {
      expect(t.links.wire()).toEqual([`GET {t}${i}`]);
      t.links.answer(TRY);
    }
    expect(t.settled).toHaveLength(6);
    expect(t.fwd.parked).toBe(0);
  });

  it('a client\'s forwarders share its order: a read through the read forwarder waits behind a write retried by the write forwarder', () => {
    const links = new FakeLinks();
    const hooks = { onMoved: () => {}, onInternalError: (e: unknown) => { throw e; }, gone: () => false };
    const writes = new Forwarder(links, { moved: () => {} }, hooks);
    const reads = new Forwarder(links, { moved: () => {} }, hooks);
    const other = new Forwarder(links, { moved: () => {} }, { ...hooks }); // another client
    const settled: string[] = [];
    writes.forward('a', cmd('MSET', '{t}a', '1', '{t}b', '1'), 7, () => void settled.push('MSET'));
    links.answer(TRY);
    reads.forward('a', cmd('GET', '{t}a'), 7, () => void settled.push('GET'));
    other.forward('a', cmd('GET', '{t}a'), 7, () => void settled.push('other GET'));
    expect(links.wire()).toEqual(['GET {t}a']); // the other client's only
    links.answer('$1\r\n0\r\n');
    vi.advanceTimersByTime(5);
    links.answer('+OK\r\n');
    expect(links.wire()).toEqual(['GET {t}a']);
    links.answer('$1\r\n1\r\n');
    expect(settled).toEqual(['other GET', 'MSET', 'GET']);
  });

  it('a client that leaves while requests are parked: all of them settle, nothing more is sent', () => {
    const t = setup();
    t.send(7, 'MSET', '{t}a', '1', '{t}b', '1');
    t.links.answer(TRY);
    t.send(7, 'GET', '{t}a');
    t.leave();
    vi.advanceTimersByTime(10);
    expect(t.links.wire()).toEqual([]);
    expect(t.settled).toEqual([`MSET {t}a 1 {t}b 1 → ${TRY.trim()}`, `GET {t}a → ${TRY.trim()}`]);
    expect(t.fwd.parked).toBe(0);
  });
});
