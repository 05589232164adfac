// Secrets given on the command line are masked in the process title (what `ps` shows).
import { describe, expect, it } from 'vitest';
import { redactArgv } from '../../../cli/process-title.js';
import { restartDelayMs, restartPlan } from '../../../cli/up.js';

describe('redactArgv', () => {
  it('masks the value after every secret option, in both spellings', () => {
    const argv = ['/usr/bin/node', '/x/bin/tessera', 'proxy', '--listen', '127.0.0.1:1', '--backend-password', 's3cret', '--admin-token=tok', '--requirepass', 'p'];
    expect(redactArgv(argv)).toEqual(['/usr/bin/node', '/x/bin/tessera', 'proxy', '--listen', '127.0.0.1:1', '--backend-password', '***', '--admin-token=***', '--requirepass', '***']);
  });

  it('masks node directives and leaves everything else alone', () => {
    expect(redactArgv(['node', 'tessera', 'node', '--port', '7000', '--masterauth', 'm', '--admin-password', 'a'])).toEqual(['node', 'tessera', 'node', '--port', '7000', '--masterauth', '***', '--admin-password', '***']);
    const plain = ['node', 'tessera', 'node', '--port', '7000', '--requirepass-file', '/etc/pw'];
    expect(redactArgv(plain)).toEqual(plain);
  });

  it('a secret option at the very end has no value to mask', () => {
    expect(redactArgv(['tessera', '--requirepass'])).toEqual(['tessera', '--requirepass']);
  });
});

describe('restartDelayMs', () => {
  it('starts at 100 ms, doubles, and stops at 5 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map(restartDelayMs)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });
});

describe('restartPlan', () => {
  it('backs off while a child keeps failing fast, and starts over once it stayed up 10 s', () => {
    let failures = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const plan = restartPlan(failures, 50); // crashes 50 ms after each start
      delays.push(plan.delayMs);
      failures = plan.failuresInARow;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(restartPlan(failures, 9_999)).toEqual({ delayMs: 5000, failuresInARow: failures + 1 });
    expect(restartPlan(failures, 10_000)).toEqual({ delayMs: 100, failuresInARow: 1 });
  });
});
