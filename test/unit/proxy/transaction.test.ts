// Transactions over a fake session and fake links: MULTI … EXEC sent as one run; a queue-time
// redirect (the node discards the transaction with EXECABORT) makes it re-sent whole where the
// redirect points (-ASK after ASKING, -MOVED with the router told, -TRYAGAIN after a back-off); a
// WATCHed transaction cannot follow and gets a retryable TRYAGAIN; other EXECABORTs pass through.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import type { ReplyCallback } from '../../../proxy/backend/connection.js';
import type { ProxySession } from '../../../proxy/session.js';
import { ProxyTransaction } from '../../../proxy/transaction.js';

interface Sent { addr: string; raw: string; cb: ReplyCallback }

function setup() {
  const sent: Sent[] = [];
  const moved: Array<[number, string]> = [];
  const link = (addr: string) => ({ send: (raw: Buffer, cb: ReplyCallback) => void sent.push({ addr, raw: raw.toString('latin1'), cb }) });
  const session = {
    router: {
      master: () => 'a',
      masters: () => ['a'],
      routeError: () => 'ERR none',
      moved: (slot: number, addr: string) => void moved.push([slot, addr]),
    },
    link,
    dedicated: link,
    onMoved: () => {},
    gone: () => false,
  } as unknown as ProxySession;
  const tx = new ProxyTransaction(session);
  const results: string[] = [];
  const done = (r: Buffer) => void results.push(r.toString('latin1'));
  /** Answers every request sent to `addr` so far, in order, with `replies`. */
  const answerAll = (addr: string, replies: string[]) => {
    const mine = sent.filter((s) => s.addr === addr);
    expect(mine.map((s) => s.raw.split('\r\n')[2])).toHaveLength(replies.length);
    for (const s of mine) sent.splice(sent.indexOf(s), 1);
    mine.forEach((s, i) => s.cb(Buffer.from(replies[i]!, 'latin1'), null));
  };
  const names = (addr: string) => sent.filter((s) => s.addr === addr).map((s) => s.raw.split('\r\n')[2]);
  return { tx, sent, moved, results, done, answerAll, names };
}

const SET = encodeCommand(['SET', 'k', 'v']);
const GET = encodeCommand(['GET', 'k']);

