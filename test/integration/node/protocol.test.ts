// Protocol robustness of a real node over raw sockets: broken RESP closes only the offending
// connection with Redis's exact error, huge declared lengths allocate nothing, limits hold, big
// pipelines keep order, and data is binary-safe. Garbage is replayed against redis-server too.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../common/resp/encode.js';
import { INCOMPLETE, scanFrame } from '../../../common/resp/frame-scanner.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, startRedis, stopAll } from '../../helpers/servers.js';
import { waitFor } from '../../helpers/wait-for.js';

/** A socket that records every byte received and whether the server closed it. */
class Tap {
  private chunks: Buffer[] = [];
  closed = false;
  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => this.chunks.push(c));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }
  static async open(port: number): Promise<Tap> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Tap(socket);
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('latin1');
  }
  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.closed, { timeoutMs, what: 'server to close the connection' });
  }
  async waitText(suffix: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.text.endsWith(suffix) || this.closed, { timeoutMs, what: `reply ending in ${JSON.stringify(suffix)}` });
    if (!this.text.endsWith(suffix)) throw new Error(`connection closed after ${JSON.stringify(this.text)}`);
  }
  /** Number of complete reply frames received so far. */
  frames(): number {
    const buf = this.bytes;
    let pos = 0;
    let n = 0;
    for (;;) {
      const end = pos < buf.length ? scanFrame(buf, pos) : INCOMPLETE;
      if (end === INCOMPLETE) return n;
      pos = end;
      n++;
    }
  }
  close(): void {
    this.socket.destroy();
  }
}

/** Sends input, waits for the server to close, returns all it replied. */
async function replyThenClose(port: number, input: string | Buffer): Promise<string> {
  const t = await Tap.open(port);
  try {
    t.send(input);
    await t.waitClosed();
    return t.text;
  } finally {
    t.close();
  }
}

const END = encodeCommand(['ECHO', 'END']);
const END_REPLY = '$3\r\nEND\r\n';

