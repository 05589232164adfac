// Leadership over a real file store: a leader whose lock key vanishes (its lease lost, or deleted
// by hand) steps down at once and the next candidate in line leads; writes fenced by the old term
// fail in the store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { leaderKey } from '../../../common/store/keys.js';
import { Leadership, NotLeaderError } from '../../../dashboard/coordinator/leadership.js';
import { waitFor } from '../../helpers/wait-for.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

describe('Leadership', () => {
  it('a leader whose lock key disappears steps down, and the standby leads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-leadership-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const [s1, s2] = [await FileStore.open(dir), await FileStore.open(dir)];
    cleanup.push(() => s1.close(), () => s2.close());
    const info = (id: string) => ({ id, url: `http://127.0.0.1:1/${id}`.replace(/\/[a-z0-9]+$/, ''), pid: process.pid, startedAt: new Date().toISOString() });
    const a = new Leadership(s1, 'lp', info('a'), 3, () => {});
    const b = new Leadership(s2, 'lp', info('b'), 3, () => {});
    cleanup.push(() => a.stop(), () => b.stop());
    const events: string[] = [];
    a.on('elected', () => events.push('a elected'));
    a.on('deposed', (why) => events.push(`a deposed: ${why}`));
    b.on('elected', () => events.push('b elected'));
    a.start();
    await waitFor(() => a.role === 'leader', { what: 'a to lead' });
    b.start();
    await waitFor(async () => (await a.candidates()).length === 2, { what: 'b to campaign' });
    expect(b.role).toBe('standby');
    expect(() => b.fence()).toThrow(NotLeaderError);
    const fence = a.fence();
    expect(await a.stillLeader()).toBe(true);

    // Someone deletes a's lock key (as an expired lease would).
    const { entries } = await s1.snapshot(`${leaderKey('lp')}/`);
    const aKey = entries.find((e) => e.key === fence.key)!;
    await s2.delete(aKey.key);
    await waitFor(() => b.role === 'leader', { timeoutMs: 5000, what: 'b to take over' });
    await waitFor(() => a.role === 'standby', { timeoutMs: 5000, what: 'a to step down' });
    // b may be elected before a has noticed (each follows the store on its own): for that overlap
    // the fence is what keeps a from writing.
    expect(events.sort()).toEqual(['a deposed: leader lock /tessera/lp/leader: our key ' + aKey.key + ' disappeared', 'a elected', 'b elected']);
    expect(await a.stillLeader()).toBe(false);
    expect((await s1.txn([fence], [{ op: 'put', key: '/x', value: '1' }])).ok).toBe(false);
    // a campaigns again and waits in line behind b.
    await waitFor(async () => (await b.candidates()).map((c) => c.id).join() === 'b,a', { timeoutMs: 5000, what: 'a to stand in line again' });
    expect(a.role).toBe('standby');
  });
});
