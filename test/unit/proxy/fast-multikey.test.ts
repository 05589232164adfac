// The per-key fast path (proxy/fast-multikey.ts) against the general path: whatever the scanner
// takes, the general decoder decodes to the same command, keys, slots and frame bytes; every piece
// built by copying byte ranges is byte for byte the piece the string path encodes; the splitter
// plans both the same (pieces, slots, per-slot splitting, the -CROSSSLOT re-split, merges); and
// anything unusual — a frame cut anywhere, a bad argument count, too many arguments — is left
// to the general decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../../common/commands/spec.js';
import { COMMANDS, resolveCommand } from '../../../common/commands/table.js';
import { encodeCommand } from '../../../common/resp/encode.js';
import { RequestDecoder } from '../../../common/resp/request-decoder.js';
import { SLOT_COUNT, slotOf, slotOfBytes } from '../../../common/slots.js';
import type { ReplyStream } from '../../../proxy/backend/connection.js';
import { MAX_MULTI_ARGS, frameKeysOf, isMultiKeySpec, multiSpecOf, newMultiKeyScan } from '../../../proxy/fast-multikey.js';
import { MULTI, NONE, SINGLE, newFastRequest, scanRequest } from '../../../proxy/fast-request.js';
import type { Done } from '../../../proxy/forwarder.js';
import type { SlotMode } from '../../../proxy/router.js';
import { ArgsKeys, type SlotRouter, Splitter } from '../../../proxy/splitter.js';

const MAX = 512 * 1024 * 1024;

function frame(...args: string[]): Buffer {
  return encodeCommand(args);
}

/** Scans buf[pos…] with both fast scanners: the kind, and the per-key scan. */
function scanAt(buf: Buffer, pos = 0, maxBulk = MAX) {
  const single = newFastRequest();
  const multi = newMultiKeyScan();
  const kind = scanRequest(buf, pos, buf.length, maxBulk, single, multi);
  return { kind, single, multi };
}

function specOf(args: string[]): CommandSpec {
  const r = resolveCommand(args);
  if ('error' in r) throw new Error(r.error);
  return r.spec;
}

/** What the general decoder makes of the first request in `buf`. */
function decodeFirst(buf: Buffer): { args: string[]; raw: Buffer } | null {
  const decoder = new RequestDecoder();
  decoder.keepRaw = true;
  decoder.push(buf);
  const args = decoder.next();
  return args === null ? null : { args, raw: decoder.lastRaw! };
}

// Keys: binary bytes, CR/LF inside, empty, hash tags (shared and not), braces that are no tag.
const KEYS = ['a', 'b', '', 'bin\r\n\x00\xff', '{user:1}:name', '{user:1}:mail', '{}x', 'x{}', '{', '}{', '{a}{b}', 'k'.repeat(300)];

