// The proxy's fast-path scanner against the general decoder: whatever it takes, the decoder
// decodes to the same command, key and frame bytes, and whatever is unusual (inline, partial,
// malformed, non-canonical lengths, wrong arity, other policies) it leaves to the decoder.
import { describe, expect, it } from 'vitest';
import { COMMANDS, resolveCommand } from '../../../common/commands/table.js';
import { RequestDecoder } from '../../../common/resp/request-decoder.js';
import { slotOf, slotOfBytes } from '../../../common/slots.js';
import { fastSpecOf, isFastSpec, newFastRequest, scanFastRequest } from '../../../proxy/fast-request.js';
import { Ring } from '../../../proxy/ring.js';

const MAX = 512 * 1024 * 1024;

function frame(...args: string[]): Buffer {
  return Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`, 'latin1');
}

function scan(buf: Buffer, maxBulk = MAX) {
  const out = newFastRequest();
  return scanFastRequest(buf, 0, buf.length, maxBulk, out) ? out : null;
}

describe('fast-path request scanner', () => {
  it('takes one-key single-policy commands in any letter case, with the key and frame the decoder sees', () => {
    const cases = [
      ['GET', 'k'], ['get', '{user:1}:name'], ['SeT', 'k', 'v'], ['SET', 'k', 'v', 'EX', '10', 'NX', 'GET'],
      ['INCR', 'counter'], ['HSET', 'h', 'f', 'v'], ['GET', ''], ['GET', 'bin\r\n\x00\xff'],
    ];
    for (const args of cases) {
      const buf = Buffer.concat([frame(...args), frame('PING')]);
      const got = scan(buf);
      expect(got, args.join(' ')).not.toBeNull();
      const decoder = new RequestDecoder();
      decoder.keepRaw = true;
      decoder.push(buf);
      const decoded = decoder.next()!;
      const resolved = resolveCommand(decoded);
      expect('spec' in resolved && resolved.spec).toBe(got!.spec);
      expect(buf.latin1Slice(got!.keyStart, got!.keyEnd)).toBe(decoded[1]);
      expect(buf.subarray(got!.start, got!.end).equals(decoder.lastRaw!)).toBe(true);
      expect(slotOfBytes(buf, got!.keyStart, got!.keyEnd)).toBe(slotOf(decoded[1]!));
      expect(got!.write).toBe(got!.spec!.flags.has('write'));
      expect(got!.readonly).toBe(got!.spec!.flags.has('readonly'));
    }
  });

  it('leaves everything else to the general decoder', () => {
    const others: Array<[string, Buffer]> = [
      ['inline', Buffer.from('GET k\r\n')],
      ['partial frame', frame('GET', 'k').subarray(0, 10)],
      ['frame without its last CRLF', frame('GET', 'k').subarray(0, -2)],
      ['bad trailing bytes', Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nkXX')],
      ['leading zero in a length', Buffer.from('*2\r\n$03\r\nGET\r\n$1\r\nk\r\n')],
      ['sign in a count', Buffer.from('*+2\r\n$3\r\nGET\r\n$1\r\nk\r\n')],
      ['CR without LF', Buffer.from('*2\r$3\r\nGET\r\n$1\r\nk\r\n')],
      ['not a bulk', Buffer.from('*2\r\n+GET\r\n$1\r\nk\r\n')],
      ['wrong arity', frame('GET', 'a', 'b')],
      ['too few for SET', frame('SET', 'k')],
      ['no key', frame('GET')],
      ['empty', Buffer.from('*0\r\n')],
      ['unknown command', frame('NOSUCH', 'k')],
      ['multi-key', frame('MGET', 'a', 'b')],
      ['DEL', frame('DEL', 'a')],
      ['local', frame('PING', 'x')],
      ['container', frame('OBJECT', 'ENCODING', 'k')],
      ['movable keys', frame('EVAL', 'return 1', '1', 'k')],
      ['blocking', frame('BLPOP', 'k', '0')],
      ['transaction', frame('WATCH', 'k')],
      ['pubsub', frame('PUBLISH', 'c', 'm')],
      ['cross-protocol', frame('POST', 'k')],
    ];
    for (const [what, buf] of others) expect(scan(buf), what).toBeNull();
    expect(scan(frame('SET', 'k', 'x'.repeat(100)), 99), 'bulk over proto-max-bulk-len').toBeNull();
    expect(scan(frame('SET', 'k', 'x'.repeat(99)), 99)).not.toBeNull();
  });

  it('scans pipelined frames one after another from where the last ended', () => {
    const buf = Buffer.concat([frame('SET', 'a', '1'), frame('GET', 'b'), frame('MGET', 'a', 'b')]);
    const out = newFastRequest();
    expect(scanFastRequest(buf, 0, buf.length, MAX, out)).toBe(true);
    expect(out.spec!.name).toBe('set');
    expect(scanFastRequest(buf, out.end, buf.length, MAX, out)).toBe(true);
    expect(out.spec!.name).toBe('get');
    expect(buf.latin1Slice(out.keyStart, out.keyEnd)).toBe('b');
    expect(scanFastRequest(buf, out.end, buf.length, MAX, out)).toBe(false);
  });

  it('knows exactly the table commands of the single policy with one key at argument 1', () => {
    for (const spec of COMMANDS.values()) {
      const name = Buffer.from(spec.name.toUpperCase(), 'latin1');
      expect(fastSpecOf(name, 0, name.length), spec.name).toBe(isFastSpec(spec) ? spec : null);
    }
    expect(fastSpecOf(Buffer.from('GETX'), 0, 4)).toBeNull();
  });
});

describe('Ring', () => {
  it('is a FIFO across growth and wrap-around', () => {
    const r = new Ring<number>(2);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 500; step++) {
      if (step % 3 !== 2) {
        r.push(next);
        model.push(next++);
      } else {
        expect(r.shift()).toBe(model.shift());
      }
      expect(r.size).toBe(model.length);
      expect(r.first()).toBe(model[0]);
    }
    r.clear();
    expect(r.size).toBe(0);
    expect(r.shift()).toBeUndefined();
  });
});
