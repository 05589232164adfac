import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { openStore, parseEtcdConnection, parseEtcdUrl } from '../../../common/store/open-store.js';

describe('openStore', () => {
  it('parses etcd URLs with one or more hosts', () => {
    expect(parseEtcdUrl('etcd://127.0.0.1:2379')).toEqual(['http://127.0.0.1:2379']);
    expect(parseEtcdUrl('etcd://a:1,b.example:2/')).toEqual(['http://a:1', 'http://b.example:2']);
    expect(parseEtcdUrl('etcd://[::1]:2379')).toEqual(['http://[::1]:2379']);
  });

  it('rejects bad URLs with a message saying what is expected', async () => {
    expect(() => parseEtcdUrl('etcd://host')).toThrow(/"host" is not host:port.*etcd:\/\/\[user@\]host:port/);
    expect(() => parseEtcdUrl('etcd://h:99999')).toThrow(/not host:port/);
    expect(() => parseEtcdUrl('etcd://a:1,')).toThrow(/"" is not host:port/);
    await expect(openStore('redis://x:1')).rejects.toThrow(/bad store URL "redis:\/\/x:1": expected etcd:\/\/\[user@\]host:port/);
    await expect(openStore('file://remote-host/dir')).rejects.toThrow(/bad store URL/);
  });

  it('takes a user, a password file or TESSERA_ETCD_PASSWORD, and TLS files; never a password in the URL', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tessera-etcd-url-'));
    try {
      const pw = join(root, 'pw');
      await writeFile(pw, 'hunter2\n');
      await writeFile(join(root, 'ca.pem'), 'CA');
      expect(parseEtcdConnection(`etcd://alice@h:1?password-file=${pw}`, {})).toEqual({ hosts: ['http://h:1'], auth: { username: 'alice', password: 'hunter2' } });
      expect(parseEtcdConnection('etcd://alice@h:1', { TESSERA_ETCD_PASSWORD: 'pw2' }).auth).toEqual({ username: 'alice', password: 'pw2' });
      const tls = parseEtcdConnection(`etcds://h:1,g:2?ca=${join(root, 'ca.pem')}`, {});
      expect(tls.hosts).toEqual(['https://h:1', 'https://g:2']);
      expect(tls.tls?.ca?.toString()).toBe('CA');
      expect(parseEtcdConnection('etcds://h:1', {}).tls).toEqual({ ca: undefined, cert: undefined, key: undefined });
      const bad = (url: string, env = {}) => () => parseEtcdConnection(url, env);
      expect(bad('etcd://alice:hunter2@h:1')).toThrow(/a password in the URL would show in argv and logs: give password-file=PATH or TESSERA_ETCD_PASSWORD/);
      expect(bad('etcd://alice@h:1')).toThrow(/user alice needs a password/);
      expect(bad(`etcd://h:1?password-file=${pw}`)).toThrow(/password-file needs a user name/);
      expect(bad(`etcd://h:1?ca=${pw}`)).toThrow(/ca, cert and key need etcds:\/\/ \(TLS\)/);
      expect(bad(`etcds://h:1?cert=${pw}`)).toThrow(/a client certificate needs both cert and key/);
      expect(bad('etcds://h:1?ca=/no/such/file')).toThrow(/cannot read ca file \/no\/such\/file: ENOENT/);
      expect(bad('etcd://h:1?tls=yes')).toThrow(/unknown parameter "tls"/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
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
