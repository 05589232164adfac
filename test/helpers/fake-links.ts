// A fake of the backend links below the proxy's forwarder, for its unit tests: every request sent
// is recorded (address, bytes, callback) in order, and the test answers them one by one.
import type { ReplyCallback } from '../../proxy/backend/connection.js';
import type { Link } from '../../proxy/forwarder.js';

export interface Sent { addr: string; raw: string; cb: ReplyCallback }

export const TRYAGAIN_REPLY = '-TRYAGAIN Multiple keys request during rehashing of slot\r\n';

export class FakeLinks {
  readonly sent: Sent[] = [];

  link(addr: string): Link {
    return { send: (raw, cb) => void this.sent.push({ addr, raw: raw.toString('latin1'), cb }) };
  }

  /** What is on the wire now, oldest first: "SET k v", or "addr: SET k v" with `withAddr`. */
  wire(withAddr = false): string[] {
    return this.sent.map((s) => {
      const words = s.raw.split('\r\n').filter((_, i) => i % 2 === 0 && i > 0).join(' ');
      return withAddr ? `${s.addr}: ${words}` : words;
    });
  }

  /** Answers the oldest unanswered request; returns its bytes. */
  answer(reply: string): string {
    const s = this.sent.shift();
    if (!s) throw new Error('nothing sent');
    s.cb(Buffer.from(reply, 'latin1'), null);
    return s.raw;
  }

  /**
   * Answers the oldest unanswered request to `addr` (fails it with `error` when `reply` is null);
   * `skipAsking`: ASKING requests are passed over (they are answered with their request).
   */
  answerTo(addr: string, reply: string | null, error: string | null = null, skipAsking = false): Sent {
    const i = this.sent.findIndex((s) => s.addr === addr && !(skipAsking && s.raw.includes('ASKING')));
    if (i < 0) throw new Error(`nothing sent to ${addr}`);
    const [s] = this.sent.splice(i, 1);
    s!.cb(reply === null ? null : Buffer.from(reply, 'latin1'), error);
    return s!;
  }
}
