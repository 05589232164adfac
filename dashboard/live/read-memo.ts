// One refresh of the stream reads the same prefixes several times (overview, groups, proxies and
// the slot table each read the 1024 slot keys). Through this wrapper, the reads of one refresh
// share one store call per prefix; clear() between refreshes so the next one reads afresh.
import type { CoordStore } from '../../common/store/coord-store.js';

export class ReadMemo {
  private readonly cache = new Map<string, Promise<unknown>>();
  readonly store: CoordStore;

  constructor(inner: CoordStore) {
    const cached = (kind: 'snapshot' | 'list') => (prefix: string) => {
      const key = `${kind}\0${prefix}`;
      let p = this.cache.get(key);
      if (!p) {
        p = kind === 'snapshot' ? inner.snapshot(prefix) : inner.list(prefix);
        this.cache.set(key, p);
        p.catch(() => this.cache.delete(key)); // a failed read is not remembered
      }
      return p;
    };
    // Only reads are shared; everything else goes to the store as is.
    this.store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'snapshot' || prop === 'list') return cached(prop);
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  clear(): void {
    this.cache.clear();
  }
}
