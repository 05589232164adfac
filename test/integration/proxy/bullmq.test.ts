// bullmq, unchanged, through the proxy against a 2-group cluster: its Lua scripts (addJob,
// moveToActive, moveToFinished, retry/backoff, delayed promotion) run on the master owning the
// queue's `{prefix}` slot, its workers block in BZPOPMIN on a proxy blocking link, and its event
// stream is an XADD … MAXLEN ~ that QueueEvents follows with XREAD BLOCK. A queue of 1,000 jobs (some failing twice before succeeding, some
// delayed) is processed by a concurrent worker: every job completes exactly once with its result.
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../../common/slots.js';
import { type Cluster, startCluster } from '../../helpers/cluster.js';
import { plain } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/wait-for.js';

const JOBS = 1000;
const DELAY_MS = 400;
const isFlaky = (i: number) => i % 50 === 7; // fails on attempts 1 and 2, succeeds on 3
const isDelayed = (i: number) => i % 100 === 3;

/** A `{tag}` whose slot lies on group g (slots split evenly: 0-511, 512-1023). */
function prefixOnGroup(g: number): string {
  for (let i = 0; ; i++) if ((slotOf(`{bq${i}}`) < 512 ? 0 : 1) === g) return `{bq${i}}`;
}

interface JobData {
  i: number;
  addedAt: number;
}

let cluster: Cluster;
const masters: RawClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ groups: 2, replicas: 0, proxies: 1, store: 'file' });
  for (const g of cluster.groups) masters.push(await RawClient.connect(g.port));
});

afterAll(async () => {
  for (const c of masters) c.close();
  await cluster?.stop();
});

describe('bullmq through the proxy', () => {
  it('1,000 jobs: each completes once with its result; retries with backoff; delayed jobs wait; counts add up', async () => {
    const connection = { host: '127.0.0.1', port: cluster.proxies[0]!.port, maxRetriesPerRequest: null };
    const group = 1;
    const prefix = prefixOnGroup(group);
    const queue = new Queue<JobData>('jobs', { connection, prefix });
    const runs = new Map<string, number>();
    const results = new Map<string, unknown>();
    const failures: string[] = [];
    const errors: Error[] = [];
    const events = new QueueEvents('jobs', { connection, prefix });
    const completedEvents = new Set<string>();
    events.on('completed', ({ jobId }) => completedEvents.add(jobId));
    await events.waitUntilReady();
    const worker = new Worker<JobData>(
      'jobs',
      async (job: Job<JobData>) => {
        runs.set(job.id!, (runs.get(job.id!) ?? 0) + 1);
        if (isFlaky(job.data.i) && job.attemptsMade < 2) throw new Error(`flaky attempt ${job.attemptsMade + 1}`);
        return { double: job.data.i * 2, waitedMs: Date.now() - job.data.addedAt };
      },
      { connection, prefix, concurrency: 16 },
    );
    worker.on('completed', (job, result) => results.set(job.id!, result));
    worker.on('failed', (job) => failures.push(job!.id!));
    worker.on('error', (err) => errors.push(err));
    try {
      const addedAt = Date.now();
      await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({
        name: 'double',
        data: { i, addedAt },
        opts: { jobId: `job-${i}`, attempts: 3, backoff: { type: 'fixed', delay: 50 }, ...(isDelayed(i) ? { delay: DELAY_MS } : {}) },
      })));
      await waitFor(() => results.size === JOBS, { timeoutMs: 90_000, intervalMs: 100, what: `all ${JOBS} jobs to complete (${results.size} so far)` });
      // The events stream (XADD on the master, XREAD BLOCK through the proxy) told of every completion.
      await waitFor(() => completedEvents.size === JOBS, { timeoutMs: 30_000, what: `completed events (${completedEvents.size})` });

      expect(errors).toEqual([]);
      for (let i = 0; i < JOBS; i++) {
        const id = `job-${i}`;
        const result = results.get(id) as { double: number; waitedMs: number };
        expect(result.double, id).toBe(i * 2);
        // Exactly once per attempt: flaky jobs ran three times, the rest once.
        expect(runs.get(id), id).toBe(isFlaky(i) ? 3 : 1);
        if (isDelayed(i)) expect(result.waitedMs, id).toBeGreaterThanOrEqual(DELAY_MS);
      }
      const flaky = Array.from({ length: JOBS }, (_, i) => i).filter(isFlaky);
      expect(failures.length).toBe(flaky.length * 2);
      expect(await queue.getJobCounts('completed', 'failed', 'delayed', 'wait', 'active')).toEqual({
        completed: JOBS, failed: 0, delayed: 0, wait: 0, active: 0,
      });
      const retried = await queue.getJob(`job-${flaky[0]}`);
      expect(retried?.attemptsMade).toBe(3);
      expect(retried?.returnvalue).toEqual(results.get(`job-${flaky[0]}`));

      // Every queue key lives on the master owning the prefix's slot, none on the other.
      const keys = (m: RawClient) => m.call('KEYS', `${prefix}:jobs:*`) as Promise<string[]>;
      expect((await keys(masters[group]!)).length).toBeGreaterThan(JOBS);
      expect(await keys(masters[1 - group]!)).toEqual([]);
      expect(plain(await masters[group]!.call('TYPE', `${prefix}:jobs:events`))).toBe('+stream');
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  }, 120_000);
});
