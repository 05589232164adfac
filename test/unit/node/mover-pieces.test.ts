// Pieces of the slot mover without sockets: the throttle is a rate over everything charged (not
// per call), changes take effect at once; the slot index hides partial imports from counts and
// scans while keeping them in place (and in the raw key lists the mover and snapshots use).
import { describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { tempNameFor } from '../../../node/cluster/import.js';
import { Throttle } from '../../../node/cluster/throttle.js';
import { SlotIndex, isHiddenName } from '../../../node/keyspace/slot-index.js';

describe('Throttle', () => {
  it('paces batches to the rate over all of them, and lets go at once when lifted', async () => {
    let now = 1_000_000;
    const t = new Throttle(() => now);
    expect(t.batchKeys(256)).toBe(256);
    t.set(1000, 0);
    // A batch never costs much more than the 50 ms burst at the rate.
    expect(t.batchKeys(256)).toBe(50);
    for (let i = 0; i < 20; i++) t.charge(50, 0);
    // 1000 keys charged at 1000/s: 1 s of debt, waited down to the burst.
    let resolved = false;
    const p = t.pace().then(() => {
      resolved = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    now += 960;
    await p;
    expect(resolved).toBe(true);
    // Lifting the limit forgets the debt.
    for (let i = 0; i < 20; i++) t.charge(50, 0);
    t.set(0, 0);
    await t.pace();
    expect(t.status()).toMatchObject({ keysPerSec: 0, bytesPerSec: 0 });
  });

  it('limits bytes the same way', () => {
    const t = new Throttle(() => 0);
    t.set(0, 100_000);
    expect(t.batchBytes(64 * 1024)).toBe(5000);
    expect(t.batchKeys(256)).toBe(256);
  });
});

describe('SlotIndex hidden keys', () => {
  it('names: the temporary name of any key is hidden, ordinary names are not', () => {
    for (const key of ['a', '{t}x', 'a}b', '\x00', 'tessera-import', '\x00tessera-importx']) {
      expect(isHiddenName(key), key).toBe(false);
      expect(isHiddenName(tempNameFor(key)), key).toBe(true);
    }
  });

  it('counts and scans leave hidden keys out; removal keeps the bookkeeping right', () => {
    const idx = new SlotIndex();
    const key = 'k';
    const slot = slotOf(key);
    const tmp = tempNameFor(key);
    const p0 = idx.add(slot, key);
    const p1 = idx.add(slot, tmp);
    expect(idx.count(slot)).toBe(1);
    expect(idx.rawCount(slot)).toBe(2);
    expect(idx.hiddenCount).toBe(1);
    expect(idx.isHidden(tmp)).toBe(true);
    const seen: string[] = [];
    expect(idx.scanSlot(slot, 0, 10, (k) => seen.push(k))).toBe(0);
    expect(seen).toEqual([key]);
    // Removing the visible key moves the hidden one into its place; it stays hidden.
    expect(idx.remove(slot, p0)).toBe(tmp);
    expect(idx.count(slot)).toBe(0);
    expect(idx.isHidden(tmp)).toBe(true);
    idx.remove(slot, 0);
    expect(idx.hiddenCount).toBe(0);
    expect(p1).toBe(1);
  });
});
