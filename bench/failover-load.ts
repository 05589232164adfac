// The failover scenario's write load through the proxy: connections writing unique keys of one
// group's slots, one SET at a time each, some of them following every SET with `WAIT 1 <ms>`.
// Records what was acknowledged (and when it was sent and answered) and every failure, then
// checks which acknowledged keys the cluster still has. A request gets at most REQUEST_TIMEOUT_MS.
import { slotOf } from '../common/slots.js';
import { RespClient } from './resp-client.js';
import { ReplyError } from './resp-reply.js';

// The proxy fails a request within its backend-timeout (5 s by default); this only guards the harness.
const REQUEST_TIMEOUT_MS = 10_000;
// A worker whose request failed waits this long before the next one (a failed request is
// answered at once while the master is down: without a pause it would spin on errors).
const ERROR_PAUSE_MS = 5;
const GET_BATCH = 500;

export interface WriteLoadOptions {
  /** Group whose slots the keys hash to: 1 (slots 0-511) or 2 (512-1023), as the even split puts them. */
  group: 1 | 2;
  prefix: string;
  /** Connections sending SET only, and connections sending SET then WAIT 1 <waitTimeoutMs>. */
  plainWorkers: number;
  waitWorkers: number;
  waitTimeoutMs: number;
}

export interface WriteLoad {
  /** Keys whose SET was answered OK (plain and WAIT workers), when sent and when answered. */
  readonly acked: string[];
  readonly ackedSentAt: number[];
  readonly ackedAt: number[];
  /** Keys whose SET was OK and whose WAIT 1 then answered ≥ 1. */
  readonly waitAcked: string[];
  /** Time of every failed request (SET or WAIT). */
  readonly errorsAt: number[];
  readonly errorSamples: string[];
  /** First OK of a SET sent at or after `t`, or null. */
  firstOkSentAfter(t: number): number | null;
  stop(): Promise<void>;
}

/** The n-th candidate key of `prefix` whose slot is in `group`'s half of the table. */
export function keyInGroup(group: 1 | 2, prefix: string, n: number): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${n}:${i}`;
    if ((slotOf(k) < 512) === (group === 1)) return k;
  }
}

/** One request with the harness's timeout; error replies reject. */
async function call(c: RespClient, args: readonly string[]): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply to ${args[0]} within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  });
  try {
    const reply = await Promise.race([c.send(args), timeout]);
    if (reply instanceof ReplyError) throw new Error(reply.message);
    return reply;
  } finally {
    clearTimeout(timer);
  }
}

export function startWriteLoad(port: number, opts: WriteLoadOptions): WriteLoad {
  const acked: string[] = [];
  const ackedSentAt: number[] = [];
  const ackedAt: number[] = [];
  const waitAcked: string[] = [];
  const errorsAt: number[] = [];
  const errorSamples: string[] = [];
  let stopped = false;
  let n = 0;
  const failed = (err: unknown) => {
    errorsAt.push(Date.now());
    if (errorSamples.length < 5) errorSamples.push((err as Error).message);
  };
  const worker = async (withWait: boolean): Promise<void> => {
    let c: RespClient | null = null;
    while (!stopped) {
      try {
        c ??= await RespClient.connect(port);
        const key = keyInGroup(opts.group, opts.prefix, n++);
        const sentAt = Date.now();
        await call(c, ['SET', key, key]);
        acked.push(key);
        ackedSentAt.push(sentAt);
        ackedAt.push(Date.now());
        if (withWait && Number(await call(c, ['WAIT', '1', String(opts.waitTimeoutMs)])) >= 1) waitAcked.push(key);
      } catch (err) {
        failed(err);
        // A timed-out request leaves its reply in flight: that connection is dropped.
        if (c !== null && /no reply|closed/.test((err as Error).message)) {
          c.close();
          c = null;
        }
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
    c?.close();
  };
  const loops = [
    ...Array.from({ length: opts.plainWorkers }, () => worker(false)),
    ...Array.from({ length: opts.waitWorkers }, () => worker(true)),
  ];
  return {
    acked, ackedSentAt, ackedAt, waitAcked, errorsAt, errorSamples,
    firstOkSentAfter(t) {
      let best: number | null = null;
      for (let i = 0; i < ackedAt.length; i++) if (ackedSentAt[i]! >= t && (best === null || ackedAt[i]! < best)) best = ackedAt[i]!;
      return best;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * The keys (whose value is the key itself) that GET through `port` does not return, and those it
 * could not check: a batch whose GETs fail (the group still down) is tried again until `deadlineMs`.
 */
export async function missingKeys(port: number, keys: readonly string[], deadlineMs = 20_000): Promise<{ missing: string[]; unchecked: string[] }> {
  const deadline = Date.now() + deadlineMs;
  const missing: string[] = [];
  const unchecked: string[] = [];
  let c: RespClient | null = null;
  try {
    for (let i = 0; i < keys.length; i += GET_BATCH) {
      const batch = keys.slice(i, i + GET_BATCH);
      for (;;) {
        try {
          c ??= await RespClient.connect(port);
          const conn: RespClient = c;
          const values = await Promise.all(batch.map((k) => call(conn, ['GET', k])));
          values.forEach((v, j) => {
            if (v !== batch[j]) missing.push(batch[j]!);
          });
          break;
        } catch {
          c?.close();
          c = null;
          if (Date.now() > deadline) {
            unchecked.push(...batch);
            break;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
    return { missing, unchecked };
  } finally {
    c?.close();
  }
}
