// Deep copies of stored values (COPY): the copy keeps the source's encoding and iteration order and
// shares no mutable structure with it. Strings are immutable JS strings, so they are shared.
import { HashValue } from './types/hash-value.js';
import { ListValue } from './types/list-value.js';
import { SetValue } from './types/set-value.js';
import { StreamValue } from './types/stream.js';
import type { StoredValue } from './types/value.js';
import { ZSetValue } from './types/zset-value.js';

export function cloneValue(value: StoredValue): StoredValue {
  if (typeof value === 'string') return value;
  if (value instanceof ListValue) return ListValue.from(value.toArray());
  if (value instanceof HashValue) return cloneHash(value);
  if (value instanceof SetValue) return cloneSet(value);
  if (value instanceof StreamValue) return value.clone();
  return cloneZSet(value);
}

function cloneHash(src: HashValue): HashValue {
  const copy = new HashValue();
  // Choose the encoding first and fill the map directly: the copy must not re-decide it.
  if (src.encoding() === 'hashtable') copy.convertToHashtable();
  const { keys, vals } = src.map;
  for (let i = 0; i < keys.length; i++) copy.map.set(keys[i]!, vals[i]!);
  return copy;
}

function cloneSet(src: SetValue): SetValue {
  const copy = new SetValue();
  if (src.encoding() === 'hashtable') copy.convertToHashtable();
  const keys = src.members.keys;
  for (let i = 0; i < keys.length; i++) copy.members.add(keys[i]!);
  return copy;
}

function cloneZSet(src: ZSetValue): ZSetValue {
  const copy = new ZSetValue();
  if (src.encoding() === 'skiplist') copy.convertToSkiplist();
  const { keys, vals } = src.scores;
  for (let i = 0; i < keys.length; i++) copy.set(keys[i]!, vals[i]!);
  return copy;
}
