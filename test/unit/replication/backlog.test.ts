// The replication backlog ring: offsets, wrap-around, overflow and resizing.
import { describe, expect, it } from 'vitest';
import { Backlog } from '../../../node/replication/backlog.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('Backlog', () => {
  it('serves every byte from any covered offset, across the wrap-around', () => {
    const b = new Backlog(16, 1);
    let stream = '';
    for (let i = 0; i < 20; i++) {
      const piece = `<${i}>`;
      b.append(bytes(piece));
      stream += piece;
    }
    expect(b.histlen).toBe(16);
    expect(b.firstByteOffset).toBe(stream.length - 16 + 1);
    for (let off = b.firstByteOffset; off <= stream.length + 1; off++) {
      expect(b.covers(off)).toBe(true);
      expect(b.copyFrom(off).toString('latin1')).toBe(stream.slice(off - 1));
    }
    expect(b.covers(b.firstByteOffset - 1)).toBe(false);
    expect(b.covers(stream.length + 2)).toBe(false);
  });

  it('keeps only the tail of an append larger than the ring', () => {
    const b = new Backlog(16, 101);
    b.append(bytes('abc'));
    b.append(bytes('0123456789abcdefXYZ'));
    expect(b.histlen).toBe(16);
    expect(b.firstByteOffset).toBe(101 + 22 - 16);
    expect(b.copyFrom(b.firstByteOffset).toString('latin1')).toBe('3456789abcdefXYZ');
  });

  it('resizes keeping the newest history that fits', () => {
    const b = new Backlog(32, 1);
    b.append(bytes('abcdefghijklmnopqrstuvwxyz'));
    b.resize(16);
    expect(b.histlen).toBe(16);
    expect(b.firstByteOffset).toBe(11);
    expect(b.copyFrom(11).toString('latin1')).toBe('klmnopqrstuvwxyz');
    b.append(bytes('!'));
    expect(b.copyFrom(b.firstByteOffset).toString('latin1')).toBe('lmnopqrstuvwxyz!');
  });
});
