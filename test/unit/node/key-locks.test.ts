// Key locks of the slot mover: a whole hash-tag group is held, other keys never are; held
// commands resume in arrival order once every key they name is free; a wait is bounded.
import { describe, expect, it } from 'vitest';
import { KeyLocks, LOCK_WAIT_ERR } from '../../../node/keyspace/key-locks.js';
import type { Session } from '../../../node/session.js';

function fakeSession(): Session {
  return { paused: false, closed: false } as unknown as Session;
}

function harness(maxWaitMs = 30_000) {
  const events: string[] = [];
  const locks = new KeyLocks({
    resume: (_s, args) => events.push(`run ${args.join(' ')}`),
    refuse: (_s, args, message) => events.push(`refuse ${args.join(' ')}: ${message}`),
  }, maxWaitMs);
  return { locks, events };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyLocks', () => {
  it('locks the whole tag group, and an untagged key by itself', () => {
    const { locks } = harness();
    expect(locks.active).toBe(false);
    locks.lockKey('{user1}profile');
    expect(locks.isLocked('{user1}cart')).toBe(true);
    expect(locks.isLocked('user1')).toBe(true); // hashes the same text: same group
    expect(locks.isLocked('{user2}cart')).toBe(false);
    locks.lockKey('plain');
    expect(locks.isLocked('plain')).toBe(true);
    expect(locks.isLocked('plain2')).toBe(false);
    expect(locks.anyLocked(['x', 'y', '{user1}z'])).toBe(true);
    expect(locks.anyLocked(['x', 'y'])).toBe(false);
  });

  it('holds waiters until release, then resumes them in arrival order', async () => {
    const { locks, events } = harness();
    const tag = locks.lockKey('{t}a');
    const s1 = fakeSession();
    const s2 = fakeSession();
    locks.wait(s1, ['SET', '{t}a', '1'], ['{t}a']);
    locks.wait(s2, ['GET', '{t}b'], ['{t}b']);
    expect(s1.paused && s2.paused).toBe(true);
    await tick();
    expect(events).toEqual([]);
    locks.unlockTag(tag);
    await tick();
    expect(events).toEqual(['run SET {t}a 1', 'run GET {t}b']);
    expect(s1.paused || s2.paused).toBe(false);
    expect(locks.waiting).toBe(0);
  });

  it('a tag locked twice needs two releases; a waiter on two groups waits for both', async () => {
    const { locks, events } = harness();
    locks.lockTag('a');
    locks.lockTag('a');
    locks.lockTag('b');
    const s = fakeSession();
    locks.wait(s, ['MGET', '{a}1', '{b}1'], ['{a}1', '{b}1']);
    locks.unlockTag('a');
    locks.unlockTag('b');
    await tick();
    expect(events).toEqual([]);
    locks.unlockTag('a');
    await tick();
    expect(events).toEqual(['run MGET {a}1 {b}1']);
  });

  it('skips a closed session and refuses a waiter past the bound with TRYAGAIN', async () => {
    const { locks, events } = harness(30);
    locks.lockTag('k');
    const gone = fakeSession();
    locks.wait(gone, ['GET', 'k'], ['k']);
    (gone as { closed: boolean }).closed = true;
    const s = fakeSession();
    locks.wait(s, ['INCR', 'k'], ['k']);
    await new Promise((r) => setTimeout(r, 80));
    expect(events).toEqual([`refuse INCR k: ${LOCK_WAIT_ERR}`]);
    expect(s.paused).toBe(false);
    expect(locks.waiting).toBe(0);
    locks.unlockTag('k');
    await tick();
    expect(events.length).toBe(1);
  });
});