/** Sends input then ECHO END on a connection that must stay open; returns the replies before END. */
async function repliesStayingOpen(port: number, input: string | Buffer): Promise<string> {
  const t = await Tap.open(port);
  try {
    t.send(Buffer.concat([typeof input === 'string' ? Buffer.from(input, 'latin1') : input, END]));
    await t.waitText(END_REPLY);
    return t.text.slice(0, -END_REPLY.length);
  } finally {
    t.close();
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

let node: ServerHandle;
let redis: ServerHandle;
let authNode: ServerHandle;
let authRedis: ServerHandle;
let limitedNode: ServerHandle;
let smallBulkNode: ServerHandle;

beforeAll(async () => {
  [node, redis, authNode, authRedis, limitedNode, smallBulkNode] = await Promise.all([
    startNode(), startRedis(),
    startNode(['--requirepass', 'secret']), startRedis(['--requirepass', 'secret']),
    startNode(['--client-query-buffer-limit', '1mb']), startNode(['--proto-max-bulk-len', '1mb']),
  ]);
});

afterAll(async () => {
  await stopAll(node, redis, authNode, authRedis, limitedNode, smallBulkNode);
});

// Inputs after which Redis replies with a protocol error and closes the connection.
const CLOSING_INPUTS: Array<[string, string]> = [
  ['missing $', '*1\r\nx\r\n'],
  ['CRLF instead of $ (error text sanitised)', '*1\r\n\r\n'],
  ['non-numeric count', '*abc\r\n'],
  ['count below int64', '*-9999999999999999999\r\n'],
  ['count beyond INT_MAX', '*3000000000\r\n'],
  ['huge count', '*99999999999\r\n'],
  ['negative bulk length', '*1\r\n$-1\r\n'],
  ['non-numeric bulk length', '*1\r\n$abc\r\n'],
  ['-0 bulk length', '*2\r\n$4\r\nECHO\r\n$-0\r\n'],
  ['bulk beyond proto-max-bulk-len', '*1\r\n$600000000\r\n'],
  ['unbalanced quotes', '"a\r\n'],
  ['closing quote followed by a letter', 'ECHO "a"b\r\n'],
  ['good command then garbage', 'PING\r\n*1x\r\n'],
  ['lone CR ends the count line', '*1\rx\r\n$4\r\nPING\r\n'],
  ['inline request of 64 KB + 1 without newline', 'a'.repeat(64 * 1024 + 1)],
  ['count line of 64 KB + 2 without CR', `*${'1'.repeat(64 * 1024 + 1)}`],
];

// Inputs Redis accepts (quirks included); the connection stays open.
const OPEN_INPUTS: Array<[string, string]> = [
  ['inline \\v inside a token', 'ECHO a\x0bb\r\n'],
  ['inline escapes', 'ECHO "a\\x41\\n" \'b\\\'c\'\r\n'],
  ['*0 and *-1 skipped', '*0\r\n*-1\r\nPING\r\n'],
  ['int64 minimum count', '*-9223372036854775808\r\nPING\r\n'],
  ['blank lines', '\r\n\n  \r\nPING\r\n'],
  ['unchecked bulk terminator', '*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n'],
  ['length line ends at first CR', '*1\r\n$4\rx\r\nPING\r\n'],
  ['unknown command with binary args', '*3\r\n$3\r\nFOO\r\n$2\r\n\x00\xff\r\n$3\r\na\r\n\r\n'],
];

describe('broken RESP: same bytes as redis-server', () => {
  for (const [name, input] of CLOSING_INPUTS) {
    it(`${name}: error reply then close`, async () => {
      const [ours, theirs] = await Promise.all([replyThenClose(node.port, input), replyThenClose(redis.port, input)]);
      expect(ours).toBe(theirs);
      expect(ours).toMatch(/-ERR Protocol error: [^\r\n]+\r\n$/);
    });
  }
  for (const [name, input] of OPEN_INPUTS) {
    it(`${name}: replies and stays open`, async () => {
      const [ours, theirs] = await Promise.all([repliesStayingOpen(node.port, input), repliesStayingOpen(redis.port, input)]);
      expect(ours).toBe(theirs);
    });
  }
});

/** Sends input, half-closes, and returns everything replied until the server closes. */
async function repliesUntilEof(port: number, input: Buffer): Promise<string> {
  const t = await Tap.open(port);
  try {
    t.socket.end(input);
    await t.waitClosed();
    return t.text;
  } finally {
    t.close();
  }
}

describe('random garbage: same bytes as redis-server (fast-check)', () => {
  // No NUL bytes: Redis searches lines with strchr() and stalls on them, a quirk not worth copying.
  const token = fc.constantFrom(
    '*', '$', '\r\n', '\r', '\n', '-', '0', '1', '2', '3', '9', '"', "'", '\\', '\\x4', 'x', 'a', ' ', '\t', '\x0b',
    '*1\r\n', '$1\r\n', '*2\r\n$4\r\nECHO\r\n', '*-1\r\n', '*0\r\n', '$-1\r\n', '*99999999999\r\n', 'PING\r\n', '\xff',
  );
  it('a half-closed connection still gets every reply', async () => {
    const expected = "+PONG\r\n-ERR unknown command 'x', with args beginning with: \r\n";
    expect(await repliesUntilEof(node.port, Buffer.from('PING\r\nx\r\n'))).toBe(expected);
    expect(await repliesUntilEof(redis.port, Buffer.from('PING\r\nx\r\n'))).toBe(expected);
  });

  it('replies and closing match for token soup', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(token, { minLength: 1, maxLength: 30 }), async (tokens) => {
        const input = Buffer.from(tokens.join(''), 'latin1');
        const [ours, theirs] = await Promise.all([repliesUntilEof(node.port, input), repliesUntilEof(redis.port, input)]);
        expect(ours, `input ${JSON.stringify(tokens.join(''))}`).toBe(theirs);
      }),
      { numRuns: 300 },
    );
  }, 30_000);
});

