// SCAN cursors are parsed like Redis's strtoul-based parseScanCursorOrReply (checked against redis-server 7.0).
import { describe, expect, it } from 'vitest';
import { parseScanCursor } from '../../../node/handlers/scan-args.js';

describe('parseScanCursor', () => {
  it.each([
    ['', 0], ['0', 0], ['17', 17], ['+5', 5], ['-1', 2 ** 64 - 1], ['18446744073709551615', 2 ** 64 - 1],
  ])('accepts %j', (text, value) => {
    expect(parseScanCursor(text)).toBe(value);
  });

  it.each(['+', '-', ' 1', '1 ', 'abc', '1.5', '18446744073709551616'])('refuses %j', (text) => {
    expect(parseScanCursor(text)).toBeNull();
  });
});