describe('per-key fast-path scanner', () => {
  it('knows exactly the per-key commands of the table (MSET, MGET, DEL, UNLINK, EXISTS, TOUCH)', () => {
    const taken: string[] = [];
    for (const spec of COMMANDS.values()) {
      const name = Buffer.from(spec.name.toUpperCase(), 'latin1');
      expect(multiSpecOf(name, 0, name.length), spec.name).toBe(isMultiKeySpec(spec) ? spec : null);
      if (isMultiKeySpec(spec)) taken.push(spec.name);
    }
    expect(taken.sort()).toEqual(['del', 'exists', 'mget', 'mset', 'touch', 'unlink']);
  });

  it('takes MSET/MGET/DEL/UNLINK/EXISTS/TOUCH frames with the keys, slots and frame the decoder sees', () => {
    const cases: string[][] = [
      ['MSET', ...KEYS.flatMap((k, i) => [k, `v${i}\r\n`])],
      ['mset', '', ''],
      ['MGET', ...KEYS],
      ['mget', 'a'],
      ['DeL', ...KEYS],
      ['UNLINK', 'a', 'b'],
      ['EXISTS', 'a', 'a', 'a'],
      ['touch', '{t}1', '{t}2'],
    ];
    for (const args of cases) {
      const buf = Buffer.concat([frame(...args), frame('GET', 'after')]);
      const { kind, multi } = scanAt(buf);
      expect(kind, args[0]).toBe(MULTI);
      const decoded = decodeFirst(buf)!;
      expect(decoded.args).toEqual(args);
      expect(multi.spec).toBe(specOf(args));
      expect(buf.subarray(multi.start, multi.end).equals(decoded.raw)).toBe(true);
      const step = multi.spec!.keyStep;
      const keys = args.slice(1).filter((_, i) => i % step === 0);
      expect(multi.keyCount).toBe(keys.length);
      const req = frameKeysOf(buf, multi);
      const strings = new ArgsKeys(multi.spec!, args, decoded.raw);
      expect(req.keyCount).toBe(strings.keyCount);
      expect(req.whole().equals(decoded.raw)).toBe(true);
      for (let k = 0; k < keys.length; k++) {
        expect(req.slotOfKey(k)).toBe(slotOf(keys[k]!));
        expect(req.slotOfKey(k)).toBe(strings.slotOfKey(k));
      }
    }
  });

  it('computes slots from bytes as the string path does, on random and tagged keys', () => {
    const key = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u).toString('latin1')),
      fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 6 }), fc.string({ maxLength: 5 })).map(([a, t, b]) => `${a}{${t}}${b}`),
    );
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 12 }), (keys) => {
        const latin = keys.map((k) => Buffer.from(k, 'utf8').toString('latin1'));
        const buf = frame('MGET', ...latin);
        const { kind, multi } = scanAt(buf);
        expect(kind).toBe(MULTI);
        const req = frameKeysOf(buf, multi);
        for (let k = 0; k < latin.length; k++) expect(req.slotOfKey(k)).toBe(slotOf(latin[k]!));
      }),
      { numRuns: 500 },
    );
  });

  it('falls back on a frame cut at any byte offset, and resumes nothing', () => {
    const frames = [frame('MSET', 'a', '1', '{t}b', 'bin\r\n', '', 'x'), frame('MGET', 'a', '', 'c'), frame('DEL', 'k')];
    for (const full of frames) {
      for (let cut = 0; cut < full.length; cut++) {
        const part = full.subarray(0, cut);
        expect(scanAt(part).kind, `${full.latin1Slice(0, 20)} cut at ${cut}`).toBe(NONE);
        expect(decodeFirst(part)).toBeNull(); // the general path waits for the rest
      }
      expect(scanAt(full).kind).toBe(MULTI);
    }
  });

  it('leaves bad counts, odd frames and huge argument counts to the general decoder', () => {
    const others: Array<[string, Buffer]> = [
      ['MSET with a key and no value', frame('MSET', 'a')],
      ['MSET with an odd number of key/value args', frame('MSET', 'a', '1', 'b')],
      ['DEL without keys', frame('DEL')],
      ['MGET without keys', frame('MGET')],
      ['inline', Buffer.from('MSET a 1 b 2\r\n')],
      ['count lies (fewer frames)', Buffer.from('*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n')],
      ['leading zero in a length', Buffer.from('*3\r\n$4\r\nMGET\r\n$01\r\na\r\n$1\r\nb\r\n')],
      ['not a bulk', Buffer.from('*3\r\n$4\r\nMGET\r\n+a\r\n$1\r\nb\r\n')],
      ['bulk without CRLF', Buffer.from('*3\r\n$4\r\nMGET\r\n$1\r\naX$1\r\nb\r\n')],
      ['too many arguments', frame('MGET', ...Array.from({ length: MAX_MULTI_ARGS }, (_, i) => `k${i}`))],
      ['other multi-key policy', frame('MSETNX', 'a', '1', 'b', '2')],
      ['many-arg single command', frame('SADD', 's', ...Array.from({ length: 40 }, (_, i) => `m${i}`))],
    ];
    for (const [what, buf] of others) expect(scanAt(buf).kind, what).toBe(NONE);
    expect(scanAt(frame('MGET', ...Array.from({ length: MAX_MULTI_ARGS - 1 }, (_, i) => `k${i}`))).kind).toBe(MULTI);
    expect(scanAt(frame('MSET', 'k', 'x'.repeat(100)), 0, 99).kind, 'bulk over proto-max-bulk-len').toBe(NONE);
    expect(scanAt(frame('MSET', 'k', 'x'.repeat(99)), 0, 99).kind).toBe(MULTI);
  });

  it('scans pipelined frames one after another from where the last ended', () => {
    const buf = Buffer.concat([frame('SET', 'a', '1'), frame('MSET', 'a', '1', 'b', '2'), frame('GET', 'b'), frame('MGET', 'a', 'b'), frame('DEL', 'a')]);
    const single = newFastRequest();
    const multi = newMultiKeyScan();
    const seen: string[] = [];
    let pos = 0;
    for (;;) {
      const kind = scanRequest(buf, pos, buf.length, MAX, single, multi);
      if (kind === NONE) break;
      seen.push(kind === SINGLE ? single.spec!.name : multi.spec!.name);
      pos = kind === SINGLE ? single.end : multi.end;
    }
    expect(seen).toEqual(['set', 'mset', 'get', 'mget', 'del']);
    expect(pos).toBe(buf.length);
  });
});

