// CoordStore on etcd v3 via the `etcd3` client. Owns the client, its watchers and leases, and
// releases all of them on close() (an un-cancelled watcher or live lease keeps Node from exiting).

import { ExponentialBackoff } from 'cockatiel';
import { Etcd3, type IKeyValue, type IRequestOp, type ICompare, type Lease } from 'etcd3';
import type {
  CasResult, CoordStore, EphemeralKey, LeaderLease, StoreEntry, StoreSnapshot, StoreWatch, TxnCompare, TxnOp, TxnResult,
} from './coord-store.js';
import { campaignOn, leaderOf } from './leader-lock.js';
import { WatchStream } from './watch-stream.js';

function toEntry(kv: IKeyValue): StoreEntry {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    revision: String(kv.mod_revision),
    createRevision: String(kv.create_revision),
  };
}

/** An etcd compare for "mod revision is rev" or, for null, "key absent" (create revision 0). */
function toCompare(key: string, revision: string | null): ICompare {
  return revision === null
    ? { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }
    : { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: revision };
}

function toRequestOp(op: TxnOp): IRequestOp {
  return op.op === 'put'
    ? { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value) } }
    : { request_delete_range: { key: Buffer.from(op.key) } };
}

class EtcdEphemeralKey implements EphemeralKey {
  constructor(
    readonly key: string,
    public revision: string,
    private readonly lease: Lease,
    private readonly forget: () => void,
  ) {}

  async update(value: string): Promise<string> {
    const res = await this.lease.put(this.key).value(value).exec();
    this.revision = String(res.header.revision);
    return this.revision;
  }

  async revoke(): Promise<void> {
    this.forget();
    if (!this.lease.revoked()) await this.lease.revoke();
  }

  onLost(listener: (err: Error) => void): void {
    this.lease.once('lost', listener);
  }
}

/** How to reach etcd: endpoints, and optionally a user and TLS (see common/store/open-store.ts). */
export interface EtcdConnection {
  hosts: string[];
  auth?: { username: string; password: string };
  /** TLS: the CA to verify the server with (default: the system's), and a client cert + key. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

export class EtcdStore implements CoordStore {
  private readonly client: Etcd3;
  private readonly watches = new Set<WatchStream>();
  private readonly cancelling = new Set<Promise<void>>();
  private readonly leases = new Set<Lease>();
  private closed = false;

  /** @param conn endpoints (e.g. ['http://127.0.0.1:2379']), with optional password auth and TLS files */
  constructor(conn: EtcdConnection | string[]) {
    const { hosts, auth, tls } = Array.isArray(conn) ? { hosts: conn } as EtcdConnection : conn;
    this.client = new Etcd3({
      hosts,
      ...(auth ? { auth: { username: auth.username, password: auth.password } } : {}),
      // grpc-js: without a CA file the system's roots verify the server.
      ...(tls ? { credentials: { rootCertificate: tls.ca ?? (null as unknown as Buffer), privateKey: tls.key, certChain: tls.cert } } : {}),
      // The default watch backoff can wait ~8 s after etcd is back; reconnect within a second instead.
      faultHandling: { watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next() },
    });
  }

  async get(key: string): Promise<StoreEntry | null> {
    const res = await this.client.get(key).exec();
    return res.kvs.length > 0 ? toEntry(res.kvs[0]) : null;
  }

  async list(prefix: string): Promise<StoreEntry[]> {
    return (await this.snapshot(prefix)).entries;
  }

  async snapshot(prefix: string): Promise<StoreSnapshot> {
    const res = await this.client.getAll().prefix(prefix).sort('Key', 'Ascend').exec();
    return { entries: res.kvs.map(toEntry), revision: String(res.header.revision) };
  }

  async put(key: string, value: string): Promise<string> {
    const res = await this.client.put(key).value(value).exec();
    return String(res.header.revision);
  }

  async delete(key: string): Promise<boolean> {
    const res = await this.client.delete().key(key).exec();
    return Number(res.deleted) > 0;
  }

  async compareAndSwap(key: string, expectedRevision: string | null, value: string): Promise<CasResult> {
    const res = await this.client.kv.txn({
      compare: [toCompare(key, expectedRevision)],
      success: [toRequestOp({ op: 'put', key, value })],
      failure: [{ request_range: { key: Buffer.from(key) } }],
    });
    if (res.succeeded) return { ok: true, revision: String(res.header.revision) };
    const kvs = res.responses[0]?.response_range?.kvs ?? [];
    return { ok: false, current: kvs.length > 0 ? toEntry(kvs[0]) : null };
  }

  async txn(compares: TxnCompare[], ops: TxnOp[]): Promise<TxnResult> {
    const res = await this.client.kv.txn({
      compare: compares.map((c) => toCompare(c.key, c.revision)),
      success: ops.map(toRequestOp),
      failure: [],
    });
    return { ok: res.succeeded, revision: String(res.header.revision) };
  }

  async watch(prefix: string, fromRevision?: string): Promise<StoreWatch> {
    const builder = this.client.watch().prefix(prefix);
    if (fromRevision !== undefined) builder.startRevision(fromRevision);
    const watcher = await builder.create();
    const stream = new WatchStream(() => {
      this.watches.delete(stream);
      const done = watcher.cancel().catch(() => {});
      this.cancelling.add(done);
      void done.then(() => this.cancelling.delete(done));
    });
    this.watches.add(stream);
    // 'data' carries a whole response, so the events of one revision stay together and in order.
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        const kv = ev.kv;
        stream.push({
          type: ev.type === 'Delete' ? 'delete' : 'put',
          key: kv.key.toString(),
          value: ev.type === 'Delete' ? '' : kv.value.toString(),
          revision: String(kv.mod_revision),
        });
      }
    });
    // etcd3 reconnects by itself; 'error' means the watch cannot go on (e.g. its start revision was compacted).
    watcher.on('error', (err) => stream.fail(new Error(`etcd watch on ${prefix} ended: ${err.message} (start revision compacted?)`)));
    return stream;
  }

  async putEphemeral(key: string, value: string, ttlSeconds: number): Promise<EphemeralKey> {
    const lease = this.client.lease(ttlSeconds);
    this.leases.add(lease);
    lease.on('lost', () => this.leases.delete(lease));
    try {
      const res = await lease.put(key).value(value).exec();
      return new EtcdEphemeralKey(key, String(res.header.revision), lease, () => this.leases.delete(lease));
    } catch (err) {
      this.leases.delete(lease);
      lease.release();
      throw err;
    }
  }

  campaign(name: string, id: string, ttlSeconds: number): Promise<LeaderLease> {
    return campaignOn(this, name, id, ttlSeconds);
  }

  leader(name: string): Promise<string | null> {
    return leaderOf(this, name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.cancel();
    await Promise.allSettled([...this.cancelling]);
    // Revoke so our keys vanish now; if etcd is unreachable, release() at least stops the keep-alive timers.
    await Promise.allSettled([...this.leases].map((l) => l.revoke({ deadline: Date.now() + 1000 })));
    for (const l of this.leases) l.release();
    this.leases.clear();
    this.client.close();
  }
}
