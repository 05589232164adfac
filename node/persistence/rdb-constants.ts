// RDB format numbers (Redis 7.0, rdb.h). Append-only: values persisted on disk never change.

/** RDB version Redis 7.0 writes and the highest it loads. */
export const RDB_VERSION = 10;

/** Object type bytes. */
export const RDB_TYPE = Object.freeze({
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  STREAM_LISTPACKS_3: 21,
} as const);

/** Opcodes that may appear where an object type byte is expected in an RDB file. */
export const RDB_OPCODE = Object.freeze({
  FUNCTION2: 245,
  FUNCTION: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const);

/** Length-encoding markers (two top bits of the first byte, or a whole byte for 32/64-bit). */
export const RDB_6BITLEN = 0;
export const RDB_14BITLEN = 1;
export const RDB_32BITLEN = 0x80;
export const RDB_64BITLEN = 0x81;
export const RDB_ENCVAL = 3;

/** Special string encodings after an RDB_ENCVAL marker. */
export const RDB_ENC_INT8 = 0;
export const RDB_ENC_INT16 = 1;
export const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;

/** Quicklist node containers in LIST_QUICKLIST_2. */
export const QUICKLIST_NODE_CONTAINER_PLAIN = 1;
export const QUICKLIST_NODE_CONTAINER_PACKED = 2;

/** Thrown by the reader for any malformed input; RESTORE maps it to "Bad data format". */
export class RdbFormatError extends Error {
  override name = 'RdbFormatError';
}
