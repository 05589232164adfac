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

  it('takes its size as a cap: 100 GB allocates 1 MiB, then grows with the history it keeps', () => {
    const b = new Backlog(100 * 2 ** 30, 1);
    expect(b.size).toBe(2 ** 20);
    const chunk = Buffer.alloc(700_000, 'x');
    let stream = 0;
    for (let i = 0; i < 5; i++) {
      chunk[0] = 48 + i; // tell the chunks apart
      b.append(chunk);
      stream += chunk.length;
    }
    expect(b.histlen).toBe(stream); // nothing dropped: the ring grew instead
    expect(b.size).toBeGreaterThanOrEqual(stream);
    expect(b.size).toBeLessThan(8 * 2 ** 20);
    const all = b.copyFrom(1);
    for (let i = 0; i < 5; i++) expect(all[i * 700_000]).toBe(48 + i);
    // A smaller cap keeps the newest history that fits.
    b.resize(1_000_000);
    expect(b.histlen).toBe(1_000_000);
    expect(b.copyFrom(b.firstByteOffset)[1_000_000 - 700_000]).toBe(48 + 4);
  });

  it('grows a wrapped ring in order when its cap is raised', () => {
    const b = new Backlog(16, 1);
    let stream = '';
    for (let i = 0; i < 9; i++) {
      b.append(bytes(`<${i}>`));
      stream += `<${i}>`;
    }
    b.resize(1000);
    for (let i = 9; i < 40; i++) {
      b.append(bytes(`<${i}>`));
      stream += `<${i}>`;
    }
    expect(b.histlen).toBe(stream.length - (27 - 16)); // the 16 held when it grew, and all since
    expect(b.copyFrom(b.firstByteOffset).toString('latin1')).toBe(stream.slice(b.firstByteOffset - 1));
    expect(b.firstByteOffset).toBe(27 - 16 + 1);
  });
});
