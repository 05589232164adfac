// Request decoder: every case fed whole, byte by byte and split at every boundary must give the
// same commands; malformed input gives Redis's exact protocol errors; fuzzed input never misbehaves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import {
  ArgumentTooLongError, DEFAULT_LIMITS, type DecoderLimits, MAX_ARG_BYTES, ProtocolError, RequestDecoder, parseInteger, splitInlineArgs,
} from '../../../common/resp/request-decoder.js';

interface Outcome {
  commands: string[][];
  /** The ProtocolError message, or null when the input ended without an error. */
  error: string | null;
}

// next() consumes at least one byte or returns null/throws; more calls than this means a loop.
const MAX_CALLS_PER_PUSH = 1_000_000;

/** Feeds chunks in order, draining every complete command after each; stops at the first error. */
function feed(chunks: Buffer[], opts: { limits?: DecoderLimits; unauthenticated?: boolean } = {}): Outcome {
  const d = new RequestDecoder(opts.limits ?? DEFAULT_LIMITS);
  d.unauthenticated = opts.unauthenticated ?? false;
  const commands: string[][] = [];
  try {
    for (const chunk of chunks) {
      d.push(chunk);
      for (let calls = 0; ; calls++) {
        if (calls > MAX_CALLS_PER_PUSH) throw new Error('decoder does not make progress');
        const cmd = d.next();
        if (cmd === null) break;
        commands.push(cmd);
      }
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { commands, error: err.message };
  }
  return { commands, error: null };
}

const bytesOf = (s: string) => Buffer.from(s, 'latin1');
const whole = (b: Buffer) => [Buffer.from(b)];
const byteByByte = (b: Buffer) => Array.from(b, (x) => Buffer.from([x]));
const splitAt = (b: Buffer, i: number) => [Buffer.from(b.subarray(0, i)), Buffer.from(b.subarray(i))];

/** Split points to try: all of them for small inputs, the edges plus a stride for big ones. */
function splitPoints(len: number): number[] {
  if (len <= 4096) return Array.from({ length: len + 1 }, (_, i) => i);
  const pts = new Set<number>();
  for (let i = 0; i <= 80; i++) {
    pts.add(i);
    pts.add(len - i);
  }
  for (let i = 0; i <= len; i += 1013) pts.add(i);
  return [...pts].filter((i) => i >= 0 && i <= len);
}

/** Asserts the three feeding modes agree with the expected outcome. */
function expectEveryFeeding(input: Buffer, expected: Outcome, opts: Parameters<typeof feed>[1] = {}): void {
  expect(feed(whole(input), opts)).toEqual(expected);
  if (input.length <= 200_000) expect(feed(byteByByte(input), opts)).toEqual(expected);
  for (const i of splitPoints(input.length)) {
    const got = feed(splitAt(input, i), opts);
    if (got.error !== expected.error || JSON.stringify(got.commands) !== JSON.stringify(expected.commands)) {
      expect(got, `split at byte ${i}`).toEqual(expected);
    }
  }
}

const allBytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
const bigValue = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode((i * 7) % 256)).join('');
const exactlyBig = 'x'.repeat(32 * 1024);

