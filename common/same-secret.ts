// Password checks (node AUTH, proxy AUTH): by SHA-256 digest in constant time, so the time taken
// says nothing about how much of a guess was right (as Redis's ACL compares). UTF-8 keeps string
// equality exact (latin1 would fold characters past U+00FF together).
import { createHash, timingSafeEqual } from 'node:crypto';

export function sameSecret(given: string, secret: string): boolean {
  return timingSafeEqual(createHash('sha256').update(given, 'utf8').digest(), createHash('sha256').update(secret, 'utf8').digest());
}
