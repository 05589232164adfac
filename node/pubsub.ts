// Pub/sub registry: channel, pattern and shard-channel subscribers, and message delivery. A
// message is written into each subscriber's reply buffer; subscribers are flushed once after the
// publisher's current batch of commands, so a pipeline of PUBLISHes costs one write per subscriber.
import { globMatch } from '../common/glob.js';
import type { Session } from './session.js';

export class PubSub {
  readonly channels = new Map<string, Set<Session>>();
  readonly patterns = new Map<string, Set<Session>>();
  readonly shardChannels = new Map<string, Set<Session>>();
  private readonly unflushed = new Set<Session>();

  subscribe(s: Session, channel: string): boolean {
    return add(this.channels, s.channels, s, channel);
  }

  unsubscribe(s: Session, channel: string): boolean {
    return remove(this.channels, s.channels, s, channel);
  }

  psubscribe(s: Session, pattern: string): boolean {
    return add(this.patterns, s.patterns, s, pattern);
  }

  punsubscribe(s: Session, pattern: string): boolean {
    return remove(this.patterns, s.patterns, s, pattern);
  }

  ssubscribe(s: Session, channel: string): boolean {
    return add(this.shardChannels, s.shardChannels, s, channel);
  }

  sunsubscribe(s: Session, channel: string): boolean {
    return remove(this.shardChannels, s.shardChannels, s, channel);
  }

  unsubscribeAll(s: Session): void {
    for (const c of [...s.channels]) this.unsubscribe(s, c);
    for (const p of [...s.patterns]) this.punsubscribe(s, p);
    for (const c of [...s.shardChannels]) this.sunsubscribe(s, c);
  }

  /** Delivers to channel and pattern subscribers; returns the number of receivers. */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const s of subs) {
        s.w.push(3);
        s.w.bulk('message');
        s.w.bulk(channel);
        s.w.bulk(message);
        this.flushSoon(s);
        receivers++;
      }
    }
    for (const [pattern, psubs] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      for (const s of psubs) {
        s.w.push(4);
        s.w.bulk('pmessage');
        s.w.bulk(pattern);
        s.w.bulk(channel);
        s.w.bulk(message);
        this.flushSoon(s);
        receivers++;
      }
    }
    return receivers;
  }

  /** Delivers to shard-channel subscribers (SPUBLISH). */
  spublish(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (!subs) return 0;
    for (const s of subs) {
      s.w.push(3);
      s.w.bulk('smessage');
      s.w.bulk(channel);
      s.w.bulk(message);
      this.flushSoon(s);
    }
    return subs.size;
  }

  /**
   * Flushes a subscriber after the running batch (a microtask), never mid-command: the publisher
   * may be the subscriber itself, and its reply buffer must not be cut inside a reply.
   */
  private flushSoon(s: Session): void {
    if (this.unflushed.size === 0) queueMicrotask(() => this.flushAll());
    this.unflushed.add(s);
  }

  private flushAll(): void {
    try {
      for (const s of this.unflushed) s.flush();
    } finally {
      this.unflushed.clear();
    }
  }
}

function add(registry: Map<string, Set<Session>>, own: Set<string>, s: Session, name: string): boolean {
  if (own.has(name)) return false;
  own.add(name);
  let set = registry.get(name);
  if (!set) registry.set(name, (set = new Set()));
  set.add(s);
  return true;
}

function remove(registry: Map<string, Set<Session>>, own: Set<string>, s: Session, name: string): boolean {
  if (!own.delete(name)) return false;
  const set = registry.get(name);
  set?.delete(s);
  if (set && set.size === 0) registry.delete(name);
  return true;
}
