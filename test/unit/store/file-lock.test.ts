import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../../common/store/file-lock.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  const res = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(res.stdout.toString());
}

describe('withFileLock', () => {
  it('lets one holder in at a time', async () => {
    const lock = join(dir, 'lock');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(Array.from({ length: 8 }, () => withFileLock(lock, async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await sleep(3);
      inside--;
    })));
    expect(maxInside).toBe(1);
    expect(await readdir(dir)).toEqual([]); // lock and temp files cleaned up
  });

  it('takes over a lock left by a dead process', async () => {
    const lock = join(dir, 'lock');
    await writeFile(lock, `${deadPid()} ${Date.now()}`);
    expect(await withFileLock(lock, async () => 'got it')).toBe('got it');
  });

  it('takes over a lock that is implausibly old even if its pid is alive', async () => {
    const lock = join(dir, 'lock');
    await writeFile(lock, `${process.pid} ${Date.now() - 60_000}`);
    expect(await withFileLock(lock, async () => 'got it')).toBe('got it');
  });

  it('releases the lock when the critical section throws', async () => {
    const lock = join(dir, 'lock');
    await expect(withFileLock(lock, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withFileLock(lock, async () => 'again')).toBe('again');
  });
});
