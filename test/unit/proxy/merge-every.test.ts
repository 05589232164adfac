// mergeEvery, the proxy's merge for commands every master must run alike (SCRIPT LOAD/EXISTS/FLUSH).
import { describe, expect, it } from 'vitest';
import { mergeEvery } from '../../../proxy/merge.js';

const f = (s: string) => Buffer.from(s, 'latin1');

describe('mergeEvery', () => {
  it('ANDs SCRIPT EXISTS arrays position by position', () => {
    expect(mergeEvery([f('*3\r\n:1\r\n:1\r\n:0\r\n'), f('*3\r\n:1\r\n:0\r\n:0\r\n')]).latin1Slice()).toBe('*3\r\n:1\r\n:0\r\n:0\r\n');
    expect(mergeEvery([f('*0\r\n'), f('*0\r\n')]).latin1Slice()).toBe('*0\r\n');
  });

  it('answers the first error, else the first reply (the same on every master)', () => {
    const sha = f('$40\r\n2bab3b661081db58bd2341920e0ba7cf5dc77b25\r\n');
    expect(mergeEvery([sha, sha]).latin1Slice()).toBe(sha.latin1Slice());
    expect(mergeEvery([f('+OK\r\n'), f('-ERR boom\r\n'), f('-ERR second\r\n')]).latin1Slice()).toBe('-ERR boom\r\n');
  });

  it('refuses arrays of different lengths', () => {
    expect(mergeEvery([f('*1\r\n:1\r\n'), f('*2\r\n:1\r\n:1\r\n')]).latin1Slice()).toBe('-ERR unexpected reply from backend\r\n');
  });
});