const OK_CASES: Array<{ name: string; input: Buffer; commands: string[][] }> = [
  { name: 'multibulk', input: bytesOf('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n'), commands: [['SET', 'k', 'v']] },
  { name: 'empty bulk argument', input: bytesOf('*2\r\n$4\r\nECHO\r\n$0\r\n\r\n'), commands: [['ECHO', '']] },
  {
    name: 'inline with quotes and escapes',
    input: bytesOf('SET k "a b\\n\\x41\\"\\\\" \'c\\\'d\' "\\xZZ"\r\n'),
    commands: [['SET', 'k', 'a b\nA"\\', "c'd", 'xZZ']],
  },
  { name: 'inline ending in LF only', input: bytesOf('PING\nECHO  x\t y \n'), commands: [['PING'], ['ECHO', 'x', 'y']] },
  { name: 'inline keeps \\v inside a token (sdssplitargs)', input: bytesOf('ECHO a\x0bb\r\n'), commands: [['ECHO', 'a\x0bb']] },
  { name: 'inline quoted empty argument', input: bytesOf('ECHO ""\r\n'), commands: [['ECHO', '']] },
  { name: 'blank inline lines are skipped', input: bytesOf('\r\n\n   \r\nPING\r\n'), commands: [['PING']] },
  { name: '*0 and *-1 are skipped', input: bytesOf('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n'), commands: [['PING']] },
  { name: 'int64 minimum count is an empty request', input: bytesOf('*-9223372036854775808\r\nPING\r\n'), commands: [['PING']] },
  { name: 'binary bulk with CRLF inside', input: encodeCommand(['SET', 'a\r\nb', '\r\n\r\n*1\r\n$4\r\n']), commands: [['SET', 'a\r\nb', '\r\n\r\n*1\r\n$4\r\n']] },
  { name: 'all 256 byte values', input: encodeCommand(['SET', allBytes, allBytes]), commands: [['SET', allBytes, allBytes]] },
  {
    name: 'big bulk (100 KB) then another command',
    input: Buffer.concat([encodeCommand(['SET', 'big', bigValue]), encodeCommand(['GET', 'big'])]),
    commands: [['SET', 'big', bigValue], ['GET', 'big']],
  },
  {
    name: 'bulk of exactly 32 KB between small ones',
    input: Buffer.concat([encodeCommand(['PING']), encodeCommand(['SET', 'k', exactlyBig]), bytesOf('PING\r\n')]),
    commands: [['PING'], ['SET', 'k', exactlyBig], ['PING']],
  },
  {
    name: 'several commands in one chunk, inline and multibulk mixed',
    input: bytesOf('PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nECHO "x y"\r\n*1\r\n$4\r\nQUIT\r\n'),
    commands: [['PING'], ['GET', 'k'], ['ECHO', 'x y'], ['QUIT']],
  },
  {
    // Redis skips the two bytes after a bulk without checking they are CRLF.
    name: 'bulk terminator is not checked',
    input: bytesOf('*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n'),
    commands: [['PING'], ['PING']],
  },
  {
    // Redis ends a length line at the first CR and skips the next byte whatever it is.
    name: 'length line ends at the first CR',
    input: bytesOf('*1\r\n$4\rx\r\nPING\r\n'),
    commands: [['\r\nPI']],
  },
];

describe('RequestDecoder: whole, byte by byte, split at every boundary', () => {
  for (const c of OK_CASES) {
    it(c.name, () => {
      expectEveryFeeding(c.input, { commands: c.commands, error: null });
    });
  }

  it('a pipeline of 2000 commands', () => {
    const cmds = Array.from({ length: 2000 }, (_, i) => ['SET', `key:${i}`, `value-${i}`]);
    const input = Buffer.concat(cmds.map((c) => encodeCommand(c)));
    expect(feed(whole(input))).toEqual({ commands: cmds, error: null });
    expect(feed(byteByByte(input))).toEqual({ commands: cmds, error: null });
    for (const i of [1, 7, 1000, input.length >> 1, input.length - 1]) {
      expect(feed(splitAt(input, i))).toEqual({ commands: cmds, error: null });
    }
  });

  it('reports unconsumed bytes while a command is incomplete', () => {
    const d = new RequestDecoder();
    d.push(bytesOf('*2\r\n$3\r\nGET\r\n$5\r\nab'));
    expect(d.next()).toBeNull();
    expect(d.pendingBytes).toBeGreaterThan(0);
    d.push(bytesOf('cde\r\n'));
    expect(d.next()).toEqual(['GET', 'abcde']);
    expect(d.pendingBytes).toBe(0);
  });

  it('counts the chunks of a big bulk being gathered as pending', () => {
    const d = new RequestDecoder();
    d.push(bytesOf('*2\r\n$3\r\nSET\r\n$100000\r\n'));
    expect(d.next()).toBeNull();
    for (let i = 0; i < 10; i++) {
      d.push(Buffer.alloc(5000, 0x61));
      expect(d.next()).toBeNull();
    }
    expect(d.pendingBytes).toBe(50_000);
    d.push(Buffer.concat([Buffer.alloc(50_000, 0x61), bytesOf('\r\n')]));
    expect(d.next()).toEqual(['SET', 'a'.repeat(100_000)]);
    expect(d.pendingBytes).toBe(0);
  });
});

const SMALL: DecoderLimits = { maxBulkBytes: 512, maxInlineBytes: 64 * 1024 };

