// Node passwords can come from a file or the environment instead of argv.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromArgs } from '../../../node/main.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('node secrets', () => {
  it('reads --requirepass-file and --masterauth-file, without the final newline', () => {
    writeFileSync(join(dir, 'pw'), 'from "file" \\x\n');
    writeFileSync(join(dir, 'ma'), 'master-pw\r\n');
    const c = configFromArgs(['--port', '7000', '--requirepass-file', join(dir, 'pw'), '--masterauth-file', join(dir, 'ma')]);
    expect(c.get('requirepass')).toBe('from "file" \\x');
    expect(c.get('masterauth')).toBe('master-pw');
    expect(c.get('port')).toBe('7000');
  });

  it('takes TESSERA_REQUIREPASS / TESSERA_MASTERAUTH; an argument wins over the environment', () => {
    const env = { TESSERA_REQUIREPASS: 'env-pw', TESSERA_MASTERAUTH: 'env-ma' };
    expect(configFromArgs([], env).get('requirepass')).toBe('env-pw');
    expect(configFromArgs([], env).get('masterauth')).toBe('env-ma');
    expect(configFromArgs(['--requirepass', 'arg-pw'], env).get('requirepass')).toBe('arg-pw');
  });

  it('refuses a password file with a line break inside', () => {
    writeFileSync(join(dir, 'bad'), 'a\nb\n');
    expect(() => configFromArgs(['--requirepass-file', join(dir, 'bad')])).toThrow(/line break/);
  });
});