describe('ProxyTransaction while its slot moves', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function queueTwo(t: ReturnType<typeof setup>): void {
    t.tx.multi();
    t.tx.queue(SET, [7]);
    t.tx.queue(GET, [7]);
    t.tx.exec(t.done);
  }

  it('runs MULTI … EXEC as one run and passes EXEC\'s reply', () => {
    const t = setup();
    queueTwo(t);
    expect(t.names('a')).toEqual(['MULTI', 'SET', 'GET', 'EXEC']);
    t.answerAll('a', ['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', '*2\r\n+OK\r\n$1\r\nv\r\n']);
    expect(t.results).toEqual(['*2\r\n+OK\r\n$1\r\nv\r\n']);
  });

  it('a queue-time -ASK (EXECABORT) re-sends the whole transaction to the target after ASKING', () => {
    const t = setup();
    queueTwo(t);
    t.answerAll('a', ['+OK\r\n', '-ASK 7 b:1\r\n', '-ASK 7 b:1\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n']);
    expect(t.results).toEqual([]);
    expect(t.names('b:1')).toEqual(['ASKING', 'MULTI', 'SET', 'GET', 'EXEC']);
    t.answerAll('b:1', ['+OK\r\n', '+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', '*2\r\n+OK\r\n$1\r\nv\r\n']);
    expect(t.results).toEqual(['*2\r\n+OK\r\n$1\r\nv\r\n']);
    expect(t.moved).toEqual([]);
  });

  it('a redirected EXEC (-MOVED) re-sends it to the new owner and tells the router', () => {
    const t = setup();
    queueTwo(t);
    t.answerAll('a', ['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', '-MOVED 7 c:1\r\n']);
    expect(t.names('c:1')).toEqual(['MULTI', 'SET', 'GET', 'EXEC']);
    t.answerAll('c:1', ['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', '*2\r\n+OK\r\n$1\r\nv\r\n']);
    expect(t.results).toEqual(['*2\r\n+OK\r\n$1\r\nv\r\n']);
    expect(t.moved).toEqual([[7, 'c:1']]);
  });

  it('-TRYAGAIN: re-sent after the back-off; given up with a retryable error once the budget is spent', () => {
    const t = setup();
    queueTwo(t);
    t.answerAll('a', ['+OK\r\n', '-TRYAGAIN busy\r\n', '+QUEUED\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n']);
    expect(t.sent).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(t.names('a')).toEqual(['MULTI', 'SET', 'GET', 'EXEC']);
    for (let i = 0; i < 100 && t.results.length === 0; i++) {
      t.answerAll('a', ['+OK\r\n', '-TRYAGAIN busy\r\n', '+QUEUED\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n']);
      vi.advanceTimersByTime(100);
    }
    expect(t.results).toHaveLength(1);
    expect(t.results[0]).toMatch(/^-TRYAGAIN .*nothing was applied/);
  });

  it('a WATCHed transaction that is redirected gets a retryable TRYAGAIN, not a partial effect', () => {
    const t = setup();
    const watched: string[] = [];
    t.tx.watch(encodeCommand(['WATCH', 'k']), [7], (r) => void watched.push(r.toString('latin1')));
    t.answerAll('a', ['+OK\r\n']);
    expect(watched).toEqual(['+OK\r\n']);
    queueTwo(t);
    t.answerAll('a', ['+OK\r\n', '-ASK 7 b:1\r\n', '-ASK 7 b:1\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n']);
    expect(t.results).toHaveLength(1);
    expect(t.results[0]).toMatch(/^-TRYAGAIN .*nothing was applied/);
    expect(t.sent).toEqual([]);
  });

  it('a WATCH answered -ASK is refused with a retryable error; one answered -MOVED follows to the owner', () => {
    const t = setup();
    const replies: string[] = [];
    t.tx.watch(encodeCommand(['WATCH', 'k']), [7], (r) => void replies.push(r.toString('latin1')));
    t.answerAll('a', ['-ASK 7 b:1\r\n']);
    expect(replies[0]).toMatch(/^-TRYAGAIN .*retry WATCH/);
    t.tx.unwatch(() => {});
    t.answerAll('a', ['+OK\r\n']);
    t.tx.watch(encodeCommand(['WATCH', 'k']), [7], (r) => void replies.push(r.toString('latin1')));
    t.answerAll('a', ['-MOVED 7 c:1\r\n']);
    expect(t.names('a')).toEqual([]);
    t.answerAll('c:1', ['+OK\r\n']);
    expect(replies[1]).toBe('+OK\r\n');
    expect(t.moved).toEqual([[7, 'c:1']]);
    queueTwo(t);
    expect(t.names('c:1')).toEqual(['MULTI', 'SET', 'GET', 'EXEC']); // runs where the WATCH is
  });

  it('a later WATCH answered -MOVED does not move (the earlier WATCHes stay on their node)', () => {
    const t = setup();
    const replies: string[] = [];
    t.tx.watch(encodeCommand(['WATCH', 'k']), [7], (r) => void replies.push(r.toString('latin1')));
    t.answerAll('a', ['+OK\r\n']);
    t.tx.watch(encodeCommand(['WATCH', 'k2']), [7], (r) => void replies.push(r.toString('latin1')));
    t.answerAll('a', ['-MOVED 7 c:1\r\n']);
    expect(replies[1]).toMatch(/^-TRYAGAIN .*retry WATCH/);
    expect(t.sent).toEqual([]);
    expect(t.moved).toEqual([]);
  });

  it('an EXECABORT without a redirect (a real queue-time error) passes through', () => {
    const t = setup();
    queueTwo(t);
    t.answerAll('a', ['+OK\r\n', "-ERR wrong number of arguments for 'set' command\r\n", '+QUEUED\r\n', '-EXECABORT Transaction discarded because of previous errors.\r\n']);
    expect(t.results).toEqual(['-EXECABORT Transaction discarded because of previous errors.\r\n']);
  });
});
