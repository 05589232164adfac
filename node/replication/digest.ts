// DEBUG DIGEST: a 40-hex-char fingerprint of the whole dataset (keys, types, values, TTLs, dbs),
// equal for equal datasets whatever their insertion order or encoding. Empty dataset = 40 zeros.
import { createHash } from 'node:crypto';
import type { Db } from '../keyspace/db.js';
import { HashValue } from '../keyspace/types/hash-value.js';
import { ListValue } from '../keyspace/types/list-value.js';
import { SetValue } from '../keyspace/types/set-value.js';
import { StreamValue } from '../keyspace/types/stream.js';
import type { StoredValue } from '../keyspace/types/value.js';

export function datasetDigest(dbs: readonly Db[], now: number): string {
  const acc = Buffer.alloc(20);
  let any = false;
  for (const db of dbs) {
    for (const [key, entry] of db.dict) {
      // Logically expired keys are absent (a replica keeps them until the master's DEL).
      if (entry.expireAt !== 0 && entry.expireAt <= now) continue;
      any = true;
      const h = createHash('sha1');
      h.update(`${db.id}\0`, 'latin1');
      h.update(key, 'latin1');
      h.update(`\0${entry.expireAt}\0`, 'latin1');
      hashValue(h, entry.value);
      const d = h.digest();
      // XOR makes the result independent of key order.
      for (let i = 0; i < 20; i++) acc[i]! ^= d[i]!;
    }
  }
  return any ? acc.toString('hex') : '0'.repeat(40);
}

function hashValue(h: ReturnType<typeof createHash>, value: StoredValue): void {
  const put = (s: string) => {
    h.update(`${s.length}:`, 'latin1');
    h.update(s, 'latin1');
  };
  if (typeof value === 'string') {
    h.update('string\0');
    return put(value);
  }
  if (value instanceof ListValue) {
    h.update('list\0');
    for (const item of value) put(item);
    return;
  }
  if (value instanceof SetValue) {
    h.update('set\0');
    for (const m of value.toArray().sort()) put(m);
    return;
  }
  if (value instanceof HashValue) {
    h.update('hash\0');
    const pairs = [...value].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [f, v] of pairs) {
      put(f);
      put(v);
    }
    return;
  }
  if (value instanceof StreamValue) {
    h.update(`stream\0${value.lastId.ms}-${value.lastId.seq}\0`);
    for (const e of value.range({ ms: 0n, seq: 0n }, value.lastId, 0)) {
      put(`${e.ms}-${e.seq}`);
      for (const f of e.fields) put(f);
    }
    return;
  }
  h.update('zset\0');
  for (const { member, score } of value.rangeByRank(0, -1)) {
    put(member);
    put(String(score));
  }
}
