// The store key layout, in one place: /tessera/<product>/{product, slots/NNNN, groups/NNNN, proxies/<id>,
// migrations/NNNN, leader}. Everything else builds keys through these helpers.

const ROOT = '/tessera';
/** What a product name or proxy id may contain: it becomes one key segment. */
export const KEY_SEGMENT_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Throws unless `name` is safe as one key segment (no '/', not empty, short). */
export function checkKeySegment(what: string, name: string): string {
  if (!KEY_SEGMENT_PATTERN.test(name) || name === '.' || name === '..') {
    throw new Error(`invalid ${what} name ${JSON.stringify(name)}: use 1-64 of A-Z a-z 0-9 _ . -`);
  }
  return name;
}

function pad4(id: number, what: string): string {
  if (!Number.isInteger(id) || id < 0 || id > 9999) throw new Error(`invalid ${what} id ${id}: expected an integer 0..9999`);
  return String(id).padStart(4, '0');
}

/**
 * Parses the trailing NNNN of a key under `prefix`; null if the key is not one. Exported for
 * readers that scan a thousand keys at a time with the prefix computed once (no slice, no regex).
 */
export function idAfter(prefix: string, key: string): number | null {
  if (key.length !== prefix.length + 4 || !key.startsWith(prefix)) return null;
  let id = 0;
  for (let i = prefix.length; i < key.length; i++) {
    const d = key.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    id = id * 10 + d;
  }
  return id;
}

export const productsPrefix = (): string => `${ROOT}/`;
export const productPrefix = (product: string): string => `${ROOT}/${checkKeySegment('product', product)}/`;
export const productKey = (product: string): string => `${productPrefix(product)}product`;

export const slotsPrefix = (product: string): string => `${productPrefix(product)}slots/`;
export const slotKey = (product: string, slot: number): string => slotsPrefix(product) + pad4(slot, 'slot');
export const slotIdOf = (product: string, key: string): number | null => idAfter(slotsPrefix(product), key);

export const groupsPrefix = (product: string): string => `${productPrefix(product)}groups/`;
export const groupKey = (product: string, group: number): string => groupsPrefix(product) + pad4(group, 'group');
export const groupIdOf = (product: string, key: string): number | null => idAfter(groupsPrefix(product), key);

export const proxiesPrefix = (product: string): string => `${productPrefix(product)}proxies/`;
export const proxyKey = (product: string, id: string): string => proxiesPrefix(product) + checkKeySegment('proxy', id);
export function proxyIdOf(product: string, key: string): string | null {
  const prefix = proxiesPrefix(product);
  return key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : null;
}

/** One migration record per slot being moved. */
export const migrationsPrefix = (product: string): string => `${productPrefix(product)}migrations/`;
export const migrationKey = (product: string, slot: number): string => migrationsPrefix(product) + pad4(slot, 'slot');
export const migrationSlotOf = (product: string, key: string): number | null => idAfter(migrationsPrefix(product), key);

/** The leader-lock name of the product's coordinator (candidates live under `${leaderKey}/`). */
export const leaderKey = (product: string): string => `${productPrefix(product)}leader`;

/**
 * The product's configuration epoch: a counter the coordinator raises (compare-and-swap) with every
 * slot-ownership change it tells the nodes, so a node can refuse a stale or second coordinator.
 */
export const epochKey = (product: string): string => `${productPrefix(product)}epoch`;
/** Migration throttle and concurrency set at run time (kept apart from the per-slot records). */
export const migrationSettingsKey = (product: string): string => `${productPrefix(product)}migration-settings`;

/** One failover record per group (the promotion state machine, dashboard/coordinator/failover.ts). */
export const failoversPrefix = (product: string): string => `${productPrefix(product)}failovers/`;
export const failoverKey = (product: string, group: number): string => failoversPrefix(product) + pad4(group, 'group');
/** Health and failover settings set at run time (down-after, hold-down, per-group overrides). */
export const failoverSettingsKey = (product: string): string => `${productPrefix(product)}failover-settings`;
/** The event log: one key per event, named so that key order is time order; capped by the coordinator. */
export const eventsPrefix = (product: string): string => `${productPrefix(product)}events/`;
export const eventKey = (product: string, seq: number): string => {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`invalid event sequence ${seq}`);
  return eventsPrefix(product) + String(seq).padStart(16, '0');
};
