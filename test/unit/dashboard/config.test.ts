// Coordinator configuration: the token is required and comes from flag > --token-file >
// TESSERA_TOKEN > TOML; bad values are refused with a message naming the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DEFAULTS, loadDashboardConfig } from '../../../dashboard/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-dash-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dashboard config', () => {
  it('refuses to start without a token', () => {
    expect(() => loadDashboardConfig({}, {})).toThrow(/no token: give --token-file FILE, TESSERA_TOKEN/);
  });

  it('takes the token from the flag, then --token-file, then TESSERA_TOKEN, then the TOML file', () => {
    const toml = join(dir, 'd.toml');
    writeFileSync(toml, 'token = "from-toml"\nlisten = "127.0.0.1:1234"\nopen-reads = true\n');
    const tokenFile = join(dir, 'tok');
    writeFileSync(tokenFile, 'from-file\n');
    expect(loadDashboardConfig({ config: toml }, {})).toEqual({ ...DASHBOARD_DEFAULTS, token: 'from-toml', listen: '127.0.0.1:1234', openReads: true });
    expect(loadDashboardConfig({ config: toml }, { TESSERA_TOKEN: 'from-env' }).token).toBe('from-env');
    expect(loadDashboardConfig({ config: toml, tokenFile }, { TESSERA_TOKEN: 'from-env' }).token).toBe('from-file');
    expect(loadDashboardConfig({ config: toml, tokenFile, token: 'from-flag' }, { TESSERA_TOKEN: 'from-env' }).token).toBe('from-flag');
  });

  it('names the key that is wrong', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, 'tokn = "x"\n');
    expect(() => loadDashboardConfig({ config: bad }, { TESSERA_TOKEN: 't' })).toThrow(`${bad}: unknown key 'tokn'`);
    writeFileSync(bad, 'leader-ttl = "3"\n');
    expect(() => loadDashboardConfig({ config: bad }, { TESSERA_TOKEN: 't' })).toThrow(`'leader-ttl' must be a number`);
    expect(() => loadDashboardConfig({ leaderTtl: 0 }, { TESSERA_TOKEN: 't' })).toThrow(/leader-ttl must be an integer 1..60/);
    expect(() => loadDashboardConfig({ product: 'a/b' }, { TESSERA_TOKEN: 't' })).toThrow(/invalid product name/);
    expect(() => loadDashboardConfig({ advertise: 'localhost:1' }, { TESSERA_TOKEN: 't' })).toThrow(/advertise must be http/);
  });
});
