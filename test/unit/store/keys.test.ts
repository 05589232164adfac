import { describe, expect, it } from 'vitest';
import {
  groupIdOf, groupKey, groupsPrefix, leaderKey, migrationKey, migrationSlotOf, productKey, proxiesPrefix, proxyIdOf,
  proxyKey, slotIdOf, slotKey, slotsPrefix,
} from '../../../common/store/keys.js';

describe('store key layout', () => {
  it('lays keys out under /tessera/<product>/', () => {
    expect(productKey('shop')).toBe('/tessera/shop/product');
    expect(slotKey('shop', 42)).toBe('/tessera/shop/slots/0042');
    expect(groupKey('shop', 3)).toBe('/tessera/shop/groups/0003');
    expect(proxyKey('shop', 'proxy-1')).toBe('/tessera/shop/proxies/proxy-1');
    expect(migrationKey('shop', 1023)).toBe('/tessera/shop/migrations/1023');
    expect(leaderKey('shop')).toBe('/tessera/shop/leader');
    expect(slotKey('shop', 7).startsWith(slotsPrefix('shop'))).toBe(true);
    expect(groupKey('shop', 7).startsWith(groupsPrefix('shop'))).toBe(true);
    expect(proxyKey('shop', 'x').startsWith(proxiesPrefix('shop'))).toBe(true);
  });

  it('parses ids back out of keys', () => {
    expect(slotIdOf('shop', slotKey('shop', 42))).toBe(42);
    expect(groupIdOf('shop', groupKey('shop', 12))).toBe(12);
    expect(migrationSlotOf('shop', migrationKey('shop', 9))).toBe(9);
    expect(proxyIdOf('shop', proxyKey('shop', 'p1'))).toBe('p1');
    expect(slotIdOf('shop', '/tessera/shop/slots/42')).toBeNull();
    expect(slotIdOf('shop', groupKey('shop', 1))).toBeNull();
    expect(proxyIdOf('shop', proxiesPrefix('shop'))).toBeNull();
  });

  it('rejects names and ids that would break the layout', () => {
    expect(() => slotKey('a/b', 1)).toThrow(/invalid product name "a\/b"/);
    expect(() => productKey('')).toThrow(/invalid product name/);
    expect(() => proxyKey('shop', '..')).toThrow(/invalid proxy name/);
    expect(() => slotKey('shop', 1.5)).toThrow(/invalid slot id 1.5/);
    expect(() => groupKey('shop', 10000)).toThrow(/invalid group id 10000/);
  });
});
