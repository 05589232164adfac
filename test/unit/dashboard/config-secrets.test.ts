// The coordinator's other secrets, the nodes' password and the proxies' admin token, are read like
// the API token: TOML < environment < --*-file flag < flag; the shipped unit loads all three as
// systemd credentials through their file flags.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DEFAULTS, loadDashboardConfig } from '../../../dashboard/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-dash-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const UNIT = join(import.meta.dirname, '../../../configs/systemd/tessera-dashboard.service');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('dashboard config: node password and proxy admin token', () => {
  it('default to none', () => {
    const c = loadDashboardConfig({ token: 't' }, {});
    expect(c.nodePassword).toBe('');
    expect(c.proxyAdminToken).toBe('');
    expect(DASHBOARD_DEFAULTS.nodePassword).toBe('');
  });

  it('come from the TOML file, then the environment, then the file flags, then flags', () => {
    const toml = file('d.toml', 'token = "t"\nnode-password = "pw-toml"\nproxy-admin-token = "adm-toml"\n');
    const env = { TESSERA_NODE_PASSWORD: 'pw-env', TESSERA_PROXY_ADMIN_TOKEN: 'adm-env' };
    const nodePasswordFile = file('node-password', 'pw-file\n');
    const proxyAdminTokenFile = file('proxy-admin-token', 'adm-file\r\n');
    const pick = (c: { nodePassword: string; proxyAdminToken: string }) => [c.nodePassword, c.proxyAdminToken];
    expect(pick(loadDashboardConfig({ config: toml }, {}))).toEqual(['pw-toml', 'adm-toml']);
    expect(pick(loadDashboardConfig({ config: toml }, env))).toEqual(['pw-env', 'adm-env']);
    // An empty variable is no value (as for TESSERA_TOKEN).
    expect(pick(loadDashboardConfig({ config: toml }, { TESSERA_NODE_PASSWORD: '' }))).toEqual(['pw-toml', 'adm-toml']);
    expect(pick(loadDashboardConfig({ config: toml, nodePasswordFile, proxyAdminTokenFile }, env))).toEqual(['pw-file', 'adm-file']);
    expect(pick(loadDashboardConfig({ config: toml, nodePasswordFile }, env))).toEqual(['pw-file', 'adm-env']);
    expect(pick(loadDashboardConfig({ config: toml, nodePasswordFile, proxyAdminTokenFile, nodePassword: 'pw-flag' }, env))).toEqual(['pw-flag', 'adm-file']);
    // The file flags never end up in the config itself.
    expect(Object.keys(loadDashboardConfig({ config: toml, nodePasswordFile, proxyAdminTokenFile }, {})).sort()).toEqual(Object.keys(DASHBOARD_DEFAULTS).sort());
  });

  it('keeps a secret file content whole but for its final newline, and names a missing file', () => {
    const spaced = file('spaced', ' pass word \n\n');
    expect(loadDashboardConfig({ token: 't', nodePasswordFile: spaced }, {}).nodePassword).toBe(' pass word \n');
    expect(() => loadDashboardConfig({ token: 't', proxyAdminTokenFile: join(dir, 'absent') }, {})).toThrow(/ENOENT.*absent/);
  });

  it('refuses a secret of the wrong type in the TOML file, naming the key', () => {
    const bad = file('bad.toml', 'token = "t"\nnode-password = 1234\n');
    expect(() => loadDashboardConfig({ config: bad }, {})).toThrow(`${bad}: 'node-password' must be a string`);
  });

  it('the shipped unit reads all three secrets from its credentials, none from the environment', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(/\s+/);
    const creds = new Map([...unit.matchAll(/^LoadCredential=([^:\s]+):(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    for (const [flag, cred] of [['--token-file', 'dashboard-token'], ['--node-password-file', 'node-password'], ['--proxy-admin-token-file', 'proxy-admin-token']]) {
      expect(exec[exec.indexOf(flag!) + 1], `${flag} reads its credential`).toBe(`%d/${cred}`);
      expect(creds.get(cred!)).toBe(`/etc/tessera/secrets/${cred}`);
    }
    expect(unit).not.toMatch(/^EnvironmentFile=/m);
  });
});