describe('per-key pieces from byte ranges', () => {
  it('are byte for byte what the string path encodes, for any keys in any order', () => {
    const arb = fc.record({
      cmd: fc.constantFrom('MSET', 'mset', 'MGET', 'DEL', 'exists'),
      keys: fc.array(fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u).toString('latin1')), { minLength: 1, maxLength: 30 }),
      pick: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
    });
    fc.assert(
      fc.property(arb, ({ cmd, keys, pick }) => {
        const args = cmd.toLowerCase() === 'mset' ? [cmd, ...keys.flatMap((k, i) => [k, `v${i}`])] : [cmd, ...keys];
        const buf = Buffer.concat([frame('GET', 'before'), frame(...args)]);
        const before = frame('GET', 'before').length;
        const { kind, multi } = scanAt(buf, before);
        expect(kind).toBe(MULTI);
        const bytes = frameKeysOf(buf, multi);
        const strings = new ArgsKeys(multi.spec!, args, frame(...args));
        // A subset in the client's order (the plan's pieces), and one in any order (robustness).
        const subset = [...new Set(pick.map((n) => n % keys.length))].sort((x, y) => x - y);
        const shuffled = pick.map((n) => n % keys.length);
        for (const ks of [subset, shuffled]) {
          const piece = bytes.piece(ks);
          expect(piece.equals(strings.piece(ks))).toBe(true);
          const step = multi.spec!.keyStep;
          expect(decodeFirst(piece)!.args).toEqual([cmd, ...ks.flatMap((k) => args.slice(1 + k * step, 1 + (k + 1) * step))]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('do not depend on the scanner scratch once taken (the next scan may reuse it)', () => {
    const first = frame('MSET', 'a', '1', 'b', '2', 'c', '3');
    const one = scanAt(first);
    const req = frameKeysOf(first, one.multi);
    scanAt(frame('DEL', 'x', 'y', 'z', 'w', 'v')); // overwrites the scratch
    expect(decodeFirst(req.piece([2, 0]))!.args).toEqual(['MSET', 'c', '3', 'a', '1']);
    expect(req.slotOfKey(1)).toBe(slotOf('b'));
  });
});

class Req implements ReplyStream {
  reply: string | null = null;
  offer(): number {
    return 0;
  }
  chunk(): void {}
}

interface Sent { addr: string; raw: string; slot: number; done: Done }

/** A fake router (slots below 512 on "a", the rest on "b") with per-backend slot modes. */
function fakeRouter(modes: Map<string, SlotMode>): SlotRouter {
  return {
    perSlot: (addr) => modes.get(addr) !== 'any',
    needsProbe: (addr) => !modes.has(addr) && modes.set(addr, 'probing') !== null,
    learnSlotMode: (addr, mode) => void (mode === null ? modes.delete(addr) : modes.set(addr, mode)),
    master: (slot) => (slot < SLOT_COUNT / 2 ? 'a' : 'b'),
    forRead: (slot) => (slot < SLOT_COUNT / 2 ? 'a' : 'b'),
    routeError: (slot) => `ERR slot ${slot} is not assigned to any group`,
    masters: () => ['a', 'b'],
  };
}

/**
 * Runs one request through a splitter over fakes, from strings (perKey) or from bytes
 * (perKeyOf + FrameKeys), answering each piece with `answer` until none is left; returns what
 * was sent, in order, and the merged reply.
 */
function plan(args: string[], fromBytes: boolean, modes: Array<[string, SlotMode]>, answer: (s: Sent) => string) {
  const sent: Sent[] = [];
  const splitter = new Splitter<Req>({
    router: fakeRouter(new Map(modes)),
    forwarder: { forward: (addr, raw, slot, done) => void sent.push({ addr, raw: raw.toString('latin1'), slot, done }) },
    respond: (p, reply) => void (p.reply = reply.toString('latin1')),
    maxKeysReply: () => 0,
  });
  const p = new Req();
  const raw = frame(...args);
  const spec = specOf(args);
  if (fromBytes) {
    const buf = Buffer.concat([frame('PING'), raw]);
    const { kind, multi } = scanAt(buf, frame('PING').length);
    expect(kind).toBe(MULTI);
    splitter.perKeyOf(p, spec, frameKeysOf(buf, multi));
  } else {
    expect(splitter.start(p, spec, args, raw)).toBe(true);
  }
  const log: Array<Omit<Sent, 'done'>> = [];
  for (let guard = 0; sent.length > 0 && guard < 100; guard++) {
    const s = sent.shift()!;
    log.push({ addr: s.addr, raw: s.raw, slot: s.slot });
    s.done(Buffer.from(answer(s), 'latin1'));
  }
  return { log, reply: p.reply };
}

/** Keys on both backends, some sharing slots (tags), in a mixed order. */
function mixedKeys(): string[] {
  const lo: string[] = [];
  const hi: string[] = [];
  for (let i = 0; lo.length < 3 || hi.length < 3; i++) (slotOf(`key:${i}`) < SLOT_COUNT / 2 ? lo : hi).push(`key:${i}`);
  return [hi[0]!, lo[0]!, '{key:0}x', lo[1]!, hi[1]!, '{key:0}y', hi[2]!, lo[2]!];
}

/** A fake backend's answer: MGET gets "*n" of its keys' names as values, DEL/EXISTS ":count", MSET "+OK". */
function backendAnswer(s: Sent): string {
  const args = decodeFirst(Buffer.from(s.raw, 'latin1'))!.args;
  const cmd = args[0]!.toLowerCase();
  if (cmd === 'mget') return `*${args.length - 1}\r\n${args.slice(1).map((k) => `$${k.length + 2}\r\nv:${k}\r\n`).join('')}`;
  if (cmd === 'mset') return '+OK\r\n';
  return `:${args.length - 1}\r\n`;
}

describe('the splitter plans a request read from bytes as one read from strings', () => {
  const keys = mixedKeys();
  const requests = [['MSET', ...keys.flatMap((k) => [k, `v-${k}`])], ['MGET', ...keys], ['DEL', ...keys], ['EXISTS', ...keys], ['MGET', '{t}a', '{t}b'], ['MSET', 'only', '1']];
  const modeSets: Array<[string, Array<[string, SlotMode]>]> = [
    ['plain backends', [['a', 'any'], ['b', 'any']]],
    ['cluster-mode backends', [['a', 'one'], ['b', 'one']]],
    ['modes not known yet (probed)', []],
  ];
  for (const [what, modes] of modeSets) {
    it(`same pieces, slots and merged reply (${what})`, () => {
      for (const args of requests) {
        const strings = plan(args, false, modes, backendAnswer);
        const bytes = plan(args, true, modes, backendAnswer);
        expect(bytes.log, args.join(' ')).toEqual(strings.log);
        expect(bytes.reply).toEqual(strings.reply);
        expect(bytes.reply).not.toBeNull();
      }
    });
  }

  it('the single-slot request goes as the raw frame, and MGET merges in the client order', () => {
    const one = plan(['MGET', '{t}a', '{t}b'], true, [['a', 'any'], ['b', 'any']], backendAnswer);
    expect(one.log).toHaveLength(1);
    expect(one.log[0]!.raw).toBe(frame('MGET', '{t}a', '{t}b').toString('latin1'));
    expect(one.log[0]!.slot).toBe(slotOf('t'));
    const mget = plan(['MGET', ...keys], true, [['a', 'any'], ['b', 'any']], backendAnswer);
    expect(mget.log).toHaveLength(2);
    expect(mget.reply).toBe(`*${keys.length}\r\n${keys.map((k) => `$${k.length + 2}\r\nv:${k}\r\n`).join('')}`);
  });

  it('a -CROSSSLOT piece is re-split per slot from the same bytes (as the string path does)', () => {
    // "a" says it takes any slots but refuses several (a node switched to cluster mode).
    const refuse = (s: Sent) => (s.addr === 'a' && s.slot === -1 ? "-CROSSSLOT Keys in request don't hash to the same slot\r\n" : backendAnswer(s));
    for (const args of [['MGET', ...keys], ['MSET', ...keys.flatMap((k) => [k, 'v'])], ['DEL', ...keys]]) {
      const strings = plan(args, false, [['a', 'any'], ['b', 'any']], refuse);
      const bytes = plan(args, true, [['a', 'any'], ['b', 'any']], refuse);
      expect(bytes.log).toEqual(strings.log);
      expect(bytes.reply).toEqual(strings.reply);
      expect(bytes.log.filter((s) => s.addr === 'a' && s.slot >= 0).length).toBeGreaterThan(1);
      expect(bytes.reply).not.toMatch(/CROSSSLOT/);
    }
  });

  it('a failed piece fails only its own keys of an MGET, and the first error of an MSET/DEL', () => {
    const failB = (s: Sent) => (s.addr === 'b' ? '-ERR backend b down\r\n' : backendAnswer(s));
    for (const args of [['MGET', ...keys], ['MSET', ...keys.flatMap((k) => [k, 'v'])], ['DEL', ...keys]]) {
      const strings = plan(args, false, [['a', 'any'], ['b', 'any']], failB);
      const bytes = plan(args, true, [['a', 'any'], ['b', 'any']], failB);
      expect(bytes.reply).toEqual(strings.reply);
      expect(bytes.reply).toMatch(/backend b down/);
    }
  });
});
