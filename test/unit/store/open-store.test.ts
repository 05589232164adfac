import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { openStore, parseEtcdUrl } from '../../../common/store/open-store.js';

describe('openStore', () => {
  it('parses etcd URLs with one or more hosts', () => {
    expect(parseEtcdUrl('etcd://127.0.0.1:2379')).toEqual(['http://127.0.0.1:2379']);
    expect(parseEtcdUrl('etcd://a:1,b.example:2/')).toEqual(['http://a:1', 'http://b.example:2']);
    expect(parseEtcdUrl('etcd://[::1]:2379')).toEqual(['http://[::1]:2379']);
  });

  it('rejects bad URLs with a message saying what is expected', async () => {
    expect(() => parseEtcdUrl('etcd://host')).toThrow(/"host" is not host:port.*etcd:\/\/host:port/);
    expect(() => parseEtcdUrl('etcd://h:99999')).toThrow(/not host:port/);
    expect(() => parseEtcdUrl('etcd://a:1,')).toThrow(/"" is not host:port/);
    await expect(openStore('redis://x:1')).rejects.toThrow(/bad store URL "redis:\/\/x:1": expected etcd:\/\/host:port/);
    await expect(openStore('file://remote-host/dir')).rejects.toThrow(/bad store URL/);
  });

  it('opens a file store at a file:// URL, creating the directory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tessera-open-'));
    try {
      const store = await openStore(pathToFileURL(join(root, 'nested', 'store')).href);
      expect(store).toBeInstanceOf(FileStore);
      await store.put('/k', 'v');
      expect((await store.get('/k'))?.value).toBe('v');
      await store.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
