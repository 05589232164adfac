import { describe, expect, it } from 'vitest';
import { WatchStream } from '../../../common/store/watch-stream.js';

const ev = (n: number) => ({ type: 'put' as const, key: `k${n}`, value: `v${n}`, revision: String(n) });

describe('WatchStream', () => {
  it('buffers pushed events until read and keeps their order', async () => {
    const stream = new WatchStream(() => {});
    stream.push(ev(1));
    stream.push(ev(2));
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(ev(1));
    const pending = it.next();
    stream.push(ev(3)); // not consumed yet: goes after 2
    expect((await pending).value).toEqual(ev(2));
    expect((await it.next()).value).toEqual(ev(3));
  });

  it('delivers buffered events, then the failure', async () => {
    let cancelled = 0;
    const stream = new WatchStream(() => cancelled++);
    stream.push(ev(1));
    stream.fail(new Error('compacted'));
    stream.push(ev(2)); // ignored after the end
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(ev(1));
    await expect(it.next()).rejects.toThrow('compacted');
    expect(cancelled).toBe(1);
  });

  it('ends a waiting reader on cancel, and break cancels', async () => {
    let cancelled = 0;
    const stream = new WatchStream(() => cancelled++);
    const it = stream[Symbol.asyncIterator]();
    const pending = it.next();
    stream.cancel();
    stream.cancel();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(cancelled).toBe(1);

    const other = new WatchStream(() => cancelled++);
    other.push(ev(1));
    for await (const e of other) {
      expect(e).toEqual(ev(1));
      break;
    }
    expect(other.closed).toBe(true);
    expect(cancelled).toBe(2);
  });
});
