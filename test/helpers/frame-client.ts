// A RESP client that returns each reply frame as its raw bytes (latin1), so tests can tell RESP3
// push frames (">") from arrays ("*"), and a pair of them (ours, redis) for byte-exact comparisons.
import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';
import { encodeCommand } from '../../common/resp/encode.js';
import { decodeReply } from '../../common/resp/reply-decoder.js';

export class FrameClient {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.wake?.();
    });
    socket.on('close', () => this.wake?.());
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<FrameClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new FrameClient(socket);
  }

  send(...args: Array<string | number>): void {
    this.socket.write(encodeCommand(args));
  }

  /** The next n complete reply frames (raw), waiting up to timeoutMs for them. */
  async frames(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out: string[] = [];
      let pos = 0;
      while (out.length < n) {
        const r = decodeReply(this.buf, pos);
        if (!r) break;
        out.push(this.buf.toString('latin1', pos, r[1]));
        pos = r[1];
      }
      if (out.length === n) {
        this.buf = this.buf.subarray(pos);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.destroyed) throw new Error(`expected ${n} frames, have ${out.length}: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  /** Bytes received and not yet consumed as frames. */
  get pending(): string {
    return this.buf.toString('latin1');
  }

  /** Sends a command and returns its n reply frames joined. */
  async call(n: number, ...args: Array<string | number>): Promise<string> {
    this.send(...args);
    return (await this.frames(n)).join('');
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One connection to our node and one to redis-server, driven in lockstep. */
export class FrameDuo {
  private constructor(
    readonly ours: FrameClient,
    readonly redis: FrameClient,
  ) {}

  static async open(oursPort: number, redisPort: number): Promise<FrameDuo> {
    const [ours, redis] = await Promise.all([FrameClient.connect(oursPort), FrameClient.connect(redisPort)]);
    return new FrameDuo(ours, redis);
  }

  /** Sends to both and expects the same `frames` reply frames, byte for byte; returns ours. */
  async same(frames: number, ...args: Array<string | number>): Promise<string> {
    this.ours.send(...args);
    this.redis.send(...args);
    return this.sameFrames(frames, JSON.stringify(args));
  }

  /** Reads the next n frames on both (pushed messages) and expects them identical. */
  async sameFrames(n: number, what = 'pushed frames'): Promise<string> {
    const [a, b] = await Promise.all([this.ours.frames(n), this.redis.frames(n)]);
    expect(a.join(''), what).toBe(b.join(''));
    return a.join('');
  }

  /** Like sameFrames() for frames Redis sends in hash-table order (pmessages of several patterns). */
  async sameFramesUnordered(n: number, what = 'pushed frames'): Promise<void> {
    const [a, b] = await Promise.all([this.ours.frames(n), this.redis.frames(n)]);
    expect([...a].sort(), what).toEqual([...b].sort());
  }

  /**
   * Like same() for (un)subscribe confirmations in Redis's hash-table order (UNSUBSCRIBE of all):
   * frame types, kinds and counts must match in order, channel names as a set.
   */
  async sameUnordered(frames: number, ...args: Array<string | number>): Promise<void> {
    this.ours.send(...args);
    this.redis.send(...args);
    const [a, b] = await Promise.all([this.ours.frames(frames), this.redis.frames(frames)]);
    const shape = (fs: string[]) => fs.map((f) => {
      const [kind, , count] = decodeReply(Buffer.from(f, 'latin1'))![0] as [string, string, number];
      return `${f[0]} ${kind} ${count}`;
    });
    const names = (fs: string[]) => fs.map((f) => (decodeReply(Buffer.from(f, 'latin1'))![0] as string[])[1]).sort();
    expect(shape(a), JSON.stringify(args)).toEqual(shape(b));
    expect(names(a), JSON.stringify(args)).toEqual(names(b));
  }

  /** Sends to both, ignoring the replies' content (one frame each): setup such as HELLO 3. */
  async both(...args: Array<string | number>): Promise<void> {
    this.ours.send(...args);
    this.redis.send(...args);
    await Promise.all([this.ours.frames(1), this.redis.frames(1)]);
  }

  close(): void {
    this.ours.close();
    this.redis.close();
  }
}
