// A store that fails (here: a file store whose state file became unreadable) is answered with
// 503 STORE_UNAVAILABLE {code, message} naming the store's error, on reads and on writes.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../../common/store/file-store.js';
import { buildApp } from '../../../dashboard/app.js';
import { Cluster } from '../../../dashboard/coordinator/cluster.js';
import type { LeaderView } from '../../../dashboard/coordinator/leadership.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

describe('dashboard API over a failing store', () => {
  it('answers 503 STORE_UNAVAILABLE with the store error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-dash-storeerr-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const store = await FileStore.open(dir);
    cleanup.push(() => store.close());
    const leader: LeaderView = {
      role: 'leader',
      self: { id: 'x', url: 'http://127.0.0.1:1', pid: process.pid, startedAt: new Date().toISOString() },
      fence: () => ({ key: '/tessera/p/leader/x', revision: '1' }),
      stillLeader: async () => true,
      candidates: async () => [],
    };
    const app = buildApp({ cluster: new Cluster(store, 'p', leader), leadership: leader, token: 't', openReads: false });
    cleanup.push(() => app.close());
    // The state file becomes a directory: every read and write of the store now fails (EISDIR).
    await mkdir(join(dir, 'state.json'));
    const headers = { authorization: 'Bearer t' };
    for (const req of [
      { method: 'GET' as const, url: '/api/v1/groups' },
      { method: 'GET' as const, url: '/api/v1/overview' },
      { method: 'POST' as const, url: '/api/v1/groups', payload: { id: 1 } },
      { method: 'POST' as const, url: '/api/v1/slots/assign', payload: { from: 0, to: 1, group: 1 } },
    ]) {
      const res = await app.inject({ ...req, headers });
      expect(res.statusCode, req.url).toBe(503);
      expect(res.json()).toEqual({ code: 'STORE_UNAVAILABLE', message: expect.stringMatching(/^the coordination store failed: EISDIR/) });
    }
  });
});
