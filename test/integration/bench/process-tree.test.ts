// The bench sums a proxy's CPU over its worker processes: childPids must find a process's children.
import { afterAll, describe, expect, it } from 'vitest';
import { childPids } from '../../../bench/process-tree.js';
import { spawnManaged, stopAll } from '../../../bench/processes.js';
import { waitFor } from '../../helpers/wait-for.js';

afterAll(async () => {
  await stopAll();
});

describe('childPids', () => {
  it('lists the children of a process that forked two, and none of a process without children', async () => {
    const parent = spawnManaged('sh', ['-c', 'sleep 30 & sleep 30 & wait']);
    let children: number[] = [];
    try {
      await waitFor(() => childPids(parent.pid).length === 2, { timeoutMs: 5000, what: 'two children' });
      children = childPids(parent.pid);
      for (const pid of children) expect(childPids(pid)).toEqual([]);
      expect(children).not.toContain(parent.pid);
    } finally {
      // sh does not pass SIGTERM on to its children: end them first.
      for (const pid of children.length > 0 ? children : childPids(parent.pid)) process.kill(pid, 'SIGTERM');
      await parent.stop();
    }
  });
});