const ERROR_CASES: Array<{ name: string; input: Buffer; error: string; before?: string[][]; limits?: DecoderLimits; unauth?: boolean }> = [
  { name: 'non-numeric count', input: bytesOf('*abc\r\n'), error: 'invalid multibulk length' },
  { name: 'count beyond INT_MAX', input: bytesOf('*2147483648\r\n'), error: 'invalid multibulk length' },
  { name: 'count beyond int64', input: bytesOf('*99999999999999999999\r\n'), error: 'invalid multibulk length' },
  { name: 'negative count beyond int64', input: bytesOf('*-9223372036854775809\r\n'), error: 'invalid multibulk length' },
  { name: 'count with a plus sign', input: bytesOf('*+1\r\n'), error: 'invalid multibulk length' },
  { name: 'count with leading zero', input: bytesOf('*01\r\n'), error: 'invalid multibulk length' },
  { name: 'negative bulk length', input: bytesOf('*1\r\n$-1\r\n'), error: 'invalid bulk length' },
  { name: 'minus zero bulk length', input: bytesOf('*2\r\n$4\r\nECHO\r\n$-0\r\n'), error: 'invalid bulk length' },
  { name: 'non-numeric bulk length', input: bytesOf('*1\r\n$abc\r\n'), error: 'invalid bulk length' },
  { name: 'bulk beyond proto-max-bulk-len', input: bytesOf('*1\r\n$513\r\n'), error: 'invalid bulk length', limits: SMALL },
  { name: 'bulk of 600 MB by default', input: bytesOf('*1\r\n$600000000\r\n'), error: 'invalid bulk length' },
  { name: 'missing $', input: bytesOf('*1\r\nx\r\n'), error: "expected '$', got 'x'" },
  { name: 'missing $ after a good command', input: bytesOf('PING\r\n*2\r\n$4\r\nECHO\r\n:1\r\n'), error: "expected '$', got ':'", before: [['PING']] },
  { name: 'inline line of 64 KB + 1 without newline', input: Buffer.alloc(64 * 1024 + 1, 0x61), error: 'too big inline request' },
  { name: 'count line of 64 KB + 2 without CR', input: bytesOf(`*${'1'.repeat(64 * 1024 + 1)}`), error: 'too big mbulk count string' },
  { name: 'bulk length line of 64 KB + 2 without CR', input: bytesOf(`*1\r\n$${'1'.repeat(64 * 1024 + 1)}`), error: 'too big bulk count string' },
  { name: 'unbalanced double quote', input: bytesOf('ECHO "abc\r\n'), error: 'unbalanced quotes in request' },
  { name: 'unbalanced single quote', input: bytesOf("ECHO 'abc\r\n"), error: 'unbalanced quotes in request' },
  { name: 'closing quote followed by a letter', input: bytesOf('ECHO "a"b\r\n'), error: 'unbalanced quotes in request' },
  { name: 'unauthenticated: 11 arguments', input: bytesOf('*11\r\n'), error: 'unauthenticated multibulk length', unauth: true },
  { name: 'unauthenticated: 16 KB + 1 bulk', input: bytesOf('*1\r\n$16385\r\n'), error: 'unauthenticated bulk length', unauth: true },
];

describe('RequestDecoder: protocol errors with Redis texts', () => {
  for (const c of ERROR_CASES) {
    it(c.name, () => {
      const opts = { limits: c.limits, unauthenticated: c.unauth };
      const expected = { commands: c.before ?? [], error: `Protocol error: ${c.error}` };
      expect(feed(whole(c.input), opts)).toEqual(expected);
      // Splitting must not change the outcome (sampled for the 64 KB cases).
      for (const i of splitPoints(c.input.length).filter((_, k) => c.input.length <= 4096 || k % 8 === 0)) {
        expect(feed(splitAt(c.input, i), opts), `split at ${i}`).toEqual(expected);
      }
    });
  }

  it('a line just under the limits is still awaited, not an error', () => {
    expect(feed([Buffer.alloc(64 * 1024, 0x61)])).toEqual({ commands: [], error: null });
  });

  it('unauthenticated limits allow 10 arguments and 16 KB bulks', () => {
    const ten = encodeCommand(['AUTH', ...Array.from({ length: 9 }, () => 'x')]);
    const big = encodeCommand(['AUTH', 'x'.repeat(16384)]);
    expect(feed([ten, big], { unauthenticated: true }).commands).toHaveLength(2);
  });

  it('ProtocolError message is prefixed like Redis', () => {
    expect(new ProtocolError('x').message).toBe('Protocol error: x');
  });
});

