// Versions the node reports: the Redis version it is compatible with (INFO redis_version, HELLO)
// and Tessera's own.
export const VERSION = '7.0.15';
export const TESSERA_VERSION = '0.1.0';
