// The node's allocation-free hot paths give the same bytes and commands as the general ones: the
// decoder's command-name cache and JS length-line reader, the reply writer's digit writer and its
// zero-copy hand-over of the reply buffer.
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { ProtocolError, RequestDecoder } from '../../../common/resp/request-decoder.js';
import { ReplyWriter } from '../../../common/resp/reply-writer.js';

function decodeAll(input: Buffer): string[][] {
  const d = new RequestDecoder();
  d.push(input);
  const out: string[][] = [];
  for (let cmd = d.next(); cmd !== null; cmd = d.next()) out.push(cmd);
  return out;
}

describe('request decoder hot path', () => {
  it('hands out the right name for names that share a cache slot, in any case and length', () => {
    // Many short names: several must collide in the 256-slot cache; each must come back exactly.
    const names: string[] = [];
    for (const a of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ') for (const b of 'aAzZ09') names.push(`${a}${b}x`, `${a}${b}`, `${a}`);
    const sent = [...names, ...[...names].reverse()];
    const got = decodeAll(Buffer.concat(sent.map((n) => encodeCommand([n, 'k'])))).map((c) => c[0]);
    expect(got).toEqual(sent);
  });

  it('returns one string object for a recurring name, fresh ones for other arguments', () => {
    const cmds = decodeAll(Buffer.concat([encodeCommand(['GET', 'key']), encodeCommand(['GET', 'key'])]));
    expect(cmds).toEqual([['GET', 'key'], ['GET', 'key']]);
    expect(cmds[0]![0]).toBe(cmds[1]![0]);
  });

  it('binary and long first arguments are exact (not cached past 24 bytes)', () => {
    const long = 'x'.repeat(25);
    const bin = '\x00\xff\r\n';
    expect(decodeAll(Buffer.concat([encodeCommand([long]), encodeCommand([bin, 'a']), encodeCommand([long.slice(1)])]))).toEqual([[long], [bin, 'a'], [long.slice(1)]]);
  });

  it('length lines the JS reader declines still follow Redis (leading zeros, signs, long counts)', () => {
    expect(decodeAll(Buffer.from('*1\r\n$3\r\nGET\r\n*2\r\n$0\r\n\r\n$10\r\n0123456789\r\n'))).toEqual([['GET'], ['', '0123456789']]);
    const bad = (text: string) => {
      const d = new RequestDecoder();
      d.push(Buffer.from(text));
      try {
        d.next();
        return null;
      } catch (err) {
        return (err as ProtocolError).message;
      }
    };
    expect(bad('*01\r\n$3\r\nGET\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(bad('*1\r\n$03\r\nGET\r\n')).toBe('Protocol error: invalid bulk length');
    expect(bad('*1\r\n$-3\r\nGET\r\n')).toBe('Protocol error: invalid bulk length');
    // "*-1" and "*0" are empty requests, skipped.
    expect(decodeAll(Buffer.from('*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n'))).toEqual([['PING']]);
    // A 10-digit count is read by the general path.
    expect(bad('*1000000000\r\n')).toBeNull();
  });

  it('a drained decoder reuses its chunk queue across many reads', () => {
    const d = new RequestDecoder();
    const frame = encodeCommand(['SET', 'k', 'v']);
    for (let i = 0; i < 3000; i++) {
      // Split every frame in two reads, so the queue holds two chunks and drains each time.
      d.push(frame.subarray(0, 5));
      expect(d.next()).toBeNull();
      d.push(frame.subarray(5));
      expect(d.next()).toEqual(['SET', 'k', 'v']);
      expect(d.pendingBytes).toBe(0);
    }
  });
});

describe('reply writer hot path', () => {
  it('writes integers and lengths digit by digit like String()', () => {
    const values = [0, 9, 10, 99, 1023, 1024, 65535, 1e9, 2 ** 31, 2 ** 53 - 1, -1, -10, -(2 ** 53 - 1)];
    for (const n of values) {
      const w = new ReplyWriter();
      w.integer(n);
      w.array(n);
      expect(w.take().toString('latin1')).toBe(`:${String(n)}\r\n${n === 0 ? '*0' : `*${String(n)}`}\r\n`);
    }
    // Past 2^53 every digit exactly, where String() rounds (-2^63 → -9223372036854776000) or
    // switches to an exponent (1e21 → "1e+21"), neither of which a RESP integer may be.
    for (const [n, text] of [[-(2 ** 63), '-9223372036854775808'], [2 ** 60, '1152921504606846976'], [1e21, '1000000000000000000000']] as const) {
      const w = new ReplyWriter();
      w.integer(n);
      expect(w.take().toString('latin1')).toBe(`:${text}\r\n`);
    }
    const w = new ReplyWriter();
    const value = 'v'.repeat(123456);
    w.bulk(value);
    expect(w.take().toString('latin1')).toBe(`$123456\r\n${value}\r\n`);
  });

  it('takeView hands over the buffer itself; released(true) moves the writer to a new one', () => {
    const w = new ReplyWriter();
    w.ok();
    const first = w.takeView();
    expect(first.toString()).toBe('+OK\r\n');
    w.released(false);
    w.integer(5);
    const second = w.takeView();
    expect(second.buffer).toBe(first.buffer); // reused: the consumer said it holds nothing
    w.released(true);
    w.simple('PONG');
    const third = w.takeView();
    expect(third.buffer).not.toBe(second.buffer);
    expect(second.toString()).toBe(':5\r\n'); // the kept bytes were not overwritten
    expect(third.toString()).toBe('+PONG\r\n');
  });
});
