// Bearer-token checks shared by the HTTP APIs (the proxy's admin API, the coordinator's API).
// Tokens are compared by SHA-256 digest in constant time: equal lengths for timingSafeEqual, and
// no early exit on the first wrong byte.
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** 'missing': no `Authorization: Bearer …` header; 'invalid': a bearer token that is not `want`. */
export type BearerVerdict = 'ok' | 'missing' | 'invalid';

/** Checks an Authorization header against the digest of the expected token. */
export function checkBearer(header: string | undefined, want: Buffer): BearerVerdict {
  if (header === undefined || !/^Bearer /i.test(header)) return 'missing';
  return timingSafeEqual(tokenDigest(header.slice(7).trim()), want) ? 'ok' : 'invalid';
}
