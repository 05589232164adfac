// proxy/wait.ts with fake links: the write tracker's generations, the REPLOFFSET reply parser, and
// one WAIT over several masters whose replies arrive out of order (smallest count; a master that
// fails or changed history counts 0; a non-Tessera backend is an error; close() abandons it).
import { describe, expect, it } from 'vitest';
import type { BackendConnection, ReplyCallback } from '../../../proxy/backend/connection.js';
import type { BlockingWaiter } from '../../../proxy/backend/pool.js';
import { NO_WRITES, ProxyWait, type WaitHost, WriteTracker, parseWaitArgs, positionOf } from '../../../proxy/wait.js';

const frame = (s: string) => Buffer.from(s, 'latin1');
const position = (id: string, offset: number) => frame(`*2\r\n$${id.length}\r\n${id}\r\n:${offset}\r\n`);

/** A fake link that records requests; replies are delivered by the test, in any order. */
class FakeLink {
  sent: Array<{ text: string; cb: ReplyCallback; limit: number }> = [];
  closed = false;
  send(raw: Buffer, cb: ReplyCallback, limit = -1): void {
    this.sent.push({ text: raw.latin1Slice(0, raw.length), cb, limit });
  }
  close(): void {
    this.closed = true;
  }
}

function fakeHost() {
  const shared = new Map<string, FakeLink>();
  const blocking = new Map<string, FakeLink>();
  const released: Array<[string, boolean]> = [];
  const host: WaitHost = {
    sharedLink: (addr) => {
      if (!shared.has(addr)) shared.set(addr, new FakeLink());
      return shared.get(addr)!;
    },
    acquireBlocking: (addr: string, waiter: BlockingWaiter) => {
      const l = new FakeLink();
      blocking.set(addr, l);
      waiter.grant(l as unknown as BackendConnection, null);
    },
    releaseBlocking: (conn, reusable) => released.push([[...blocking].find(([, l]) => l === (conn as unknown))![0], reusable]),
    backendTimeoutMs: () => 5000,
    inTable: (addr) => addr !== 'gone:9',
  };
  return { host, shared, blocking, released };
}

describe('WriteTracker', () => {
  it('lists the masters written since the last take, once each, sorted', () => {
    const t = new WriteTracker();
    expect(t.take()).toEqual([]);
    t.wrote('b:2');
    t.wrote('a:1');
    t.wrote('b:2');
    expect(t.take()).toEqual(['a:1', 'b:2']);
    expect(t.take()).toEqual([]);
    t.wrote('a:1');
    expect(t.take()).toEqual(['a:1']);
  });
});

describe('parseWaitArgs / positionOf', () => {
  it('checks WAIT arguments as the node does', () => {
    expect(parseWaitArgs(['WAIT', '2', '100'])).toEqual({ want: 2, timeoutMs: 100 });
    expect(parseWaitArgs(['WAIT', 'x', '100'])).toEqual({ error: 'ERR value is not an integer or out of range' });
    expect(parseWaitArgs(['WAIT', '1', '1.5'])).toEqual({ error: 'ERR timeout is not an integer or out of range' });
    expect(parseWaitArgs(['WAIT', '1', '-1'])).toEqual({ error: 'ERR timeout is negative' });
  });

  it('reads [replid, offset] and refuses anything else', () => {
    expect(positionOf(position('abc', 42))).toEqual({ replId: 'abc', offset: 42 });
    expect(positionOf(frame('-ERR TESSERA.REPLOFFSET cannot be used with replica instances\r\n'))).toBeNull();
    expect(positionOf(frame('*1\r\n:1\r\n'))).toBeNull();
    expect(positionOf(frame(':5\r\n'))).toBeNull();
  });
});

describe('ProxyWait', () => {
  it('asks each master for its position, then waits on a blocking link; answers the smallest count whatever the order', () => {
    const { host, shared, blocking, released } = fakeHost();
    const w = new ProxyWait(host);
    const replies: string[] = [];
    w.start([{ addr: 'a:1', position: null }, { addr: 'b:2', position: null }], 2, 1000, Date.now(), (r) => replies.push(r.latin1Slice(0, r.length)));
    expect(shared.get('a:1')!.sent[0]!.text).toContain('TESSERA.REPLOFFSET');
    // b answers first.
    shared.get('b:2')!.sent[0]!.cb(position('idb', 70), null);
    const waitB = blocking.get('b:2')!.sent[0]!;
    expect(waitB.text).toMatch(/TESSERA\.WAITOFFSET\r\n\$3\r\nidb\r\n\$2\r\n70\r\n\$1\r\n2\r\n\$\d+\r\n\d+\r\n$/);
    expect(waitB.limit).toBeGreaterThan(5000); // its own timeout plus the backend timeout
    shared.get('a:1')!.sent[0]!.cb(position('ida', 10), null);
    blocking.get('a:1')!.sent[0]!.cb(frame(':2\r\n'), null);
    expect(replies).toEqual([]);
    waitB.cb(frame(':1\r\n'), null);
    expect(replies).toEqual([':1\r\n']);
    expect(released.sort()).toEqual([['a:1', true], ['b:2', true]]);
  });

  it('a master that fails or changed history counts 0; timeout 0 waits forever on the link', () => {
    const { host, shared, blocking } = fakeHost();
    const w = new ProxyWait(host);
    const replies: string[] = [];
    w.start([{ addr: 'a:1', position: null }, { addr: 'b:2', position: NO_WRITES }], 1, 0, Date.now(), (r) => replies.push(r.latin1Slice(0, r.length)));
    const waitB = blocking.get('b:2')!.sent[0]!;
    expect(waitB.text).toContain('$1\r\n*\r\n$1\r\n0\r\n');
    expect(waitB.limit).toBe(0);
    shared.get('a:1')!.sent[0]!.cb(null, 'ERR backend a:1 is down');
    waitB.cb(frame(':1\r\n'), null);
    expect(replies).toEqual([':0\r\n']);
  });

  it('a master no longer in the table (failed over) counts 0 without being asked', () => {
    const { host, shared, blocking } = fakeHost();
    const w = new ProxyWait(host);
    const replies: string[] = [];
    w.start([{ addr: 'gone:9', position: null }, { addr: 'a:1', position: null }], 1, 100, Date.now(), (r) => replies.push(r.latin1Slice(0, r.length)));
    expect(shared.has('gone:9')).toBe(false);
    shared.get('a:1')!.sent[0]!.cb(position('ida', 5), null);
    blocking.get('a:1')!.sent[0]!.cb(frame(':2\r\n'), null);
    expect(replies).toEqual([':0\r\n']);
  });

  it('a backend without TESSERA.REPLOFFSET is an error; close() abandons a WAIT and closes its links', () => {
    const { host, shared, blocking } = fakeHost();
    const w = new ProxyWait(host);
    const replies: string[] = [];
    w.start([{ addr: 'r:1', position: null }], 1, 100, Date.now(), (r) => replies.push(r.latin1Slice(0, r.length)));
    shared.get('r:1')!.sent[0]!.cb(frame("-ERR unknown command 'TESSERA.REPLOFFSET', with args beginning with: \r\n"), null);
    expect(replies[0]).toMatch(/^-ERR WAIT through the proxy needs Tessera nodes/);
    w.start([{ addr: 'a:1', position: NO_WRITES }], 1, 100, Date.now(), (r) => replies.push(r.latin1Slice(0, r.length)));
    const link = blocking.get('a:1')!;
    w.close();
    expect(link.closed).toBe(true);
    link.sent[0]!.cb(frame(':1\r\n'), null);
    expect(replies.length).toBe(1);
  });
});
