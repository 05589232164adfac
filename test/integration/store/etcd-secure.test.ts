// The etcd store over TLS (etcds://, server verified against a CA, client certificates) and with
// etcd's password authentication (user in the URL, password from a file), against real etcd
// processes: certificates made with openssl for this run, auth switched on with etcd's own API.
// A wrong CA, a missing client certificate, a wrong password and no user at all are refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoordStore } from '../../../common/store/coord-store.js';
import { openStore } from '../../../common/store/open-store.js';
import { type EtcdHandle, startEtcd } from '../../helpers/etcd.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-etcd-tls-'));
const f = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, and a certificate it signed for `name` with the given extensions (EC P-256: fast to make). */
function makeCerts(): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=tessera-test-ca');
  openssl('req', '-x509', ...ec, '-keyout', f('other-ca.key'), '-out', f('other-ca.pem'), '-days', '1', '-subj', '/CN=some-other-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'root'}`);
    openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '1', '-extfile', f(`${name}.ext`));
  }
}

/** The first store call's outcome within `ms`: 'ok', its error text, or 'no answer'. */
async function firstCall(url: string, ms = 4000, env: Record<string, string> = {}): Promise<string> {
  let store: CoordStore | null = null;
  try {
    store = await openStore(url, env);
    const put = store.put('/tessera-secure/probe', 'v').then(() => 'ok', (err: Error) => err.message);
    return await Promise.race([put, new Promise<string>((r) => setTimeout(r, ms, 'no answer'))]);
  } catch (err) {
    return (err as Error).message;
  } finally {
    await store?.close();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('etcds:// (TLS, client certificates)', () => {
  let etcd: EtcdHandle;
  beforeAll(async () => {
    makeCerts();
    etcd = await startEtcd({ tls: { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key'), clientCertAuth: true, clientCert: f('client.pem'), clientKey: f('client.key') } });
  }, 30_000);
  afterAll(async () => etcd?.stop());

  it('works with the CA and a client certificate: writes, reads and watches', async () => {
    const store = await openStore(`${etcd.url}?ca=${f('ca.pem')}&cert=${f('client.pem')}&key=${f('client.key')}`);
    try {
      await store.put('/tessera-secure/a', '1');
      expect((await store.get('/tessera-secure/a'))?.value).toBe('1');
      expect((await store.list('/tessera-secure/')).map((e) => e.key)).toEqual(['/tessera-secure/a']);
    } finally {
      await store.close();
    }
  });

  it('refuses a server its CA did not sign, and a client without a certificate', async () => {
    expect(await firstCall(`${etcd.url}?ca=${f('other-ca.pem')}&cert=${f('client.pem')}&key=${f('client.key')}`)).toMatch(/UNAVAILABLE.*unable to verify the first certificate/);
    expect(await firstCall(`${etcd.url}?ca=${f('ca.pem')}`)).toMatch(/UNAVAILABLE.*bad certificate/);
    // Plain gRPC to a TLS port gets nowhere either.
    expect(await firstCall(etcd.url.replace('etcds://', 'etcd://'))).toMatch(/UNAVAILABLE/);
  });
});

describe('etcd:// with password authentication', () => {
  let etcd: EtcdHandle;
  beforeAll(async () => {
    etcd = await startEtcd();
    const admin = new Etcd3({ hosts: etcd.endpoint });
    try {
      await admin.user('root').create('s3cret-pw');
      await admin.user('root').addRole('root');
      await admin.auth.authEnable();
    } finally {
      admin.close();
    }
    writeFileSync(f('etcd-password'), 's3cret-pw\n');
    writeFileSync(f('wrong-password'), 'nope\n');
  }, 30_000);
  afterAll(async () => etcd?.stop());

  it('logs in as the URL\'s user with the password from password-file or TESSERA_ETCD_PASSWORD', async () => {
    const host = etcd.url.slice('etcd://'.length);
    expect(await firstCall(`etcd://root@${host}?password-file=${f('etcd-password')}`)).toBe('ok');
    expect(await firstCall(`etcd://root@${host}`, 4000, { TESSERA_ETCD_PASSWORD: 's3cret-pw' })).toBe('ok');
  });

  it('refuses a wrong password and a client without a user', async () => {
    const host = etcd.url.slice('etcd://'.length);
    expect(await firstCall(`etcd://root@${host}?password-file=${f('wrong-password')}`)).toMatch(/authentication failed|invalid user ID or password/i);
    expect(await firstCall(etcd.url)).toMatch(/user name is empty|permission denied|not permitted|token/i);
  });
});
