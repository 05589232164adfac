// One client of the proxy: decodes pipelined requests, plans each by the command table's proxy
// policy (forward whole, split per backend, fan out to all groups, answer locally), and writes
// replies in request order, batched into one socket write per tick. Every request settles
// exactly once: a reply, an error, a backend failure, or the client closing.
import type { Socket } from 'node:net';
import { keyIndexes } from '../common/commands/keys.js';
import type { CommandSpec } from '../common/commands/spec.js';
import { resolveCommand } from '../common/commands/table.js';
import { ERR } from '../common/errors.js';
import { encodeCommand } from '../common/resp/encode.js';
import { ProtocolError, RequestDecoder } from '../common/resp/request-decoder.js';
import { slotOf } from '../common/slots.js';
import { BackendConnection } from './backend/connection.js';
import { isAdminCommand, runAdminCommand } from './admin-commands.js';
import { answerLocally, isCrossProtocol } from './local-commands.js';
import { arrayElements, arrayFrame, errorFrame, integerFrame, integerOf, isError, mergeAllOk, mergeConcat, mergeSum } from './merge.js';
import type { Proxy } from './proxy.js';
import { ProxyPubSub } from './pubsub.js';
import type { CommandStats } from './stats.js';
import { ProxyTransaction } from './transaction.js';

class Pending {
  reply: Buffer | null = null;
  constructor(
    readonly stats: CommandStats,
    /** performance.now() at arrival when this request's latency is sampled, else -1. */
    readonly startedAt: number,
  ) {}
}

