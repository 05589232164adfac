// The union of values a key can hold, plus TYPE and OBJECT ENCODING names for each.

import { parseInt64 } from './canonical-int.js';
import { HashValue } from './hash-value.js';
import { ListValue } from './list-value.js';
import { SetValue } from './set-value.js';
import { StreamValue } from './stream.js';
import { ZSetValue } from './zset-value.js';

/** A string value is a latin1 JS string; containers are classes. */
export type StoredValue = string | ListValue | HashValue | SetValue | ZSetValue | StreamValue;

export type TypeName = 'string' | 'list' | 'hash' | 'set' | 'zset' | 'stream';

/** TYPE's answer for a value. */
export function typeNameOf(value: StoredValue): TypeName {
  if (typeof value === 'string') return 'string';
  if (value instanceof ListValue) return 'list';
  if (value instanceof HashValue) return 'hash';
  if (value instanceof SetValue) return 'set';
  if (value instanceof StreamValue) return 'stream';
  return 'zset';
}

/** Redis's embstr limit: strings up to 44 bytes are allocated with their object header. */
const EMBSTR_MAX_LENGTH = 44;

/**
 * OBJECT ENCODING for a freshly written string, following tryObjectEncoding: integers that fit
 * a long → "int", short → "embstr", else "raw". (APPEND/SETRANGE results are "raw": caller's job.)
 */
export function stringEncodingOf(value: string): 'int' | 'embstr' | 'raw' {
  if (value.length <= 20 && parseInt64(value) !== null) return 'int';
  return value.length <= EMBSTR_MAX_LENGTH ? 'embstr' : 'raw';
}

/** OBJECT ENCODING for any value. */
export function encodingOf(value: StoredValue): string {
  return typeof value === 'string' ? stringEncodingOf(value) : value.encoding();
}
