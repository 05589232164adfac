// A proxy's one store registration (lease-bound): a single-process proxy's Topology sets the
// revision it applied; a multi-worker primary the lowest every worker applied. A lost lease is
// registered again; writes go one at a time and are coalesced (only the newest value is written,
// a failed write is retried), so an older revision never lands after a newer one.
import { type ProxyInfo, encodeProxyInfo } from '../common/model.js';
import type { CoordStore, EphemeralKey } from '../common/store/coord-store.js';
import { proxyKey } from '../common/store/keys.js';

const RETRY_MS = 500;
const REGISTRATION_TTL_S = 10;

export class ProxyRegistration {
  private key: EphemeralKey | null = null;
  private revision = '0';
  /** The value the store holds (the last write that succeeded). */
  private written = '';
  private writing = false;
  private dirty = false;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private flushRetry: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: CoordStore,
    private readonly product: string,
    private readonly info: ProxyInfo,
    private readonly log: (msg: string) => void,
  ) {}

  /** The revision registered now (what the store shows once the write landed). */
  get tableRevision(): string {
    return this.revision;
  }

  /** Registers with `revision`; on failure keeps retrying in the background. */
  async start(revision: string): Promise<void> {
    this.revision = revision;
    if (this.key !== null) return this.flush(); // registered already (a store watch restarted)
    await this.register();
  }

  /** Sets the registered revision (written at once, or after the write in flight). */
  set(revision: string): void {
    if (revision === this.revision) return;
    this.revision = revision;
    void this.flush();
  }

  private async register(): Promise<void> {
    if (this.key !== null || this.stopped) return;
    try {
      const value = this.value();
      const key = await this.store.putEphemeral(proxyKey(this.product, this.info.id), value, REGISTRATION_TTL_S);
      if (this.stopped) return void (await key.revoke().catch(() => {}));
      this.key = key;
      this.written = value;
      key.onLost((err) => {
        this.key = null;
        if (this.stopped) return;
        this.log(`registration lost (${err.message}); registering again`);
        this.later();
      });
      void this.flush(); // a revision set while the put was in flight
    } catch (err) {
      this.log(`registration failed: ${(err as Error).message}; retrying`);
      this.later();
    }
  }

  private later(): void {
    if (this.retry !== null || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.register();
    }, RETRY_MS);
  }

  private value(): string {
    return encodeProxyInfo({ ...this.info, tableRevision: this.revision });
  }

  private async flush(): Promise<void> {
    if (this.writing) {
      this.dirty = true;
      return;
    }
    this.writing = true;
    try {
      // Bounded: each pass writes the newest value; a change during it costs one more pass.
      do {
        this.dirty = false;
        const key = this.key;
        if (key === null) break; // written by the next register()
        const value = this.value();
        if (value === this.written) break;
        const ok = await key.update(value).then(() => true, () => false);
        if (ok) this.written = value;
        else this.retryFlush(); // the store refused or is away: the newest value is written again later
        if (!ok) break;
      } while (this.dirty && !this.stopped);
    } finally {
      this.writing = false;
    }
  }

  private retryFlush(): void {
    if (this.flushRetry !== null || this.stopped) return;
    this.flushRetry = setTimeout(() => {
      this.flushRetry = null;
      void this.flush();
    }, RETRY_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.flushRetry !== null) clearTimeout(this.flushRetry);
    await this.key?.revoke().catch(() => {});
    this.key = null;
  }
}
