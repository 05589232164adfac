// Transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH on our node vs real redis-server (replies byte
// for byte, a second connection modifying watched keys), and the write stream EXEC propagates.
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeConfig } from '../../../node/config.js';
import { NodeServer } from '../../../node/server.js';
import { Session } from '../../../node/session.js';
import { usePair } from '../../helpers/differential.js';
import { FrameDuo } from '../../helpers/frame-client.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('transactions match redis-server', () => {
  const p = usePair();
  const open: FrameDuo[] = [];
  const duo = async () => {
    const d = await FrameDuo.open(p.node.port, p.redisServer.port);
    open.push(d);
    return d;
  };
  beforeEach(async () => {
    await p.both('FLUSHALL');
  });
  afterEach(() => {
    for (const d of open.splice(0)) d.close();
  });

  it('queues and executes, with runtime errors inside the EXEC reply', async () => {
    await p.same(
      ['EXEC'], ['DISCARD'], ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['SET', 'a', '1'], ['INCR', 'a'], ['LPUSH', 'a', 'x'],
      ['GET', 'a'], ['INCR', 'nope'], ['UNWATCH'], ['EXEC'], ['EXEC'], ['MULTI'], ['EXEC'],
    );
  });

  it('aborts with EXECABORT after a queue-time error', async () => {
    await p.same(['MULTI'], ['SET', 'a', '1'], ['NOSUCH', 'x'], ['SET', 'b', '2'], ['EXEC'], ['EXEC'], ['EXISTS', 'a', 'b']);
    await p.same(['MULTI'], ['SET', 'a'], ['EXEC'], ['MULTI'], ['GET', 'a', 'b'], ['DISCARD'], ['GET', 'a']);
    // A command refused inside MULTI, and errors of MULTI/WATCH themselves, do not abort.
    await p.same(['MULTI'], ['MULTI'], ['WATCH', 'a'], ['SET', 'a', 'v'], ['EXEC'], ['GET', 'a']);
  });

  it('discards', async () => {
    await p.same(['MULTI'], ['SET', 'a', '1'], ['DISCARD'], ['GET', 'a'], ['DISCARD'], ['EXEC']);
    await p.same(['WATCH'], ['UNWATCH', 'x'], ['MULTI', 'x'], ['DISCARD', 'x'], ['UNWATCH'], ['WATCH', 'a', 'b']);
  });

  it('runs SELECT and key commands of several types in order', async () => {
    await p.same(
      ['MULTI'], ['SET', 'k', '1'], ['SELECT', '2'], ['SET', 'k', '2'], ['RPUSH', 'l', 'a', 'b'], ['LRANGE', 'l', '0', '-1'],
      ['SELECT', '0'], ['GET', 'k'], ['EXEC'], ['SELECT', '2'], ['GET', 'k'], ['SELECT', '0'],
    );
  });

  it('fails EXEC when another client changes a watched key', async () => {
    const other = await duo();
    await p.same(['SET', 'k', '1'], ['WATCH', 'k'], ['MULTI'], ['INCR', 'k']);
    await other.same(1, 'SET', 'k', '5');
    await p.same(['EXEC'], ['GET', 'k']);
    // EXEC unwatched: the next transaction runs.
    await p.same(['MULTI'], ['INCR', 'k'], ['EXEC']);
    // Watched but untouched, or touched before WATCH: runs.
    await other.same(1, 'SET', 'k', '7');
    await p.same(['WATCH', 'k', 'missing'], ['GET', 'k'], ['MULTI'], ['INCR', 'k'], ['EXEC']);
    // A key created after WATCH, and a delete, count as changes.
    await p.same(['WATCH', 'missing']);
    await other.same(1, 'SET', 'missing', 'now');
    await p.same(['MULTI'], ['PING'], ['EXEC']);
    await p.same(['WATCH', 'k']);
    await other.same(1, 'DEL', 'k');
    await p.same(['MULTI'], ['PING'], ['EXEC']);
    // A write that changes nothing (DEL of a missing key) does not.
    await p.same(['WATCH', 'k']);
    await other.same(1, 'DEL', 'k');
    await p.same(['MULTI'], ['PING'], ['EXEC']);
  });

  it('fails EXEC when the client itself changed a watched key before MULTI', async () => {
    await p.same(['SET', 'k', '1'], ['WATCH', 'k'], ['SET', 'k', '1'], ['MULTI'], ['GET', 'k'], ['EXEC']);
  });

  it('UNWATCH and DISCARD forget watched keys', async () => {
    const other = await duo();
    await p.same(['WATCH', 'k'], ['UNWATCH']);
    await other.same(1, 'SET', 'k', '1');
    await p.same(['MULTI'], ['GET', 'k'], ['EXEC']);
    await p.same(['WATCH', 'k'], ['MULTI'], ['DISCARD']);
    await other.same(1, 'SET', 'k', '2');
    await p.same(['MULTI'], ['GET', 'k'], ['EXEC']);
    // UNWATCH inside MULTI is queued, so the watch still decides this EXEC.
    await p.same(['WATCH', 'k']);
    await other.same(1, 'SET', 'k', '3');
    await p.same(['MULTI'], ['UNWATCH'], ['EXEC']);
  });

  it('fails EXEC when a watched key expires', async () => {
    // Keys set just before and after k, with its TTL, tell when k is alive or gone without touching it.
    await p.same(['SET', 'before', 'v', 'PX', '300'], ['SET', 'k', 'v', 'PX', '300'], ['SET', 'after', 'v', 'PX', '300']);
    await p.same(['WATCH', 'k'], ['EXISTS', 'before']);
    await waitFor(async () => {
      const [a, b] = await p.both('EXISTS', 'after');
      return a === 0 && b === 0;
    }, { what: 'the TTL to pass' });
    await p.same(['MULTI'], ['SET', 'x', '1'], ['EXEC'], ['EXISTS', 'x']);
  });

  it('fails EXEC after FLUSHDB and FLUSHALL of a watched existing key', async () => {
    await p.same(['SET', 'k', '1'], ['WATCH', 'k'], ['FLUSHDB'], ['MULTI'], ['PING'], ['EXEC']);
    await p.same(['SET', 'k', '1'], ['WATCH', 'k'], ['FLUSHALL'], ['MULTI'], ['PING'], ['EXEC']);
  });

  it('does not block inside EXEC', async () => {
    await p.same(['MULTI'], ['BLPOP', 'l', '0'], ['BRPOPLPUSH', 'l', 'm', '0'], ['RPUSH', 'l', 'x'], ['BLPOP', 'l', '0'], ['EXEC']);
  });

  it('answers RESP3 shapes inside EXEC and a null for a failed EXEC', async () => {
    const c = await duo();
    const other = await duo();
    await c.both('HELLO', '3');
    await c.same(1, 'MULTI');
    await c.same(1, 'SET', 'a', '1');
    await c.same(1, 'INCRBYFLOAT', 'a', '1.5');
    await c.same(1, 'GET', 'nothing');
    await c.same(1, 'EXEC');
    await c.same(1, 'WATCH', 'a');
    await other.same(1, 'SET', 'a', '2');
    await c.same(1, 'MULTI');
    await c.same(1, 'EXEC');
    await c.same(1, 'MULTI');
    await c.same(1, 'NOSUCH');
    await c.same(1, 'EXEC');
  });
});

