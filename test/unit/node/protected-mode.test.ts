// Protected mode's decision as Redis 7 makes it (clientAcceptHandler + connIsLocal): with
// protected-mode yes and no password, only loopback peers are served, whatever `bind` says.
import { describe, expect, it } from 'vitest';
import { isLocalAddress, protectedModeRefuses } from '../../../common/protected-mode.js';

describe('isLocalAddress', () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1'])('%s is local', (a) => {
    expect(isLocalAddress(a)).toBe(true);
  });

  // Other 127/8 addresses are loopback too, but redis-server 7.0.15 refuses them (exact match).
  it.each(['127.0.0.5', '127.0.0.7', '::ffff:127.9.8.7', '10.1.2.3', '::ffff:10.1.2.3', '192.168.0.1', '0.0.0.0', '::', '::2', 'fe80::1', '128.0.0.1', '::ffff:128.0.0.1', ''])('%j is not local', (a) => {
    expect(isLocalAddress(a)).toBe(false);
  });

  it('treats an unknown peer (socket already gone) as not local', () => {
    expect(isLocalAddress(undefined)).toBe(false);
  });
});

describe('protectedModeRefuses', () => {
  it('refuses remote peers when protected mode is on and no password is set', () => {
    expect(protectedModeRefuses(true, false, '10.1.2.3')).toBe(true);
    expect(protectedModeRefuses(true, false, '::ffff:10.1.2.3')).toBe(true);
    expect(protectedModeRefuses(true, false, '2001:db8::1')).toBe(true);
  });

  it('serves loopback peers', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(protectedModeRefuses(true, false, a)).toBe(false);
  });

  it('serves everyone once a password is set or protected mode is off', () => {
    expect(protectedModeRefuses(true, true, '10.1.2.3')).toBe(false);
    expect(protectedModeRefuses(false, false, '10.1.2.3')).toBe(false);
  });
});

describe('enable-protected-configs', () => {
  const configWith = async (mode: string) => {
    const { NodeConfig } = await import('../../../node/config.js');
    const c = new NodeConfig();
    c.loadText(`enable-protected-configs ${mode}\n`);
    return c;
  };
  const refused = "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config";

  it('local: only local clients may set protected configs', async () => {
    const c = await configWith('local');
    expect(c.setMany([['dir', '/tmp']], false)).toBe(refused);
    expect(c.setMany([['dir', '/tmp']], true)).toBeNull();
    expect(c.get('dir')).toBe('/tmp');
  });

  it('no: nobody; yes: everybody', async () => {
    expect((await configWith('no')).setMany([['dir', '/tmp']], true)).toBe(refused);
    expect((await configWith('yes')).setMany([['dir', '/tmp']], false)).toBeNull();
  });
});
