// ProxyRegistration's writes against a small fake of the store's ephemeral key: one write at a
// time (a newer revision never overtaken by an older one that the store applies later), only the
// newest value written after a burst, a failed write retried until the store takes it.
import { describe, expect, it } from 'vitest';
import { type ProxyInfo, parseProxyInfo } from '../../../common/model.js';
import type { CoordStore, EphemeralKey } from '../../../common/store/coord-store.js';
import { ProxyRegistration } from '../../../proxy/registration.js';
import { waitFor } from '../../helpers/wait-for.js';

const INFO: ProxyInfo = { id: 'p1', listen: '127.0.0.1:1', admin: '127.0.0.1:2', version: 't', tableRevision: '0', pid: 1, startedAt: 'now' };

/** An ephemeral key whose updates settle when the test says so (or fail while `failing`). */
function fakeStore() {
  const pending: Array<{ value: string; settle: () => void }> = [];
  const stored: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { failing: false };
  const key: EphemeralKey = {
    key: '/k', revision: '1',
    update(value: string) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<string>((resolve, reject) => {
        pending.push({
          value,
          settle: () => {
            inFlight--;
            if (state.failing) return reject(new Error('store away'));
            stored.push(value);
            resolve('2');
          },
        });
      });
    },
    revoke: async () => {},
    onLost: () => {},
  };
  const store = { putEphemeral: async (_k: string, value: string) => (stored.push(value), key) } as unknown as CoordStore;
  const revisions = () => stored.map((v) => parseProxyInfo(v).tableRevision);
  return { store, pending, revisions, state, maxInFlight: () => maxInFlight };
}

describe('ProxyRegistration', () => {
  it('writes one revision at a time and ends with the newest', async () => {
    const f = fakeStore();
    const r = new ProxyRegistration(f.store, 'prod', INFO, () => {});
    await r.start('10');
    r.set('11');
    r.set('12');
    r.set('13');
    await waitFor(() => f.pending.length === 1, { what: 'the first update' });
    f.pending.shift()!.settle(); // 11 lands; 12 was superseded by 13 meanwhile
    await waitFor(() => f.pending.length === 1, { what: 'the second update' });
    f.pending.shift()!.settle();
    await waitFor(() => f.revisions().at(-1) === '13', { what: '13 registered' });
    expect(f.revisions()).toEqual(['10', '11', '13']);
    expect(f.maxInFlight()).toBe(1);
    await r.stop();
  });

  it('retries a failed write with the newest value', async () => {
    const f = fakeStore();
    const r = new ProxyRegistration(f.store, 'prod', INFO, () => {});
    await r.start('1');
    f.state.failing = true;
    r.set('2');
    await waitFor(() => f.pending.length === 1, { what: 'the update' });
    f.pending.shift()!.settle(); // refused
    r.set('3');
    f.state.failing = false;
    await waitFor(() => f.pending.length === 1, { timeoutMs: 3000, what: 'the retried update' });
    f.pending.shift()!.settle();
    await waitFor(() => f.revisions().at(-1) === '3', { what: '3 registered after the retry' });
    expect(f.revisions()).toEqual(['1', '3']);
    await r.stop();
  });
});
