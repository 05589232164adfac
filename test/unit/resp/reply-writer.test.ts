// Reply writer: RESP2 vs RESP3 shapes, Redis 7.0's double formatting (%.17g), binary bulks, and
// buffer growth past the initial 16 KB and past 1 MB (then shrinking back after take()).
import { describe, expect, it } from 'vitest';
import { scanFrame } from '../../../common/resp/frame-scanner.js';
import { ReplyWriter, formatDouble, formatG17 } from '../../../common/resp/reply-writer.js';

function written(resp: 2 | 3, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter();
  w.resp = resp;
  write(w);
  return w.take().toString('latin1');
}

describe('ReplyWriter shapes', () => {
  const cases: Array<[string, (w: ReplyWriter) => void, string, string]> = [
    ['simple', (w) => w.simple('PONG'), '+PONG\r\n', '+PONG\r\n'],
    ['ok', (w) => w.ok(), '+OK\r\n', '+OK\r\n'],
    ['error', (w) => w.error('ERR bad'), '-ERR bad\r\n', '-ERR bad\r\n'],
    ['error with newlines', (w) => w.error('ERR a\r\nb\nc'), '-ERR a  b c\r\n', '-ERR a  b c\r\n'],
    ['small integer', (w) => w.integer(7), ':7\r\n', ':7\r\n'],
    ['large integer', (w) => w.integer(1_000_000_007), ':1000000007\r\n', ':1000000007\r\n'],
    ['negative integer', (w) => w.integer(-5), ':-5\r\n', ':-5\r\n'],
    ['bigint', (w) => w.bigInteger(-(2n ** 63n)), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
    ['bulk', (w) => w.bulk('hello'), '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
    ['empty bulk', (w) => w.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['bulkOrNull missing', (w) => w.bulkOrNull(undefined), '$-1\r\n', '_\r\n'],
    ['null', (w) => w.null(), '$-1\r\n', '_\r\n'],
    ['null array', (w) => w.nullArray(), '*-1\r\n', '_\r\n'],
    ['empty array', (w) => w.array(0), '*0\r\n', '*0\r\n'],
    ['bulk array', (w) => w.bulkArray(['a', 'bc']), '*2\r\n$1\r\na\r\n$2\r\nbc\r\n', '*2\r\n$1\r\na\r\n$2\r\nbc\r\n'],
    ['map', (w) => { w.map(1); w.bulk('k'); w.integer(1); }, '*2\r\n$1\r\nk\r\n:1\r\n', '%1\r\n$1\r\nk\r\n:1\r\n'],
    ['set', (w) => { w.set(1); w.bulk('m'); }, '*1\r\n$1\r\nm\r\n', '~1\r\n$1\r\nm\r\n'],
    ['push', (w) => { w.push(1); w.bulk('x'); }, '*1\r\n$1\r\nx\r\n', '>1\r\n$1\r\nx\r\n'],
    ['double', (w) => w.double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['double inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['boolean', (w) => { w.boolean(true); w.boolean(false); }, ':1\r\n:0\r\n', '#t\r\n#f\r\n'],
    ['verbatim', (w) => w.verbatim('a:b'), '$3\r\na:b\r\n', '=7\r\ntxt:a:b\r\n'],
    ['raw', (w) => w.raw(Buffer.from('+RAW\r\n')), '+RAW\r\n', '+RAW\r\n'],
  ];
  for (const [name, write, resp2, resp3] of cases) {
    it(`${name}: RESP2 and RESP3`, () => {
      expect(written(2, write)).toBe(resp2);
      expect(written(3, write)).toBe(resp3);
    });
  }

  it('counts errors and remembers the last one', () => {
    const w = new ReplyWriter();
    w.error('ERR one');
    w.error('WRONGTYPE two');
    expect(w.errorCount).toBe(2);
    expect(w.lastError).toBe('WRONGTYPE two');
  });

  it('mark/rewind drops a suppressed reply', () => {
    const w = new ReplyWriter();
    w.ok();
    const m = w.mark();
    w.bulk('dropped');
    w.rewind(m);
    w.integer(1);
    expect(w.take().toString('latin1')).toBe('+OK\r\n:1\r\n');
  });

  it('bulk strings are binary: every byte value, short and long', () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const short = all.slice(0, 40); // copied byte by byte in JS
    for (const s of [all, short, '\r\n', '\x00']) {
      const w = new ReplyWriter();
      w.bulk(s);
      const out = w.take();
      expect(out.subarray(0, out.indexOf('\r\n') + 2).toString('latin1')).toBe(`$${s.length}\r\n`);
      expect(out.subarray(out.indexOf('\r\n') + 2, out.length - 2).equals(Buffer.from(s, 'latin1'))).toBe(true);
    }
    const w = new ReplyWriter();
    w.bulkBuffer(Buffer.from([0, 13, 10, 255]));
    expect(w.take().equals(Buffer.from([0x24, 0x34, 13, 10, 0, 13, 10, 255, 13, 10]))).toBe(true);
  });
});

describe('ReplyWriter growth', () => {
  it('grows past 16 KB and 1 MB with many replies, every frame intact', () => {
    const w = new ReplyWriter();
    const n = 60_000; // ~1.3 MB of bulks
    for (let i = 0; i < n; i++) w.bulk(`value-${i}-${'x'.repeat(i % 17)}`);
    const out = w.take();
    expect(out.length).toBeGreaterThan(1024 * 1024);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const end = scanFrame(out, pos);
      const expected = `value-${i}-${'x'.repeat(i % 17)}`;
      expect(out.toString('latin1', pos, end)).toBe(`$${expected.length}\r\n${expected}\r\n`);
      pos = end;
    }
    expect(pos).toBe(out.length);
  });

  it('a single 3 MB bulk and a 20 KB error, then reuse after take()', () => {
    const w = new ReplyWriter();
    const big = 'z'.repeat(3 * 1024 * 1024);
    w.bulk(big);
    w.error(`ERR ${'e'.repeat(20_000)}`);
    const out = w.take();
    expect(out.length).toBe(`$${big.length}\r\n`.length + big.length + 2 + 1 + 4 + 20_000 + 2);
    expect(scanFrame(out, 0)).toBe(`$${big.length}\r\n`.length + big.length + 2);
    expect(w.length).toBe(0);
    w.integer(5);
    expect(w.take().toString()).toBe(':5\r\n');
  });

  it('a 20 KB RESP3 verbatim and simple string straddling the initial buffer', () => {
    const w = new ReplyWriter();
    w.resp = 3;
    w.bulk('a'.repeat(16 * 1024 - 20));
    w.verbatim('v'.repeat(20_000));
    w.simple('s'.repeat(30_000));
    const out = w.take();
    const first = scanFrame(out, 0);
    const second = scanFrame(out, first);
    expect(out.toString('latin1', first, first + 12)).toBe('=20004\r\ntxt:');
    expect(scanFrame(out, second)).toBe(out.length);
  });
});

describe('formatDouble (Redis 7.0 replies use %.17g)', () => {
  // Expected strings are C printf("%.17g") outputs, as Redis 7.0.15 sends them.
  it.each([
    [1.5, '1.5'], [0.1, '0.10000000000000001'], [1e300, '1.0000000000000001e+300'], [-0, '-0'], [3, '3'],
    [1e17, '1e+17'], [1e16, '10000000000000000'], [123456789.123, '123456789.123'], [-2.5e-10, '-2.5000000000000002e-10'],
    [5e-324, '4.9406564584124654e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [0.0001, '0.0001'],
    [0.00001, '1.0000000000000001e-05'], [1 / 3, '0.33333333333333331'], [2 ** 53 + 2, '9007199254740994'],
    [100, '100'], [1e21, '1e+21'], [-1e-5, '-1.0000000000000001e-05'], [Infinity, 'inf'], [-Infinity, '-inf'],
  ])('formatDouble(%d) = %s', (d, s) => {
    expect(formatDouble(d)).toBe(s);
  });

  it('formatG17 of zero and of integers keeps %g rules', () => {
    expect(formatG17(0)).toBe('0');
    expect(formatG17(-0)).toBe('-0');
    expect(formatG17(12345678901234567)).toBe('12345678901234568');
    expect(formatG17(123456789012345678)).toBe('1.2345678901234568e+17');
  });
});
