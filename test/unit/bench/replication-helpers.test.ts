import { describe, it, expect } from 'vitest';
import { infoInt, infoString, parseInfo } from '../../../bench/info-fields.js';
import { lagSamples, percentile, summarizeRuns } from '../../../bench/replication-stats.js';
import { decodeReply, ReplyError } from '../../../bench/resp-reply.js';

describe('parseInfo', () => {
  const text = '# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:1234\r\n\r\n# Persistence\r\nrdb_bgsave_in_progress:0\r\n';

  it('reads field:value lines across sections and skips headers', () => {
    const info = parseInfo(text);
    expect(infoString(info, 'master_link_status')).toBe('up');
    expect(infoInt(info, 'slave_repl_offset')).toBe(1234);
    expect(infoInt(info, 'rdb_bgsave_in_progress')).toBe(0);
    expect(info.has('# Replication')).toBe(false);
  });

  it('throws on a missing or non-integer field instead of reading 0', () => {
    const info = parseInfo(text);
    expect(() => infoInt(info, 'master_repl_offset')).toThrow(/missing/);
    expect(() => infoInt(info, 'role')).toThrow(/"slave"/);
    expect(() => infoString(info, 'nope')).toThrow(/missing/);
  });
});

describe('decodeReply', () => {
  it('decodes simple, error, integer, bulk and null bulk replies with their end offsets', () => {
    const buf = Buffer.from('+PONG\r\n-ERR no\r\n:42\r\n$5\r\nab\r\nc\r\n$-1\r\n');
    const a = decodeReply(buf, 0)!;
    expect(a).toEqual({ reply: 'PONG', next: 7 });
    const b = decodeReply(buf, a.next)!;
    expect(b.reply).toBeInstanceOf(ReplyError);
    expect((b.reply as ReplyError).message).toBe('ERR no');
    const c = decodeReply(buf, b.next)!;
    expect(c.reply).toBe(42);
    const d = decodeReply(buf, c.next)!;
    expect(d.reply).toBe('ab\r\nc');
    const e = decodeReply(buf, d.next)!;
    expect(e).toEqual({ reply: null, next: buf.length });
  });

  it('returns null for an incomplete reply and throws on an unknown type', () => {
    expect(decodeReply(Buffer.from('+PON'), 0)).toBeNull();
    expect(decodeReply(Buffer.from('$10\r\nabc'), 0)).toBeNull();
    expect(() => decodeReply(Buffer.from('*1\r\n'), 0)).toThrow(/type byte/);
  });
});

describe('percentile and summarizeRuns', () => {
  it('uses nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow();
  });

  it('summarizes repeats as median, min, max and spread', () => {
    expect(summarizeRuns([2, 1, 4])).toEqual({ median: 2, min: 1, max: 4, spread: 1.5 });
    expect(summarizeRuns([5]).spread).toBe(0);
  });
});

describe('lagSamples', () => {
  it('gives byte lag and the time since the master was at the replica offset, interpolated', () => {
    const lags = lagSamples([
      { atMs: 0, masterOffset: 1000, replicaOffset: 1000 },
      { atMs: 50, masterOffset: 2000, replicaOffset: 1500 },
      { atMs: 100, masterOffset: 3000, replicaOffset: 3000 },
    ]);
    expect(lags.map((l) => l.bytes)).toEqual([0, 500, 0]);
    // The master passed 1500 at 25 ms (halfway from 1000 to 2000), so at 50 ms the replica is 25 ms behind.
    expect(lags.map((l) => l.ms)).toEqual([0, 25, 0]);
  });

  it('reports null time lag when the replica is behind the first poll, and never negative bytes', () => {
    const lags = lagSamples([
      { atMs: 0, masterOffset: 1000, replicaOffset: 400 },
      { atMs: 50, masterOffset: 1000, replicaOffset: 1010 },
    ]);
    expect(lags[0]).toEqual({ atMs: 0, bytes: 600, ms: null });
    expect(lags[1]).toEqual({ atMs: 50, bytes: 0, ms: 0 });
  });
});
