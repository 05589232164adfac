// Differential fuzz of the node: seeded random command sequences (test/helpers/command-fuzz.ts)
// run on our node and on redis-server, and every reply must be the same. It is what found the
// wrong order of checks in SET, GETEX, INCRBYFLOAT and LCS (diff-strings.test.ts pins those).
import { describe, expect, it } from 'vitest';
import { commandGenerators, fuzzSequences } from '../../helpers/command-fuzz.js';
import { plain, usePair } from '../../helpers/differential.js';

describe('random command sequences get the same replies as redis-server', () => {
  const p = usePair();
  const SEQUENCES = 400;
  const LENGTH = 25;

  it(`${SEQUENCES} sequences of ${LENGTH} commands, fixed seeds`, async () => {
    const run = await fuzzSequences({
      gens: commandGenerators(['a', 'b', 'c', '{t}x', '{t}y']),
      sequences: SEQUENCES,
      length: LENGTH,
      reset: async () => {
        await p.both('DISCARD'); // a MULTI left open by the last sequence
        await p.both('UNWATCH'); // and its WATCHes
        await p.both('FLUSHALL');
      },
      both: async (cmd) => (await p.both(...cmd)).map(plain) as [unknown, unknown],
    });
    expect(run.compared).toBe(SEQUENCES * LENGTH);
  }, 120_000);
});
