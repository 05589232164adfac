// Marks failures of the coordination store itself (unreachable etcd, unreadable file store), so
// the API answers them with 503 STORE_UNAVAILABLE instead of a 500 that looks like our own bug.
import type { CoordStore } from '../../common/store/coord-store.js';

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** Reads and writes: a rejection of any of them becomes a StoreUnavailableError. */
const WRAPPED = ['get', 'list', 'snapshot', 'put', 'delete', 'compareAndSwap', 'txn'] as const;
/** Passed through unchanged (their failures are handled where they are used). */
const PASSED = ['watch', 'putEphemeral', 'campaign', 'leader', 'close'] as const;

/** A view of `store` (every call runs on `store` itself) whose read/write failures are marked. */
export function reportingStoreErrors(store: CoordStore): CoordStore {
  const out: Record<string, unknown> = {};
  for (const name of PASSED) out[name] = (store[name] as (...args: unknown[]) => unknown).bind(store);
  for (const name of WRAPPED) {
    const method = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    out[name] = (...args: unknown[]) =>
      method(...args).catch((err: unknown) => {
        throw new StoreUnavailableError(`the coordination store failed: ${err instanceof Error ? err.message : String(err)}`);
      });
  }
  return out as unknown as CoordStore;
}
