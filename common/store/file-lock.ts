// Cross-process mutex for the file store: a lock file created atomically, holding "<pid> <ms since epoch>".
// A lock whose holder process is gone (or that is implausibly old) is stale and is taken over.

import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** Critical sections last milliseconds; a lock this old means its holder is stuck or gone. */
const STALE_AFTER_MS = 30_000;
const ACQUIRE_TIMEOUT_MS = 10_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(content: string): boolean {
  const [pidText, sinceText] = content.split(' ');
  const pid = Number(pidText);
  const since = Number(sinceText);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isFinite(since)) return true;
  return !isAlive(pid) || Date.now() - since > STALE_AFTER_MS;
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Moves a stale lock aside. The rename is atomic, but between our read and the rename another process may
 * have replaced the lock with a fresh one; then we put that one back (link fails if a third took the path).
 */
async function breakStaleLock(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((await readOrNull(aside)) !== staleContent) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

/**
 * Creates the lock with its content in one step: write a private temp file, then link() it into place,
 * which fails with EEXIST if the lock exists (an O_EXCL create that is never seen half-written).
 */
async function tryCreateLock(path: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, `${process.pid} ${Date.now()}`);
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** Runs fn while holding the lock at `path`. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ACQUIRE_TIMEOUT_MS;
  for (;;) {
    if (await tryCreateLock(path)) break;
    const content = await readOrNull(path);
    if (content !== null && isStale(content)) {
      await breakStaleLock(path, content);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`file store: could not take lock ${path} within ${ACQUIRE_TIMEOUT_MS} ms`);
    await sleep(1 + Math.random() * 4);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}
