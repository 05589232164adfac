// The forwarder's -MOVED back-off: while a slot changes hands the two nodes may briefly each name
// the other as the owner. A -MOVED pointing back at the node that just redirected (or an -ASK
// whose target bounces it back), or one after the hop budget, is waited out like -TRYAGAIN
// (bounded, per request, in the client's order on the slot) instead of reaching the client.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLinks } from '../../helpers/fake-links.js';
import { Forwarder, TRYAGAIN_BUDGET_MS } from '../../../proxy/forwarder.js';

const GET = (k: string) => Buffer.from(`*2\r\n$3\r\nGET\r\n$${k.length}\r\n${k}\r\n`);

function setup() {
  const links = new FakeLinks();
  const results: string[] = [];
  const fwd = new Forwarder(links, { moved: () => {} }, { onMoved: () => {}, onInternalError: (err) => { throw err; }, gone: () => false });
  const done = (tag: string) => (r: Buffer) => void results.push(`${tag} ${r.toString('latin1').trim()}`);
  return { links, fwd, results, done };
}

describe('Forwarder: -MOVED back-off while a slot changes hands', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('a -MOVED back to the node that redirected is waited out, then the retry gets the answer', () => {
    const t = setup();
    t.fwd.forward('src', GET('k'), 7, t.done('k'));
    t.links.answerTo('src', '-MOVED 7 dst\r\n', null, true);
    t.links.answerTo('dst', '-MOVED 7 src\r\n', null, true); // dst not told yet: bounced back
    expect(t.links.sent).toEqual([]); // not re-sent at once (no ping-pong)
    expect(t.results).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(t.links.sent.map((s) => s.addr)).toEqual(['src']);
    t.links.answerTo('src', '-MOVED 7 dst\r\n', null, true);
    t.links.answerTo('dst', '$1\r\nv\r\n', null, true); // told now
    expect(t.results).toEqual(['k $1\r\nv']);
  });

  it('an -ASK whose target answers -MOVED back to the source backs off too', () => {
    const t = setup();
    t.fwd.forward('src', GET('k'), 7, t.done('k'));
    t.links.answerTo('src', '-ASK 7 dst\r\n', null, true);
    t.links.answerTo('dst', '-MOVED 7 src\r\n', null, true);
    expect(t.links.sent.filter((s) => !s.raw.includes('ASKING'))).toEqual([]);
    vi.advanceTimersByTime(5);
    t.links.answerTo('src', '$1\r\nv\r\n', null, true);
    expect(t.results).toEqual(['k $1\r\nv']);
  });

  it('later requests of the client on the slot wait behind it (order kept); other slots do not', () => {
    const t = setup();
    t.fwd.forward('src', GET('a'), 7, t.done('a'));
    t.links.answerTo('src', '-MOVED 7 dst\r\n', null, true);
    t.links.answerTo('dst', '-MOVED 7 src\r\n', null, true);
    t.fwd.forward('dst', GET('b'), 7, t.done('b')); // same slot: parked behind a
    t.fwd.forward('x', GET('c'), 9, t.done('c')); // other slot: sent now
    expect(t.links.sent.map((s) => s.addr)).toEqual(['x']);
    t.links.answerTo('x', ':1\r\n', null, true);
    vi.advanceTimersByTime(5);
    t.links.answerTo('src', ':2\r\n', null, true);
    t.links.answerTo('dst', ':3\r\n', null, true);
    expect(t.results).toEqual(['c :1', 'a :2', 'b :3']);
  });

  it('bounded: when the budget is spent the last -MOVED is passed on', () => {
    const t = setup();
    const started = Date.now();
    t.fwd.forward('src', GET('k'), 7, t.done('k'));
    t.links.answerTo('src', '-MOVED 7 dst\r\n', null, true);
    for (let i = 0; i < 1000 && t.results.length === 0; i++) {
      t.links.answerTo('dst', '-MOVED 7 src\r\n', null, true);
      vi.advanceTimersByTime(200);
      if (t.results.length) break;
      t.links.answerTo('src', '-MOVED 7 dst\r\n', null, true);
    }
    expect(t.results).toEqual(['k -MOVED 7 src']);
    expect(Date.now() - started).toBeLessThanOrEqual(TRYAGAIN_BUDGET_MS + 200);
  });
});