describe('EXEC propagation', () => {
  /** An in-process node whose write stream is recorded, and one session talking to it. */
  function harness() {
    const server = new NodeServer(new NodeConfig());
    const stream: Array<[number, string[]]> = [];
    server.replication.onStream((db, argv) => stream.push([db, [...argv]]));
    const s = new Session(server, new Socket());
    const run = (...cmds: string[][]) => {
      for (const args of cmds) server.dispatcher.execute(s, args);
      return s.w.take().toString('latin1');
    };
    return { stream, run };
  }

  it('wraps several writes in MULTI … EXEC with the first and last write dbs', () => {
    const { stream, run } = harness();
    const replies = run(['MULTI'], ['SET', 'a', '1'], ['GET', 'a'], ['SELECT', '3'], ['INCR', 'n'], ['EXEC']);
    expect(replies).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n+OK\r\n$1\r\n1\r\n+OK\r\n:1\r\n');
    expect(stream).toEqual([[0, ['MULTI']], [0, ['SET', 'a', '1']], [3, ['INCR', 'n']], [3, ['EXEC']]]);
  });

  it('sends a single write alone and nothing for a read-only or failed transaction', () => {
    const { stream, run } = harness();
    run(['MULTI'], ['SET', 'a', '1'], ['GET', 'a'], ['EXEC']);
    expect(stream).toEqual([[0, ['SET', 'a', '1']]]);
    stream.length = 0;
    run(['MULTI'], ['GET', 'a'], ['EXEC'], ['MULTI'], ['SET', 'b', '1'], ['NOSUCH'], ['EXEC'], ['MULTI'], ['LPUSH', 'a', 'x'], ['EXEC']);
    expect(stream).toEqual([]);
  });

  it('propagates writes after EXEC one by one again', () => {
    const { stream, run } = harness();
    run(['MULTI'], ['SET', 'a', '1'], ['SET', 'b', '2'], ['EXEC'], ['SET', 'c', '3']);
    expect(stream.map(([, argv]) => argv[0])).toEqual(['MULTI', 'SET', 'SET', 'EXEC', 'SET']);
  });
});

describe('WATCH and expiry without active expiry (DEBUG SET-ACTIVE-EXPIRE 0)', () => {
  const p = usePair(['--enable-debug-command', 'yes']);
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.same(['DEBUG', 'SET-ACTIVE-EXPIRE', '0']);
  });
  const waitExpired = async (key: string) => {
    await waitFor(async () => {
      const [a, b] = await p.both('EXISTS', key);
      return a === 0 && b === 0;
    }, { what: `${key} to expire` });
  };

  it('fails EXEC when a watched key reached its TTL, even if nothing deleted it', async () => {
    // Keys set just before and after k, with its TTL, tell when k is alive or gone without touching it.
    await p.same(['SET', 'before', 'v', 'PX', '300'], ['SET', 'k', 'v', 'PX', '300'], ['SET', 'after', 'v', 'PX', '300']);
    await p.same(['WATCH', 'k'], ['EXISTS', 'before']);
    await waitExpired('after');
    await p.same(['MULTI'], ['PING'], ['EXEC']);
  });

  it('runs EXEC when the watched key had already expired at WATCH time and is then deleted', async () => {
    await p.same(['SET', 'k', 'v', 'PX', '20'], ['SET', 'sentinel', 'v', 'PX', '20']);
    await waitExpired('sentinel');
    await p.same(['WATCH', 'k'], ['GET', 'k'], ['MULTI'], ['PING'], ['EXEC']);
  });
});