const ASKING = encodeCommand(['ASKING']);
const PUSH_STATS = { calls: 0, errors: 0, sampled: 0 } as CommandStats;
const MAX_REDIRECTS = 5;
// What a RESP2 subscriber may still send (as in Redis).
const PUBSUB_CONTEXT_OK = new Set(['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'ping', 'quit', 'reset']);
// Commands that run at once even inside MULTI.
const MULTI_IMMEDIATE = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export class ProxySession {
  readonly id: number;
  readonly decoder = new RequestDecoder();
  name = '';
  libName = '';
  libVer = '';
  resp: 2 | 3 = 2;
  authenticated: boolean;
  readonly createdAt = Date.now();
  private queue: Pending[] = [];
  private head = 0;
  private drainScheduled = false;
  private readPaused = false;
  closed = false;
  private closing = false;
  /** Requests that arrived while a blocking command was in flight; they run after it, in order. */
  private held: Array<[string[], Buffer]> | null = null;
  /** Links owned by this client alone (blocking commands, WATCH/MULTI), by backend address. */
  private readonly links = new Map<string, BackendConnection>();
  pubsub: ProxyPubSub | null = null;
  readonly tx = new ProxyTransaction(this);

  constructor(
    readonly proxy: Proxy,
    readonly socket: Socket,
  ) {
    this.id = proxy.nextSessionId++;
    this.decoder.keepRaw = true;
    this.authenticated = proxy.config.requirepass === '';
    this.decoder.unauthenticated = !this.authenticated;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  get addr(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get inFlight(): number {
    return this.queue.length - this.head;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      if (this.closing) return;
      let args: string[] | null;
      try {
        args = this.decoder.next();
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.respond(this.enqueue('protocol'), errorFrame(`ERR ${err.message}`));
        this.closing = true;
        return;
      }
      if (args === null) break;
      if (isCrossProtocol(args)) return this.proxy.securityAttack(this); // nothing after it is read
      this.handle(args, this.decoder.lastRaw ?? encodeCommand(args));
    }
    // Backpressure: a client that pipelines more than the limit waits for replies first.
    if (this.inFlight >= this.proxy.config.maxPipeline && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private enqueue(command: string): Pending {
    const st = this.proxy.stats.entry(command);
    const p = new Pending(st, this.proxy.stats.shouldTime(st) ? performance.now() : -1);
    this.queue.push(p);
    return p;
  }

  /** Settles a request; replies leave in request order. */
  respond(p: Pending, reply: Buffer): void {
    if (p.reply !== null) return;
    p.reply = reply;
    this.proxy.stats.record(p.stats, p.startedAt < 0 ? -1 : performance.now() - p.startedAt, isError(reply));
    if (this.queue[this.head] === p && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.drainScheduled = false;
    if (this.closed) return;
    const out: Buffer[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      if (p.reply === null) break;
      out.push(p.reply);
      bytes += p.reply.length;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (out.length > 0) {
      this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out, bytes));
      // A client that does not read its replies must not hold the proxy's memory: like Redis's
      // client-output-buffer-limit, it is disconnected past the limit.
      if (this.socket.writableLength > this.proxy.config.maxOutputBytes) {
        this.proxy.log(`closing client ${this.addr}: ${this.socket.writableLength} unsent reply bytes (max-output-bytes ${this.proxy.config.maxOutputBytes})`);
        this.socket.destroy();
        return;
      }
    }
    if (this.closing && this.inFlight === 0) {
      this.socket.end();
      return;
    }
    this.maybeResume();
  }

  private maybeResume(): void {
    if (!this.readPaused || this.closed) return;
    if (this.inFlight < this.proxy.config.maxPipeline / 2) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private onClose(): void {
    this.closed = true;
    // Closing the dedicated links is what releases blocked commands and WATCHes on the nodes.
    for (const conn of this.links.values()) conn.close();
    this.links.clear();
    this.pubsub?.close();
    this.proxy.forgetSession(this);
  }

  /** RESET: back to a fresh connection's state (no transaction, WATCH, subscriptions). */
  resetState(): void {
    this.tx.abandon();
    for (const conn of this.links.values()) conn.close();
    this.links.clear();
    this.pubsub?.close();
    this.pubsub = null;
    this.resp = 2;
    this.name = '';
    this.authenticated = this.proxy.config.requirepass === '';
    this.decoder.unauthenticated = !this.authenticated;
  }

  /** A link to `addr` used by this client only (kept until it disconnects). */
  dedicated(addr: string): BackendConnection {
    let conn = this.links.get(addr);
    if (!conn) {
      conn = new BackendConnection(addr, {
        password: this.proxy.config.backendPassword || undefined,
        resp3: this.resp === 3,
        onClose: () => this.links.delete(addr),
      });
      this.links.set(addr, conn);
    }
    return conn;
  }

  /** An out-of-band frame (a pub/sub message) for the client, kept in order with replies. */
  push(frame: Buffer): void {
    if (this.closed) return;
    const p = new Pending(PUSH_STATS, -1); // pushes are not requests: never recorded
    this.queue.push(p);
    p.reply = frame;
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /**
   * The master serving a slot (the source while it migrates: nodes redirect with ASK when
   * needed), or null; routeError() says why.
   */
  masterAddr(slot: number): string | null {
    const route = this.proxy.topology.routes[slot]!;
    if (route.kind === 'online') return route.master;
    return route.kind === 'migrating' ? route.fromMaster : null;
  }

  allMasters(): string[] {
    return this.masters().sort();
  }

  /** The slot table changed: move pub/sub subscriptions along. */
  onTopologyChanged(): void {
    this.pubsub?.onTopologyChanged();
  }

  /** Plans and starts one request. */
  private handle(args: string[], raw: Buffer): void {
    if (this.held) {
      this.held.push([args, raw]);
      return;
    }
    const resolved = resolveCommand(args);
    const p = this.enqueue('spec' in resolved ? resolved.spec.name : 'unknown');
    const refuse = (message: string) => {
      this.tx.flag();
      this.respond(p, errorFrame(message));
    };
    if ('error' in resolved) return refuse(resolved.error);
    const { spec, top } = resolved;
    if (!this.authenticated && !spec.flags.has('no_auth')) return refuse(ERR.noAuth);
    if (this.resp === 2 && this.pubsub?.active && !PUBSUB_CONTEXT_OK.has(top.name)) {
      return refuse(`ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    if (this.tx.inMulti && !MULTI_IMMEDIATE.has(top.name)) return this.queueInTransaction(p, spec, args, raw);
    switch (spec.proxy) {
      case 'single':
        return this.forwardSingle(p, spec, args, raw);
      case 'perKey:array':
      case 'perKey:allOk':
      case 'perKey:sum':
        return this.splitPerKey(p, spec, args, raw);
      case 'allShards:sum':
      case 'allShards:concat':
      case 'allShards:allOk':
      case 'allShards:random':
        return this.fanOut(p, spec, raw);
      case 'local':
        return this.respond(p, answerLocally(this, spec, args));
      case 'scan':
        return this.scan(p, args);
      case 'info':
        return this.info(p, args);
      case 'pubsub':
        return this.pubsubCommand(p, spec, args, raw);
      case 'blocking':
        return this.blocking(p, spec, args, raw);
      case 'transaction':
        return this.transaction(p, spec, args, raw);
      case 'deny':
        if (isAdminCommand(spec)) return runAdminCommand(this, spec, args, (reply) => this.respond(p, reply));
        return this.respond(p, errorFrame(`ERR '${spec.name}' ${spec.denyReason ?? 'is not supported through the proxy'}`));
    }
  }

  /** Slots of a command's keys, or a refusal text. */
  private keySlots(spec: CommandSpec, args: string[]): number[] | string {
    const idx = keyIndexes(spec, args);
    if (idx === null) return [];
    return idx.map((i) => slotOf(args[i]!));
  }

  private queueInTransaction(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const keyed = spec.proxy === 'single' || spec.proxy.startsWith('perKey') || spec.proxy === 'blocking' || spec.proxy === 'local' || spec.name === 'unwatch';
    if (!keyed) {
      this.tx.flag();
      return this.respond(p, errorFrame(`ERR '${spec.name}' is not allowed inside a transaction through the proxy`));
    }
    const slots = this.keySlots(spec, args);
    this.respond(p, this.tx.queue(raw, typeof slots === 'string' ? [] : slots));
  }

  private transaction(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const done = (reply: Buffer) => this.respond(p, reply);
    switch (spec.name) {
      case 'multi':
        return this.respond(p, this.tx.multi());
      case 'exec':
        return this.tx.exec(done);
      case 'discard':
        return this.tx.discard(done);
      case 'watch': {
        const slots = this.keySlots(spec, args);
        return this.tx.watch(raw, typeof slots === 'string' ? [] : slots, done);
      }
      case 'unwatch':
        return this.tx.unwatch(done);
    }
  }

  /**
   * Blocking commands run on this client's own link to the slot's master, and the client's
   * later requests wait until it returns (as they would on a real Redis connection).
   */
  private blocking(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const slots = this.keySlots(spec, args);
    const list = typeof slots === 'string' ? [] : slots;
    if (list.some((s) => s !== list[0])) return this.respond(p, errorFrame(ERR.crossSlot));
    const addr = this.masterAddr(list[0] ?? 0);
    if (addr === null) return this.respond(p, errorFrame(this.routeError(list[0] ?? 0)));
    this.held = [];
    this.dedicated(addr).send(raw, (reply, err) => {
      this.respond(p, reply ?? errorFrame(err!));
      const held = this.held ?? [];
      this.held = null;
      for (const [a, r] of held) this.handle(a, r);
    });
  }

  private pubsubCommand(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const names = args.slice(1);
    const ps = (this.pubsub ??= new ProxyPubSub(this));
    const frames = (list: Buffer[]) => this.respond(p, list.length === 1 ? list[0]! : Buffer.concat(list));
    switch (spec.name) {
      case 'subscribe':
        return ps.subscribe('channel', names, frames);
      case 'psubscribe':
        return ps.subscribe('pattern', names, frames);
      case 'ssubscribe': {
        const slots = names.map(slotOf);
        if (slots.some((s) => s !== slots[0])) return this.respond(p, errorFrame(ERR.crossSlot));
        return ps.subscribe('shard', names, frames);
      }
      case 'unsubscribe':
        return frames(ps.unsubscribe('channel', names));
      case 'punsubscribe':
        return frames(ps.unsubscribe('pattern', names));
      case 'sunsubscribe':
        return frames(ps.unsubscribe('shard', names));
      case 'publish':
      case 'spublish': {
        const addr = this.masterAddr(slotOf(args[1]!));
        if (addr === null) return this.respond(p, errorFrame(this.routeError(slotOf(args[1]!))));
        return this.forward(addr, raw, 0, (reply) => this.respond(p, reply));
      }
      default:
        return this.pubsubIntrospection(p, spec, args, raw);
    }
  }

  /** PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB over every group. */
  private pubsubIntrospection(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const masters = this.allMasters();
    if (masters.length === 0) return this.respond(p, errorFrame('ERR no group is serving any slot'));
    const replies: Buffer[] = new Array(masters.length);
    let waiting = masters.length;
    masters.forEach((addr, i) => this.forward(addr, raw, 0, (reply) => {
      replies[i] = reply;
      if (--waiting > 0) return;
      const bad = replies.find(isError);
      if (bad) return this.respond(p, bad);
      if (spec.name === 'pubsub|numpat') {
        // Patterns are subscribed on every group: any one group's count is the cluster's.
        return this.respond(p, integerFrame(Math.max(...replies.map((r) => integerOf(r) ?? 0))));
      }
      if (spec.name === 'pubsub|numsub' || spec.name === 'pubsub|shardnumsub') {
        const names = args.slice(2);
        const counts = new Array<number>(names.length).fill(0);
        for (const r of replies) {
          const els = arrayElements(r) ?? [];
          for (let j = 0; j < names.length; j++) counts[j]! += integerOf(els[2 * j + 1] ?? Buffer.alloc(0)) ?? 0;
        }
        return this.respond(p, arrayFrame(names.flatMap((n, j) => [bulk(n), integerFrame(counts[j]!)])));
      }
      // CHANNELS / SHARDCHANNELS: the union.
      const seen = new Map<string, Buffer>();
      for (const r of replies) for (const el of arrayElements(r) ?? []) seen.set(el.latin1Slice(0, el.length), el);
      this.respond(p, arrayFrame([...seen.values()]));
    }));
  }

  /** Why masterAddr(slot) is null. */
  routeError(slot: number): string {
    const route = this.proxy.topology.routes[slot]!;
    if (route.kind === 'online') return `ERR group ${route.group} has no master`;
    if (route.kind === 'migrating') return `ERR group ${route.from} has no master`;
    return `ERR slot ${slot} is not assigned to any group`;
  }

  /** All keys must share one slot; the request goes there whole. */
  private forwardSingle(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    let slot = 0;
    if (spec.lastKey === 1 && spec.firstKey === 1 && spec.movableKeys === undefined) {
      // The common case (GET, SET, HSET …): one key at args[1].
      slot = slotOf(args[1]!);
    } else {
      const idx = keyIndexes(spec, args);
      if (idx !== null && idx.length > 0) {
        slot = slotOf(args[idx[0]!]!);
        for (let i = 1; i < idx.length; i++) {
          if (slotOf(args[idx[i]!]!) !== slot) return this.respond(p, errorFrame(ERR.crossSlot));
        }
      }
    }
    const master = this.masterAddr(slot);
    if (master === null) return this.respond(p, errorFrame(this.routeError(slot)));
    const addr = spec.flags.has('readonly') ? this.replicaFor(slot) ?? master : master;
    this.forward(addr, raw, 0, (reply) => this.respond(p, reply));
  }

  /**
   * With read-from-replica = prefer, a replica of the slot's group (the same one for this client,
   * so its reads stay ordered); never while the slot migrates.
   */
  private replicaFor(slot: number): string | null {
    if (this.proxy.config.readFromReplica !== 'prefer') return null;
    const route = this.proxy.topology.routes[slot]!;
    if (route.kind !== 'online') return null;
    const replicas = this.proxy.topology.groups.get(route.group)?.servers.filter((x) => x.role === 'replica') ?? [];
    return replicas.length === 0 ? null : replicas[this.id % replicas.length]!.addr;
  }

  /**
   * Sends a request to a backend and follows -MOVED / -ASK / -TRYAGAIN (bounded), calling
   * `done` exactly once with the final reply.
   */
  forward(addr: string, raw: Buffer, redirects: number, done: (reply: Buffer) => void, asking = false): void {
    const conn = this.proxy.pool.get(addr, this.id, this.resp === 3);
    if (asking) conn.send(ASKING, () => {});
    conn.send(raw, (reply, error) => {
      if (reply === null) return done(errorFrame(error!));
      if (reply[0] === 0x2d && redirects < MAX_REDIRECTS) {
        const text = reply.latin1Slice(1, Math.min(reply.length - 2, 200));
        if (text.startsWith('MOVED ') || text.startsWith('ASK ')) {
          const target = text.split(' ')[2];
          if (target) {
            if (text.startsWith('MOVED ')) this.proxy.stats.redirects++;
            return this.forward(target, raw, redirects + 1, done, text.startsWith('ASK '));
          }
        } else if (text.startsWith('TRYAGAIN')) {
          setTimeout(() => this.forward(addr, raw, redirects + 1, done, asking), 5 * (redirects + 1));
          return;
        }
      }
      done(reply);
    });
  }

  /** MGET/MSET/DEL/EXISTS/UNLINK/TOUCH: one sub-request per backend, merged in key order. */
  private splitPerKey(p: Pending, spec: CommandSpec, args: string[], raw: Buffer): void {
    const step = spec.keyStep;
    const byAddr = new Map<string, number[]>(); // addr → key indexes
    for (let i = spec.firstKey; i < args.length; i += step) {
      const slot = slotOf(args[i]!);
      const addr = this.masterAddr(slot);
      if (addr === null) return this.respond(p, errorFrame(this.routeError(slot)));
      let list = byAddr.get(addr);
      if (!list) byAddr.set(addr, (list = []));
      list.push(i);
    }
    if (byAddr.size === 1) {
      const [addr] = byAddr.keys();
      return this.forward(addr!, raw, 0, (reply) => this.respond(p, reply));
    }
    const parts: Array<{ indexes: number[]; reply: Buffer | null }> = [];
    let waiting = byAddr.size;
    const finish = () => {
      const replies = parts.map((x) => x.reply!);
      if (spec.proxy === 'perKey:sum') return this.respond(p, mergeSum(replies));
      if (spec.proxy === 'perKey:allOk') return this.respond(p, mergeAllOk(replies));
      // array: put each element back at its key's position; a failed part fails only its keys.
      const out: Buffer[] = new Array((args.length - spec.firstKey) / step);
      for (const part of parts) {
        const els = isError(part.reply!) ? null : arrayElements(part.reply!);
        part.indexes.forEach((argIndex, j) => {
          out[(argIndex - spec.firstKey) / step] = els?.[j] ?? part.reply!;
        });
      }
      this.respond(p, arrayFrame(out));
    };
    for (const [addr, indexes] of byAddr) {
      const part = { indexes, reply: null as Buffer | null };
      parts.push(part);
      const sub: string[] = [args[0]!];
      for (const i of indexes) for (let k = 0; k < step; k++) sub.push(args[i + k]!);
      this.forward(addr, encodeCommand(sub), 0, (reply) => {
        part.reply = reply;
        if (--waiting === 0) finish();
      });
    }
  }

  /** Every group master, once. */
  private masters(): string[] {
    const out = new Set<string>();
    for (const g of this.proxy.topology.groups.values()) {
      const m = g.servers.find((s) => s.role === 'master');
      if (m) out.add(m.addr);
    }
    return [...out];
  }

  /** DBSIZE, KEYS, FLUSHALL, FLUSHDB, RANDOMKEY: sent to every group, merged. */
  private fanOut(p: Pending, spec: CommandSpec, raw: Buffer): void {
    const masters = this.masters();
    if (masters.length === 0) return this.respond(p, errorFrame('ERR no group is serving any slot'));
    const replies: Buffer[] = new Array(masters.length);
    let waiting = masters.length;
    masters.forEach((addr, i) => {
      this.forward(addr, raw, 0, (reply) => {
        replies[i] = reply;
        if (--waiting > 0) return;
        if (spec.proxy === 'allShards:sum') this.respond(p, mergeSum(replies));
        else if (spec.proxy === 'allShards:concat') this.respond(p, this.capKeys(mergeConcat(replies)));
        else if (spec.proxy === 'allShards:allOk') this.respond(p, mergeAllOk(replies));
        else {
          const hits = replies.filter((r) => r[0] === 0x24 && r[1] !== 0x2d);
          const errors = replies.filter(isError);
          this.respond(p, hits.length > 0 ? hits[Math.floor(Math.random() * hits.length)]! : errors[0] ?? replies[0]!);
        }
      });
    });
  }

  private capKeys(frame: Buffer): Buffer {
    const cap = this.proxy.config.maxKeysReply;
    if (cap <= 0 || isError(frame)) return frame;
    const els = arrayElements(frame);
    if (!els || els.length <= cap) return frame;
    return errorFrame(`ERR KEYS matched more than ${cap} keys; use SCAN (max-keys-reply in the proxy config)`);
  }

  /**
   * SCAN across groups: the proxy cursor is nodeCursor * 1024 + group index, so a scan walks
   * group after group, each with its own cursor.
   */
  private scan(p: Pending, args: string[]): void {
    const masters = this.masters().sort();
    if (masters.length === 0) return this.respond(p, errorFrame('ERR no group is serving any slot'));
    let cursor: bigint;
    try {
      if (!/^\d+$/.test(args[1]!)) throw new Error();
      cursor = BigInt(args[1]!);
    } catch {
      return this.respond(p, errorFrame('ERR invalid cursor'));
    }
    const groupIndex = Number(cursor % 1024n);
    const nodeCursor = cursor / 1024n;
    if (groupIndex >= masters.length) return this.respond(p, arrayFrame([bulk('0'), Buffer.from('*0\r\n')]));
    const sub = ['SCAN', nodeCursor.toString(), ...args.slice(2)];
    this.forward(masters[groupIndex]!, encodeCommand(sub), 0, (reply) => {
      if (isError(reply)) return this.respond(p, reply);
      const els = arrayElements(reply);
      if (!els || els.length !== 2) return this.respond(p, errorFrame('ERR unexpected SCAN reply from backend'));
      const next = BigInt(els[0]!.latin1Slice(els[0]!.indexOf(10) + 1, els[0]!.length - 2));
      let proxyNext: bigint;
      if (next !== 0n) proxyNext = next * 1024n + BigInt(groupIndex);
      else proxyNext = groupIndex + 1 < masters.length ? BigInt(groupIndex + 1) : 0n;
      this.respond(p, arrayFrame([bulk(proxyNext.toString()), els[1]!]));
    });
  }

  /** INFO: the proxy's own sections plus the keyspace summed over groups. */
  info(p: Pending, args: string[]): void {
    const masters = this.masters();
    const sections = args.slice(1).map((a) => a.toLowerCase());
    const wantKeyspace = sections.length === 0 || sections.some((s) => s === 'keyspace' || s === 'all' || s === 'everything' || s === 'default');
    const finish = (keys: number, expires: number) => {
      let text = this.proxy.infoText(sections);
      if (wantKeyspace) text += `# Keyspace\r\n${keys > 0 ? `db0:keys=${keys},expires=${expires},avg_ttl=0\r\n` : ''}`;
      this.respond(p, bulk(text));
    };
    if (!wantKeyspace || masters.length === 0) return finish(0, 0);
    let waiting = masters.length;
    let keys = 0;
    let expires = 0;
    const raw = encodeCommand(['INFO', 'keyspace']);
    for (const addr of masters) {
      this.forward(addr, raw, 0, (reply) => {
        const m = /db0:keys=(\d+),expires=(\d+)/.exec(reply.latin1Slice(0, reply.length));
        if (m) {
          keys += Number(m[1]);
          expires += Number(m[2]);
        }
        if (--waiting === 0) finish(keys, expires);
      });
    }
  }
}

function bulk(s: string): Buffer {
  return Buffer.from(`$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`, 'latin1');
}
