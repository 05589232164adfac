// The forwarder over fake links: replies delivered when the test says (out of order across
// links), injected -MOVED / -ASK / -TRYAGAIN followed as the nodes ask, a link failure ending the
// request with its error, and the bounds (hops, TRYAGAIN budget) passing the last answer on.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLinks } from '../../helpers/fake-links.js';
import { ASK, Forwarder, MAX_REDIRECTS, MOVED, TRYAGAIN, TRYAGAIN_BUDGET_MS, redirectKind, redirectTarget } from '../../../proxy/forwarder.js';

const GET = Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
const ASKING = '*1\r\n$6\r\nASKING\r\n';

function setup() {
  const links = new FakeLinks();
  const moved: Array<[number, string]> = [];
  let movedCount = 0;
  let gone = false;
  const errors: unknown[] = [];
  const fwd = new Forwarder(links, { moved: (slot, addr) => void moved.push([slot, addr]) }, {
    onMoved: () => void movedCount++,
    onInternalError: (err) => void errors.push(err),
    gone: () => gone,
  });
  const results: string[] = [];
  const done = (r: Buffer) => void results.push(r.toString('latin1'));
  return { links, moved, fwd, results, done, errors, movedCount: () => movedCount, leave: () => (gone = true) };
}

describe('redirect parsing', () => {
  it('recognises MOVED, ASK and TRYAGAIN and nothing else', () => {
    expect(redirectKind(Buffer.from('-MOVED 5 127.0.0.1:7001\r\n'))).toBe(MOVED);
    expect(redirectKind(Buffer.from('-ASK 5 127.0.0.1:7001\r\n'))).toBe(ASK);
    expect(redirectKind(Buffer.from('-TRYAGAIN Multiple keys request during rehashing of slot\r\n'))).toBe(TRYAGAIN);
    for (const other of ['+MOVED 5 x\r\n', '-ERR MOVED\r\n', '-MOVEDX\r\n', '-ASKING\r\n', '-TRY\r\n', '$5\r\nMOVED\r\n', '-\r\n']) {
      expect(redirectKind(Buffer.from(other))).toBe(0);
    }
    expect(redirectTarget(Buffer.from('-MOVED 5 127.0.0.1:7001\r\n'))).toBe('127.0.0.1:7001');
    expect(redirectTarget(Buffer.from('-MOVED 5\r\n'))).toBeNull();
  });
});

