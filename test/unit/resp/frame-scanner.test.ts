// Frame scanner: finds the exact end of every RESP2/RESP3 frame, returns INCOMPLETE at every
// split point (never a wrong boundary), rejects non-RESP bytes; random reply trees round-trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameScanner, INCOMPLETE, scanFrame } from '../../../common/resp/frame-scanner.js';

const b = (s: string) => Buffer.from(s, 'latin1');

const FRAMES: Array<[string, string]> = [
  ['simple string', '+OK\r\n'],
  ['error', '-ERR unknown command\r\n'],
  ['integer', ':-42\r\n'],
  ['bulk', '$5\r\nhello\r\n'],
  ['empty bulk', '$0\r\n\r\n'],
  ['bulk with CRLF inside', '$6\r\n\r\n\r\n\r\n\r\n'],
  ['null bulk', '$-1\r\n'],
  ['null array', '*-1\r\n'],
  ['empty array', '*0\r\n'],
  ['array', '*3\r\n:1\r\n$1\r\na\r\n+b\r\n'],
  ['nested array', '*2\r\n*2\r\n:1\r\n*0\r\n*1\r\n$-1\r\n'],
  ['RESP3 null', '_\r\n'],
  ['RESP3 double', ',3.14\r\n'],
  ['RESP3 inf', ',-inf\r\n'],
  ['RESP3 boolean', '#t\r\n'],
  ['RESP3 big number', '(3492890328409238509324850943850943825024385\r\n'],
  ['RESP3 verbatim', '=15\r\ntxt:Some string\r\n'],
  ['RESP3 bulk error', '!21\r\nSYNTAX invalid syntax\r\n'],
  ['RESP3 map', '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*1\r\n_\r\n'],
  ['RESP3 empty map', '%0\r\n'],
  ['RESP3 set', '~3\r\n+a\r\n:2\r\n,1.5\r\n'],
  ['RESP3 push', '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n'],
  ['RESP3 attribute before a reply', '|1\r\n+ttl\r\n:3600\r\n*2\r\n:1\r\n:2\r\n'],
  ['deep nesting', `${'*1\r\n'.repeat(200)}:7\r\n`],
  ['map of sets in an array', '*2\r\n%1\r\n+k\r\n~2\r\n+x\r\n+y\r\n#f\r\n'],
];

describe('scanFrame', () => {
  for (const [name, text] of FRAMES) {
    it(`${name}: exact end, INCOMPLETE at every split, offset and trailing bytes respected`, () => {
      const frame = b(text);
      expect(scanFrame(frame, 0)).toBe(frame.length);
      for (let cut = 0; cut < frame.length; cut++) {
        expect(scanFrame(frame.subarray(0, cut), 0), `cut at ${cut}`).toBe(INCOMPLETE);
        expect(scanFrame(frame, 0, cut), `end at ${cut}`).toBe(INCOMPLETE);
      }
      // Embedded after a prefix and followed by another frame.
      const both = Buffer.concat([b('JUNK'), frame, b('+NEXT\r\n')]);
      expect(scanFrame(both, 4)).toBe(4 + frame.length);
      expect(scanFrame(both, 4 + frame.length)).toBe(both.length);
    });
  }

  it('walks a pipeline of frames one after the other', () => {
    const all = b(FRAMES.map(([, t]) => t).join(''));
    let pos = 0;
    let count = 0;
    while (pos < all.length) {
      pos = scanFrame(all, pos);
      expect(pos).toBeGreaterThan(0);
      count++;
    }
    expect(pos).toBe(all.length);
    expect(count).toBe(FRAMES.length);
  });

  it.each([['x\r\n'], ['\r\n\r\n'], ['$abc\r\n'], ['*1x\r\n'], ['$\r\n'], ['*1\r\n?\r\n']])('rejects %j', (text) => {
    expect(() => scanFrame(b(text), 0)).toThrow(FrameError);
  });
});

// Random reply trees, encoded here independently of the product encoder.
type Tree =
  | { t: 'simple' | 'error' | 'double' | 'big'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bulk' | 'verbatim'; v: Uint8Array }
  | { t: 'null' | 'nullBulk' | 'nullArray' | 'bool' }
  | { t: 'array' | 'set' | 'push'; items: Tree[] }
  | { t: 'map'; pairs: Array<[Tree, Tree]> };

const lineText = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, '_'));
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constantFrom('simple', 'error', 'double', 'big'), v: lineText }) as fc.Arbitrary<Tree>,
    fc.record({ t: fc.constant('int'), v: fc.integer() }) as fc.Arbitrary<Tree>,
    fc.record({ t: fc.constantFrom('bulk', 'verbatim'), v: fc.uint8Array({ maxLength: 30 }) }) as fc.Arbitrary<Tree>,
    fc.record({ t: fc.constantFrom('null', 'nullBulk', 'nullArray', 'bool') }) as fc.Arbitrary<Tree>,
    fc.record({ t: fc.constantFrom('array', 'set', 'push'), items: fc.array(tie('tree'), { maxLength: 4 }) }) as fc.Arbitrary<Tree>,
    fc.record({ t: fc.constant('map'), pairs: fc.array(fc.tuple(tie('tree'), tie('tree')), { maxLength: 3 }) }) as fc.Arbitrary<Tree>,
  ),
}));