describe('a broken client does not disturb others', () => {
  it('other connections keep working while one is closed for a protocol error', async () => {
    const good = await RawClient.connect(node.port);
    try {
      await good.call('SET', 'survivor', '1');
      const bad = await Tap.open(node.port);
      bad.send('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n?\r\n');
      await bad.waitClosed();
      expect(bad.text).toBe("$-1\r\n-ERR Protocol error: expected '$', got '?'\r\n");
      expect(await good.call('GET', 'survivor')).toBe('1');
      expect(good.closed).toBe(false);
    } finally {
      good.close();
    }
  });
});

describe('huge declared lengths allocate nothing', () => {
  it('a declared 500 MB bulk with 1 MB sent does not grow the node by hundreds of MB', async () => {
    const pid = node.proc.pid!;
    const before = rssBytes(pid);
    const t = await Tap.open(node.port);
    try {
      t.send(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n`);
      t.send(Buffer.alloc(1024 * 1024, 0x61));
      const probe = await RawClient.connect(node.port);
      // Once another client is served, the node has read what was sent.
      await waitFor(async () => (await probe.call('PING')) !== undefined);
      probe.close();
      expect(rssBytes(pid) - before).toBeLessThan(100 * 1024 * 1024);
      expect(t.closed).toBe(false);
      expect(t.text).toBe('');
    } finally {
      t.close();
    }
  });

  it('a declared 2^31-1 argument count waits for arguments without allocating', async () => {
    const pid = node.proc.pid!;
    const before = rssBytes(pid);
    const t = await Tap.open(node.port);
    try {
      t.send('*2147483647\r\n$4\r\nPING\r\n');
      const probe = await RawClient.connect(node.port);
      expect(await probe.call('PING')).toEqual(expect.objectContaining({ value: 'PONG' }));
      probe.close();
      expect(rssBytes(pid) - before).toBeLessThan(100 * 1024 * 1024);
      expect(t.text).toBe('');
    } finally {
      t.close();
    }
  });
});

describe('configured proto-max-bulk-len', () => {
  it('a bulk one byte over 1 MB is refused, one of exactly 1 MB is accepted', async () => {
    expect(await replyThenClose(smallBulkNode.port, '*1\r\n$1048577\r\n')).toBe('-ERR Protocol error: invalid bulk length\r\n');
    const c = await RawClient.connect(smallBulkNode.port);
    try {
      const value = 'm'.repeat(1024 * 1024);
      expect(await c.call('SET', 'exactly-1mb', value)).toEqual(expect.objectContaining({ value: 'OK' }));
      expect(await c.call('STRLEN', 'exactly-1mb')).toBe(1024 * 1024);
    } finally {
      c.close();
    }
  });
});

describe('client-query-buffer-limit', () => {
  it('closes a client that sends 2 MB without finishing a frame; others are fine', async () => {
    const t = await Tap.open(limitedNode.port);
    try {
      t.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n');
      for (let i = 0; i < 32; i++) t.send(Buffer.alloc(64 * 1024, 0x62));
      await t.waitClosed();
      const other = await RawClient.connect(limitedNode.port);
      expect(await other.call('ECHO', 'still here')).toBe('still here');
      other.close();
    } finally {
      t.close();
    }
  });
});

describe('authentication limits (--requirepass), compared with redis-server', () => {
  it('NOAUTH for commands, AUTH works, then big requests are allowed', async () => {
    for (const port of [authNode.port, authRedis.port]) {
      const c = await RawClient.connect(port);
      try {
        expect(await c.call('GET', 'k')).toEqual({ message: 'NOAUTH Authentication required.' });
        expect(await c.call('AUTH', 'wrong')).toEqual({
          message: 'WRONGPASS invalid username-password pair or user is disabled.',
        });
        expect(await c.call('AUTH', 'secret')).toEqual(expect.objectContaining({ value: 'OK' }));
        const big = 'v'.repeat(40_000);
        expect(await c.call('SET', 'big', big)).toEqual(expect.objectContaining({ value: 'OK' }));
        expect(await c.call('GET', 'big')).toBe(big);
        expect(await c.call('ECHO', 'x')).toBe('x');
        expect(await c.call('DEL', ...Array.from({ length: 20 }, (_, i) => `k${i}`))).toBe(0);
      } finally {
        c.close();
      }
    }
  });

  const UNAUTH_INPUTS: Array<[string, string | Buffer]> = [
    ['11 arguments', '*11\r\n'],
    ['a 16 KB + 1 bulk', '*2\r\n$4\r\nAUTH\r\n$16385\r\n'],
  ];
  for (const [name, input] of UNAUTH_INPUTS) {
    it(`unauthenticated ${name}: same error and close as redis-server`, async () => {
      const [ours, theirs] = await Promise.all([replyThenClose(authNode.port, input), replyThenClose(authRedis.port, input)]);
      expect(ours).toBe(theirs);
      expect(ours).toMatch(/^-ERR Protocol error: unauthenticated (multibulk|bulk) length\r\n$/);
    });
  }

  it('unauthenticated requests within the limits are answered with NOAUTH', async () => {
    const input = Buffer.concat([encodeCommand(['SET', 'k', 'v'.repeat(16384)]), encodeCommand(['DEL', ...'abcdefghi'])]);
    const replies = await Promise.all([authNode.port, authRedis.port].map(async (port) => {
      const t = await Tap.open(port);
      try {
        t.send(input);
        await waitFor(() => t.frames() === 2, { what: 'two NOAUTH replies' });
        expect(t.closed).toBe(false);
        return t.text;
      } finally {
        t.close();
      }
    }));
    expect(replies[0]).toBe('-NOAUTH Authentication required.\r\n'.repeat(2));
    expect(replies[0]).toBe(replies[1]);
  });
});

describe('pipelines and binary safety', () => {
  it('10 000 commands in one write come back in order', async () => {
    const t = await Tap.open(node.port);
    try {
      const n = 10_000;
      const cmds: Buffer[] = [encodeCommand(['DEL', 'pipeline:counter'])];
      for (let i = 1; i <= n; i++) cmds.push(i % 2 ? encodeCommand(['INCR', 'pipeline:counter']) : encodeCommand(['ECHO', `e${i}`]));
      t.send(Buffer.concat(cmds));
      await waitFor(() => t.frames() >= n + 1 || t.closed, { what: 'all pipelined replies' });
      const lines = t.text.split('\r\n');
      const expected = [':0'];
      let counter = 0;
      for (let i = 1; i <= n; i++) {
        if (i % 2) expected.push(`:${++counter}`);
        else expected.push(`$${String(`e${i}`).length}`, `e${i}`);
      }
      expect(lines.slice(0, -1)).toEqual(expected);
    } finally {
      t.close();
    }
  });

  it('keys and values with all 256 byte values', async () => {
    const c = await RawClient.connect(node.port);
    try {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await c.call('SET', all, all)).toEqual(expect.objectContaining({ value: 'OK' }));
      expect(await c.call('GET', all)).toBe(all.toString('latin1'));
      expect(await c.call('STRLEN', all)).toBe(256);
      const msetArgs: Buffer[] = [];
      for (let i = 0; i < 256; i++) msetArgs.push(Buffer.from([i]), Buffer.from([255 - i, i, 13, 10]));
      expect(await c.call('MSET', ...msetArgs)).toEqual(expect.objectContaining({ value: 'OK' }));
      const values = await c.call('MGET', ...Array.from({ length: 256 }, (_, i) => Buffer.from([i])));
      expect(values).toEqual(Array.from({ length: 256 }, (_, i) => Buffer.from([255 - i, i, 13, 10]).toString('latin1')));
      // The same key through the inline protocol with \x escapes.
      expect(await repliesStayingOpen(node.port, 'GET "\\x00"\r\n')).toBe('$4\r\n\xff\x00\r\n\r\n');
    } finally {
      c.close();
    }
  });
});