describe('parseInteger and splitInlineArgs (string2ll / sdssplitargs)', () => {
  const parse = (s: string) => parseInteger(bytesOf(s), 0, s.length);
  it.each([
    ['0', 0], ['1', 1], ['-1', -1], ['123456', 123456], ['', null], ['-', null], ['-0', null], ['00', null],
    ['01', null], ['+1', null], [' 1', null], ['1 ', null], ['9223372036854775808', null],
    ['-9223372036854775809', null], ['12a', null],
  ])('parseInteger(%j) = %j', (s, n) => {
    expect(parse(s)).toBe(n);
  });

  it('accepts the int64 extremes (as the nearest doubles)', () => {
    expect(parse('9223372036854775807')! / 2 ** 63).toBeCloseTo(1, 12);
    expect(parse('-9223372036854775808')! / 2 ** 63).toBeCloseTo(-1, 12);
  });

  it.each([
    ['', []], ['   ', []], ['a b  c', ['a', 'b', 'c']], ['"a b" c', ['a b', 'c']], ["'a\\'b'", ["a'b"]],
    ["'a\\nb'", ['a\\nb']], ['"\\x41\\x4a\\x4"', ['AJx4']], ['"\\x41\\x4a"', ['AJ']], ['"\\t\\r\\b\\a\\q"', ['\t\r\b\x07q']],
    ['a"b c"d', null], ['a"b c" d', ['ab c', 'd']], ['"a\\', null], ["'a", null], ['"a"\x0bb', ['a', 'b']],
  ])('splitInlineArgs(%j) = %j', (line, args) => {
    expect(splitInlineArgs(line)).toEqual(args);
  });
});