function encodeTree(x: Tree, out: Buffer[]): void {
  switch (x.t) {
    case 'simple': out.push(b(`+${x.v}\r\n`)); break;
    case 'error': out.push(b(`-${x.v}\r\n`)); break;
    case 'double': out.push(b(`,${x.v}\r\n`)); break;
    case 'big': out.push(b(`(${x.v}\r\n`)); break;
    case 'int': out.push(b(`:${x.v}\r\n`)); break;
    case 'bulk': out.push(b(`$${x.v.length}\r\n`), Buffer.from(x.v), b('\r\n')); break;
    case 'verbatim': out.push(b(`=${x.v.length + 4}\r\ntxt:`), Buffer.from(x.v), b('\r\n')); break;
    case 'null': out.push(b('_\r\n')); break;
    case 'nullBulk': out.push(b('$-1\r\n')); break;
    case 'nullArray': out.push(b('*-1\r\n')); break;
    case 'bool': out.push(b('#t\r\n')); break;
    case 'array': case 'set': case 'push': {
      const prefix = x.t === 'array' ? '*' : x.t === 'set' ? '~' : '>';
      out.push(b(`${prefix}${x.items.length}\r\n`));
      for (const i of x.items) encodeTree(i, out);
      break;
    }
    case 'map':
      out.push(b(`%${x.pairs.length}\r\n`));
      for (const [k, v] of x.pairs) {
        encodeTree(k, out);
        encodeTree(v, out);
      }
      break;
  }
}

describe('scanFrame properties (fast-check)', () => {
  it('random reply trees: exact end when complete, INCOMPLETE for every strict prefix', () => {
    fc.assert(
      fc.property(tree, fc.array(tree, { maxLength: 2 }), (t, rest) => {
        const parts: Buffer[] = [];
        encodeTree(t, parts);
        const frame = Buffer.concat(parts);
        const tail: Buffer[] = [];
        for (const r of rest) encodeTree(r, tail);
        const stream = Buffer.concat([frame, ...tail]);
        expect(scanFrame(stream, 0)).toBe(frame.length);
        for (let cut = 0; cut < frame.length; cut++) expect(scanFrame(stream, 0, cut)).toBe(INCOMPLETE);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes: a boundary within the buffer, INCOMPLETE, or FrameError — nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
        const buf = Buffer.from(u);
        try {
          const end = scanFrame(buf, 0);
          expect(end === INCOMPLETE || (end > 0 && end <= buf.length)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('FrameScanner (incremental)', () => {
  /** Feeds `stream` in pieces cut at `cuts`; returns every frame end found (absolute offsets). */
  function feedInPieces(stream: Buffer, cuts: number[]): number[] {
    const s = new FrameScanner();
    const bounds = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
    const ends: number[] = [];
    let from = 0;
    for (const to of [...bounds, stream.length]) {
      // Each piece is its own buffer, as socket reads are: the scanner cannot look back.
      const piece = Buffer.from(stream.subarray(from, to));
      let pos = 0;
      while (pos < piece.length) {
        const end = s.feed(piece, pos, piece.length);
        if (end === INCOMPLETE) break;
        ends.push(from + end);
        pos = end;
      }
      from = to;
    }
    return ends;
  }

  it('finds the same frame ends as scanFrame whatever the read boundaries (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (trees, cuts) => {
        const parts: Buffer[] = [];
        const expected: number[] = [];
        let len = 0;
        for (const t of trees) {
          const one: Buffer[] = [];
          encodeTree(t, one);
          const frame = Buffer.concat(one);
          parts.push(frame);
          len += frame.length;
          expected.push(len);
        }
        expect(feedInPieces(Buffer.concat(parts), cuts)).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('every one-byte piece: the end of each FRAMES example exactly', () => {
    for (const [name, text] of FRAMES) {
      const frame = b(text);
      const cuts = Array.from({ length: frame.length }, (_, i) => i);
      expect(feedInPieces(frame, cuts), name).toEqual([frame.length]);
    }
  });

  it('a 2M-element array in 64 KB pieces is scanned in linear time', () => {
    const n = 2_000_000;
    const el = b('$7\r\nelement\r\n');
    const body = Buffer.alloc(el.length * n);
    for (let i = 0; i < n; i++) el.copy(body, i * el.length);
    const stream = Buffer.concat([b(`*${n}\r\n`), body]);
    const s = new FrameScanner();
    const started = performance.now();
    let end = INCOMPLETE;
    for (let pos = 0; pos < stream.length && end === INCOMPLETE; pos += 65536) {
      const r = s.feed(stream, pos, Math.min(pos + 65536, stream.length));
      if (r !== INCOMPLETE) end = r;
    }
    const ms = performance.now() - started;
    expect(end).toBe(stream.length);
    // A single pass over 28 MB; re-scanning per piece would take minutes.
    expect(ms).toBeLessThan(3000);
  });

  it('rejects garbage split across pieces and can be reset', () => {
    const s = new FrameScanner();
    expect(s.feed(b('$1'), 0, 2)).toBe(INCOMPLETE);
    expect(() => s.feed(b('x\r\n'), 0, 3)).toThrow(FrameError);
    s.reset();
    expect(s.feed(b('+OK\r\n'), 0, 5)).toBe(5);
  });
});
