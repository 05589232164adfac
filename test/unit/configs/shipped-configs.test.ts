// The commented example configs in configs/ must show exactly the defaults the code uses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseToml } from '../../../common/toml.js';
import { NodeConfig } from '../../../node/config.js';
import { PROXY_DEFAULTS, tomlNames } from '../../../proxy/config.js';
import { DASHBOARD_DEFAULTS, dashboardTomlNames } from '../../../dashboard/config.js';
import { REPO_ROOT } from '../../helpers/servers.js';

describe('configs/', () => {
  it('node.conf sets every directive it names to its default', () => {
    const text = readFileSync(join(REPO_ROOT, 'configs/node.conf'), 'latin1');
    const loaded = new NodeConfig();
    loaded.loadText(text);
    const defaults = new NodeConfig();
    const names = text.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => l.split(/\s+/)[0]!);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(loaded.get(name), name).toBe(defaults.get(name));
  });

  it('proxy.toml lists every key with its default value', () => {
    const doc = parseToml(readFileSync(join(REPO_ROOT, 'configs/proxy.toml'), 'utf8'));
    const names = tomlNames();
    expect(Object.keys(doc).sort()).toEqual(Object.keys(names).sort());
    for (const [key, value] of Object.entries(doc)) {
      const field = names[key]!;
      // `store` in the example points at a temp dir; everything else is the literal default.
      expect(value, key).toEqual(PROXY_DEFAULTS[field]);
    }
  });

  it('dashboard.toml lists every key with its default value', () => {
    const doc = parseToml(readFileSync(join(REPO_ROOT, 'configs/dashboard.toml'), 'utf8'));
    const names = dashboardTomlNames();
    expect(Object.keys(doc).sort()).toEqual(Object.keys(names).sort());
    for (const [key, value] of Object.entries(doc)) expect(value, key).toEqual(DASHBOARD_DEFAULTS[names[key]!]);
  });
});