describe('Forwarder', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('passes an ordinary reply or error through, and a link failure as an error frame', () => {
    const t = setup();
    t.fwd.forward('a', GET, 3, t.done);
    t.fwd.forward('b', GET, 3, t.done);
    t.fwd.forward('a', GET, 3, t.done);
    // Out of order across links: b first, then both of a's.
    t.links.answerTo('b', '-ERR wrong kind\r\n');
    t.links.answerTo('a', '$1\r\nv\r\n');
    t.links.answerTo('a', null, 'ERR backend group 1 timed out');
    expect(t.results).toEqual(['-ERR wrong kind\r\n', '$1\r\nv\r\n', '-ERR backend group 1 timed out\r\n']);
    expect(t.moved).toEqual([]);
  });

  it('follows -MOVED to the named node and tells the router about the slot', () => {
    const t = setup();
    t.fwd.forward('a', GET, 7, t.done);
    t.links.answerTo('a', '-MOVED 7 127.0.0.1:2\r\n');
    expect(t.results).toEqual([]);
    const resent = t.links.answerTo('127.0.0.1:2', '$2\r\nok\r\n');
    expect(resent.raw).toBe(GET.toString('latin1'));
    expect(t.results).toEqual(['$2\r\nok\r\n']);
    expect(t.moved).toEqual([[7, '127.0.0.1:2']]);
    expect(t.movedCount()).toBe(1);
  });

  it('follows -MOVED for a request of several slots without remembering a slot', () => {
    const t = setup();
    t.fwd.forward('a', GET, -1, t.done);
    t.links.answerTo('a', '-MOVED 7 127.0.0.1:2\r\n');
    t.links.answerTo('127.0.0.1:2', ':1\r\n');
    expect(t.results).toEqual([':1\r\n']);
    expect(t.moved).toEqual([]);
  });

  it('follows -ASK with ASKING queued right before the request on the target link, once', () => {
    const t = setup();
    t.fwd.forward('a', GET, 7, t.done);
    t.links.answerTo('a', '-ASK 7 127.0.0.1:2\r\n');
    const toTarget = t.links.sent.filter((s) => s.addr === '127.0.0.1:2').map((s) => s.raw);
    expect(toTarget).toEqual([ASKING, GET.toString('latin1')]);
    t.links.answerTo('127.0.0.1:2', '+OK\r\n'); // ASKING's reply is not the client's
    expect(t.results).toEqual([]);
    t.links.answerTo('127.0.0.1:2', '$1\r\nx\r\n');
    expect(t.results).toEqual(['$1\r\nx\r\n']);
    expect(t.moved).toEqual([]); // an ASK is one request's detour, not a new owner
  });

  it('retries -TRYAGAIN after a back-off that starts at 5 ms and doubles, on the same node', () => {
    const t = setup();
    t.fwd.forward('a', GET, 7, t.done);
    t.links.answerTo('a', '-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    expect(t.links.sent).toEqual([]);
    vi.advanceTimersByTime(4);
    expect(t.links.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.links.sent.map((s) => s.addr)).toEqual(['a']);
    t.links.answerTo('a', '-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    vi.advanceTimersByTime(5);
    t.links.answerTo('a', '-TRYAGAIN Multiple keys request during rehashing of slot\r\n');
    vi.advanceTimersByTime(9);
    expect(t.links.sent).toEqual([]); // third wait is 10 ms
    vi.advanceTimersByTime(1);
    t.links.answerTo('a', '$1\r\nz\r\n');
    expect(t.results).toEqual(['$1\r\nz\r\n']);
  });

  it('passes -TRYAGAIN on once the back-off budget is spent', () => {
    const t = setup();
    t.fwd.forward('a', GET, 7, t.done);
    let tries = 0;
    while (t.results.length === 0 && tries < 1000) {
      t.links.answerTo('a', '-TRYAGAIN busy\r\n');
      tries++;
      vi.advanceTimersByTime(100);
    }
    expect(t.results).toEqual(['-TRYAGAIN busy\r\n']);
    // Waits of 5, 5, 10, 20, 40, 80, then 100 each, within the budget.
    expect(tries).toBeGreaterThan(6);
    expect(tries).toBeLessThanOrEqual(6 + TRYAGAIN_BUDGET_MS / 100);
  });

  it('a request waiting out a back-off for a client that left settles without being re-sent', () => {
    const t = setup();
    t.fwd.forward('a', GET, 7, t.done);
    t.links.answerTo('a', '-TRYAGAIN busy\r\n');
    t.leave();
    vi.advanceTimersByTime(10);
    expect(t.links.sent).toEqual([]);
    expect(t.results).toEqual(['-TRYAGAIN busy\r\n']);
  });

  it('after MAX_REDIRECTS hops backs off (no redirect to the client) and re-sends to the last node named', () => {
    const t = setup();
    t.fwd.forward('n0', GET, 7, t.done);
    for (let i = 0; i < MAX_REDIRECTS; i++) t.links.answerTo(`n${i}`, `-MOVED 7 n${i + 1}\r\n`);
    t.links.answerTo(`n${MAX_REDIRECTS}`, `-MOVED 7 n${MAX_REDIRECTS + 1}\r\n`);
    expect(t.results).toEqual([]);
    expect(t.links.sent).toEqual([]);
    vi.advanceTimersByTime(5);
    t.links.answerTo(`n${MAX_REDIRECTS + 1}`, '$1\r\nv\r\n');
    expect(t.results).toEqual(['$1\r\nv\r\n']);
  });

  it('a redirect mid-way does not hold other requests: they settle in the order their replies come', () => {
    const t = setup();
    const order: string[] = [];
    t.fwd.forward('a', GET, 1, (r) => void order.push(`first ${r.toString('latin1').trim()}`));
    t.fwd.forward('a', GET, 2, (r) => void order.push(`second ${r.toString('latin1').trim()}`));
    t.links.answerTo('a', '-TRYAGAIN busy\r\n');
    t.links.answerTo('a', ':2\r\n');
    expect(order).toEqual(['second :2']);
    vi.advanceTimersByTime(5);
    t.links.answerTo('a', ':1\r\n');
    expect(order).toEqual(['second :2', 'first :1']);
  });

  it('an exception in a callback goes to onInternalError (this client only)', () => {
    const t = setup();
    t.fwd.forward('a', GET, 1, () => {
      throw new Error('boom');
    });
    t.links.answerTo('a', ':1\r\n');
    expect((t.errors[0] as Error).message).toBe('boom');
  });
});