describe('RequestDecoder properties (fast-check)', () => {
  const binaryArg = fc.oneof(
    { weight: 20, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.integer({ min: 32 * 1024 - 2, max: 70_000 }).map((n) => new Uint8Array(n).fill(0x0d)) },
  ).map((u) => Buffer.from(u).toString('latin1'));
  const command = fc.array(binaryArg, { minLength: 1, maxLength: 6 });

  it('encoded commands split at random points decode exactly', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (cmds, cuts) => {
        const input = Buffer.concat(cmds.map((c) => encodeCommand(c)));
        const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, input.length]) {
          chunks.push(Buffer.from(input.subarray(prev, p)));
          prev = p;
        }
        expect(feed(chunks)).toEqual({ commands: cmds, error: null });
      }),
      { numRuns: 300 },
    );
  });

  // Garbage biased towards RESP tokens, so the decoder's deeper states are reached.
  const token = fc.oneof(
    fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-', '0', '1', '2', '3', '9', '"', "'", '\\', 'x', ' ', '\\x4', '*-1', '$-1', '*99999999999'),
    fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u).toString('latin1')),
  );
  const garbage = fc.array(token, { maxLength: 60 }).map((ts) => bytesOf(ts.join('')));

  it('random garbage yields commands, needs more input, or throws ProtocolError only', () => {
    fc.assert(
      fc.property(garbage, fc.nat(), fc.boolean(), (input, cut, unauth) => {
        const i = cut % (input.length + 1);
        // feed() rethrows anything that is not a ProtocolError and fails on a loop.
        const a = feed(whole(input), { unauthenticated: unauth });
        const b = feed(splitAt(input, i), { unauthenticated: unauth });
        for (const cmd of [...a.commands, ...b.commands]) {
          expect(cmd.length).toBeGreaterThan(0);
          for (const arg of cmd) expect(typeof arg).toBe('string');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fully random bytes never throw anything but ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        const input = Buffer.from(u);
        feed(whole(input));
        feed(byteByByte(input));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('RequestDecoder: bounded work and memory (issue 7)', () => {
  const ping = encodeCommand(['PING']);
  const chunk64k = () => Buffer.concat(Array.from({ length: Math.floor(65536 / ping.length) }, () => ping));

  it('chunks pushed while nothing is decoded (a blocked client) are queued, not re-joined', () => {
    const d = new RequestDecoder();
    d.push(encodeCommand(['BLPOP', 'k', '0']));
    expect(d.next()).toEqual(['BLPOP', 'k', '0']);
    const chunk = chunk64k();
    const t0 = performance.now();
    // 32 MB arriving while the client is blocked: re-joining on every push copied ~8 GB (the
    // decoder before issue 7 took 22 s for twice this).
    for (let i = 0; i < 512; i++) d.push(Buffer.from(chunk));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(d.pendingBytes).toBe(512 * chunk.length);
    let n = 0;
    while (d.next() !== null) n++;
    expect(n).toBe(512 * Math.floor(65536 / ping.length));
    expect(d.pendingBytes).toBe(0);
  });

  it('a line arriving one byte per read is searched once, not from its start on every read', () => {
    const d = new RequestDecoder();
    const line = Buffer.from(`ECHO ${'x'.repeat(60_000)}\r\n`);
    const t0 = performance.now();
    let got: string[] | null = null;
    for (let i = 0; i < line.length; i++) {
      d.push(line.subarray(i, i + 1));
      got = d.next() ?? got;
    }
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(got).toEqual(['ECHO', 'x'.repeat(60_000)]);
  });

  it('a partial multibulk of many small arguments is parsed as it arrives, each byte once', () => {
    const d = new RequestDecoder();
    const args = Array.from({ length: 200_000 }, (_, i) => String(i % 10));
    const input = encodeCommand(['RPUSH', 'l', ...args]);
    const t0 = performance.now();
    let got: string[] | null = null;
    for (let at = 0; at < input.length; at += 7) {
      d.push(input.subarray(at, at + 7));
      got = d.next() ?? got;
    }
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(got).toEqual(['RPUSH', 'l', ...args]);
  });

  it('heldBytes counts the arguments already parsed of an incomplete command, and drops them when it completes', () => {
    const d = new RequestDecoder();
    d.push(Buffer.from('*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n$10\r\nabc'));
    expect(d.next()).toBeNull();
    expect(d.parsedArgBytes).toBe(9);
    expect(d.pendingBytes).toBe(3);
    expect(d.heldBytes).toBe(12);
    d.push(Buffer.from('defghij\r\n'));
    expect(d.next()).toEqual(['SET', 'k', 'value', 'abcdefghij']);
    expect(d.heldBytes).toBe(0);
  });

  it('an argument longer than a JS string is skipped without being held; the next command decodes', () => {
    const d = new RequestDecoder();
    const n = MAX_ARG_BYTES + 12;
    d.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${n}\r\n`));
    const mb = Buffer.alloc(1024 * 1024, 0x78);
    let left = n;
    let error: unknown = null;
    while (left > 0) {
      const part = left >= mb.length ? mb : mb.subarray(0, left);
      left -= part.length;
      d.push(part);
      expect(d.next()).toBeNull();
      expect(d.heldBytes).toBeLessThan(2 * 1024 * 1024);
    }
    d.push(Buffer.from('\r\n*1\r\n$4\r\nPING\r\n'));
    try {
      d.next();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ArgumentTooLongError);
    expect((error as ProtocolError).fatal).toBe(false);
    expect((error as Error).message).toBe(`argument of ${n} bytes is longer than the ${MAX_ARG_BYTES} bytes this server can hold in one argument`);
    expect(d.next()).toEqual(['PING']);
  });

  it('keepRaw: lastRaw is the exact frame when it came in one read, null when it spanned reads', () => {
    const d = new RequestDecoder();
    d.keepRaw = true;
    const a = encodeCommand(['SET', 'a', '1']);
    const b = encodeCommand(['GET', 'a']);
    d.push(Buffer.concat([a, b.subarray(0, 5)]));
    expect(d.next()).toEqual(['SET', 'a', '1']);
    expect(d.lastRaw?.equals(a)).toBe(true);
    expect(d.next()).toBeNull();
    d.push(b.subarray(5));
    expect(d.next()).toEqual(['GET', 'a']);
    expect(d.lastRaw).toBeNull();
    d.push(Buffer.from('PING\r\n'));
    expect(d.next()).toEqual(['PING']);
    expect(d.lastRaw).toBeNull();
  });
});

describe('RequestDecoder: an oversized argument split at every kind of boundary', () => {
  it('header alone, then data in pieces, then the rest: one non-fatal error, then the next command', () => {
    const n = MAX_ARG_BYTES + 1;
    const mb = Buffer.alloc(1024 * 1024, 0x61);
    for (const split of ['header-alone', 'header-with-data', 'crlf-alone']) {
      const d = new RequestDecoder();
      const header = Buffer.from(`*2\r\n$4\r\nECHO\r\n$${n}\r\n`);
      let left = n;
      if (split === 'header-with-data') {
        d.push(Buffer.concat([header, mb.subarray(0, 10)]));
        left -= 10;
      } else {
        d.push(header);
      }
      expect(d.next()).toBeNull();
      expect(d.next()).toBeNull(); // nothing new: still waiting, nothing thrown
      while (left > 0) {
        const part = left >= mb.length ? mb : mb.subarray(0, left);
        left -= part.length;
        d.push(part);
        expect(d.next()).toBeNull();
      }
      if (split === 'crlf-alone') {
        d.push(Buffer.from('\r'));
        expect(d.next()).toBeNull();
        d.push(Buffer.from('\n'));
      } else {
        d.push(Buffer.from('\r\n'));
      }
      expect(() => d.next(), split).toThrow(ArgumentTooLongError);
      expect(d.next()).toBeNull();
      d.push(Buffer.from('PING\r\n'));
      expect(d.next(), split).toEqual(['PING']);
    }
  });
});
