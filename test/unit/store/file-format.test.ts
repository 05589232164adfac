// The file store's line format (common/store/file-format.ts): a state file written as one JSON
// document (the earlier format) is still read and rewritten in lines; watchers get exactly the
// events after their revision; the log is trimmed by whole revisions.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFile } from '../../../common/store/file-format.js';
import { FileStore } from '../../../common/store/file-store.js';

let dir = '';
const stores: FileStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-fformat-'));
});
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

/** A state file as the one-document format wrote it: two keys, their three events. */
const LEGACY = {
  schema: 1, revision: 3, compacted: 0, leases: {},
  kvs: { '/a': { value: '1', create: 1, mod: 3 }, '/b': { value: 'x\ny "q"', create: 2, mod: 2 } },
  events: [
    { type: 'put', key: '/a', value: '0', revision: 1 },
    { type: 'put', key: '/b', value: 'x\ny "q"', revision: 2 },
    { type: 'put', key: '/a', value: '1', revision: 3 },
  ],
};

describe('file store line format', () => {
  it('reads a one-document state file, replays its events, and rewrites it in lines', async () => {
    await writeFile(join(dir, 'state.json'), JSON.stringify(LEGACY));
    const store = await FileStore.open(dir);
    stores.push(store);
    expect((await store.get('/b'))?.value).toBe('x\ny "q"');
    expect((await store.list('/')).map((e) => [e.key, e.value, e.revision])).toEqual([['/a', '1', '3'], ['/b', 'x\ny "q"', '2']]);
    const watch = await store.watch('/', '2');
    const it = watch[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ key: '/b', revision: '2' });
    expect((await it.next()).value).toMatchObject({ key: '/a', value: '1', revision: '3' });
    const rev = await store.put('/c', 'z');
    expect((await it.next()).value).toMatchObject({ key: '/c', value: 'z', revision: rev });
    watch.cancel();

    const text = await readFile(join(dir, 'state.json'), 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(2 + 4); // header, keys, 4 events
    expect(JSON.parse(lines[0]!)).toMatchObject({ schema: 1, revision: 4, compacted: 0 });
    expect(Object.keys(JSON.parse(lines[1]!))).toEqual(['/a', '/b', '/c']);
    expect(lines.slice(2).map((l) => JSON.parse(l).revision)).toEqual([1, 2, 3, 4]);

    // Another instance (another process) reads what this one wrote.
    const other = await FileStore.open(dir);
    stores.push(other);
    expect((await other.get('/c'))?.value).toBe('z');
    expect((await other.get('/b'))?.value).toBe('x\ny "q"');
  });

  it('gives a watcher only the events after its revision and trims the log by whole revisions', () => {
    let file = StateFile.empty();
    const write = (keys: string[]) => {
      const edit = file.forWrite();
      edit.revision++;
      for (const key of keys) {
        edit.kvs[key] = { value: key, create: edit.revision, mod: edit.revision };
        edit.events.push({ type: 'put', key, value: key, revision: edit.revision });
      }
      file = file.next(edit);
    };
    write(Array.from({ length: 4000 }, (_, i) => `/k/${i}`)); // revision 1
    write(Array.from({ length: 90 }, (_, i) => `/m/${i}`)); // revision 2
    expect(file.header.compacted).toBe(0);
    write(['/x', '/y']); // revision 3: 4092 events, still under the limit
    write(Array.from({ length: 10 }, (_, i) => `/n/${i}`)); // revision 4: 4102 > 4096, revision 1 goes whole
    expect(file.header.compacted).toBe(1);
    expect(file.eventsFrom(3).map((e) => e.key)).toEqual(['/x', '/y', ...Array.from({ length: 10 }, (_, i) => `/n/${i}`)]);
    expect(file.eventsFrom(5)).toEqual([]);
    const reread = StateFile.parse(file.serialize(), 'test');
    expect(reread.header).toEqual(file.header);
    expect(reread.eventsFrom(2)).toHaveLength(102);
    expect(reread.kvs()['/k/3999']).toEqual({ value: '/k/3999', create: 1, mod: 1 });
    expect(reread.sortedKeys()).toHaveLength(4102);
  });
});
