// TESSERA.SLOTS SET's file write off the event loop (SlotOwnership.setDurably): applied at once,
// durable when its promise settles, and concurrent SETs written in order, so the file ends with
// the newest epoch (an earlier epoch's write never lands after a later one's).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlotOwnership, SlotState } from '../../../node/cluster/ownership.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-own-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const owned = (end: number) => [{ start: 0, end, state: SlotState.Owned, peer: null }];

describe('SlotOwnership.setDurably', () => {
  it('applies at once, persists off the event loop, and the newest of concurrent SETs is what the file holds', async () => {
    const filePath = join(dir, 'slots.json');
    const warnings: string[] = [];
    const own = new SlotOwnership({ filePath, log: (_l, m) => void warnings.push(m) });
    const sets = Array.from({ length: 20 }, (_, i) => own.setDurably(i + 1, owned(i)));
    expect(sets.every((s) => s.error === null && s.durable !== null)).toBe(true);
    expect(own.epoch).toBe(20); // in memory before any file write finished
    expect(await Promise.all(sets.map((s) => s.durable))).toEqual(new Array(20).fill(null));
    const file = JSON.parse(readFileSync(filePath, 'utf8')) as { epoch: number; slots: unknown[] };
    expect(file.epoch).toBe(20);
    expect(warnings).toEqual([]);
    // A retried SET (same epoch, same state) changes nothing and has nothing to wait for; an older one is refused.
    expect(own.setDurably(20, owned(19))).toEqual({ error: null, durable: null });
    expect(own.setDurably(3, owned(2)).error).toMatch(/older than this node's 20/);
  });

  it('a synchronous persist (replica / AOF path) during async writes queues behind them: the file ends newest', async () => {
    const filePath = join(dir, 'slots2.json');
    const own = new SlotOwnership({ filePath, log: () => {} });
    const a = own.setDurably(1, owned(1));
    expect(own.set(2, owned(2), false)).toBeNull();
    await a.durable;
    const later = own.setDurably(3, owned(3));
    await later.durable;
    expect(JSON.parse(readFileSync(filePath, 'utf8')).epoch).toBe(3);
  });
});
