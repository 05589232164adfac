// AOF building blocks without processes: the RESP codec (whole, truncated at every byte, corrupt),
// the manifest format, rewrite forms per type, and the background rewrite staying consistent
// while the keyspace changes under it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Db, type Entry, KeyspaceClock, type KeyspaceEnv } from '../../../node/keyspace/db.js';
import { HashValue } from '../../../node/keyspace/types/hash-value.js';
import { ListValue } from '../../../node/keyspace/types/list-value.js';
import { SetValue } from '../../../node/keyspace/types/set-value.js';
import { ZSetValue } from '../../../node/keyspace/types/zset-value.js';
import { encodeAofCommand, readAofCommands } from '../../../node/persistence/aof-codec.js';
import { formatManifest, ManifestError, parseManifest } from '../../../node/persistence/aof-manifest.js';
import { AofRewriteJob, rewriteEntry, type RewriteOutcome } from '../../../node/persistence/aof-rewrite.js';

const env: KeyspaceEnv = {
  clock: new KeyspaceClock(),
  accessClock: () => 0,
  isReplica: () => false,
  onExpired: () => {},
};

function commandsOf(buf: Buffer): string[][] {
  const out: string[][] = [];
  const end = readAofCommands(buf, (argv) => out.push(argv));
  expect(end).toEqual({ kind: 'ok' });
  return out;
}

describe('AOF codec', () => {
  const cmds = [['SELECT', '0'], ['SET', 'k', 'a\r\nb\x00\xff'], ['RPUSH', 'l', '', 'x']];
  const bytes = Buffer.from(cmds.map(encodeAofCommand).join(''), 'latin1');

  it('encodes RESP arrays of bulk strings, byte for byte', () => {
    expect(encodeAofCommand(['SET', 'a', '1'])).toBe('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n');
  });

  it('reads back what it wrote, binary-safe, and skips # annotations', () => {
    expect(commandsOf(bytes)).toEqual(cmds);
    expect(commandsOf(Buffer.concat([Buffer.from('#TS:1700000000\r\n'), bytes]))).toEqual(cmds);
  });

  it('reports a cut at every byte as truncated at the last complete command', () => {
    const ends: number[] = [];
    readAofCommands(bytes, (_a, end) => ends.push(end));
    for (let cut = 1; cut < bytes.length; cut++) {
      const seen: string[][] = [];
      const end = readAofCommands(bytes.subarray(0, cut), (argv) => seen.push(argv));
      const complete = ends.filter((e) => e <= cut);
      if (ends.includes(cut)) expect(end).toEqual({ kind: 'ok' });
      else expect(end).toEqual({ kind: 'truncated', validBytes: complete.length ? complete[complete.length - 1] : 0 });
      expect(seen).toEqual(cmds.slice(0, complete.length));
    }
  });

  it('reports bytes that are not AOF as corrupt, with the offset', () => {
    expect(readAofCommands(Buffer.from('*1\r\n$4\r\nPING\r\nGARBAGE\r\n'), () => {})).toEqual({ kind: 'corrupt', offset: 14 });
    expect(readAofCommands(Buffer.from('*x\r\n'), () => {})).toEqual({ kind: 'corrupt', offset: 0 });
    expect(readAofCommands(Buffer.from('*1\r\n+PING\r\n'), () => {})).toEqual({ kind: 'corrupt', offset: 4 });
  });
});

describe('AOF manifest', () => {
  it('parses and writes Redis 7 manifests', () => {
    const text = 'file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n';
    const m = parseManifest(text);
    expect(m.base).toEqual({ name: 'appendonly.aof.2.base.aof', seq: 2, type: 'b' });
    expect(m.history.map((f) => f.name)).toEqual(['appendonly.aof.1.incr.aof']);
    expect(m.incrs.map((f) => f.seq)).toEqual([2]);
    expect(formatManifest(m)).toBe(text);
  });

  it('rejects empty, malformed and unknown-type manifests with Redis texts', () => {
    expect(() => parseManifest('\n')).toThrow(new ManifestError('Found an empty AOF manifest'));
    expect(() => parseManifest('file a seq 1\n')).toThrow('Invalid AOF manifest file format');
    expect(() => parseManifest('file a seq 1 type x\n')).toThrow('Unknown AOF file type');
  });
});

describe('AOF rewrite forms', () => {
  function emitted(e: Entry, key = 'k'): string[][] {
    const out: string[][] = [];
    rewriteEntry(key, e, (argv) => out.push(argv));
    return out;
  }

  it('uses SET / RPUSH / SADD / ZADD / HMSET with 64 items per command, then PEXPIREAT', () => {
    const db = new Db(0, env);
    const list = ListValue.from(Array.from({ length: 130 }, (_, i) => `i${i}`));
    const out = emitted(db.add('k', list));
    expect(out.map((a) => a.length)).toEqual([66, 66, 4]);
    expect(out[0]!.slice(0, 3)).toEqual(['RPUSH', 'k', 'i0']);

    const hash = new HashValue();
    hash.set('f', 'v');
    const z = new ZSetValue();
    z.set('m', 1.5);
    z.set('n', -Infinity);
    const set = new SetValue();
    set.add('x');
    const e = db.add('h', hash);
    db.setExpire('h', e, 1_900_000_000_000);
    expect(emitted(e, 'h')).toEqual([['HMSET', 'h', 'f', 'v'], ['PEXPIREAT', 'h', '1900000000000']]);
    expect(emitted(db.add('z', z), 'z')).toEqual([['ZADD', 'z', '-inf', 'n', '1.5', 'm']]);
    expect(emitted(db.add('s', set), 's')).toEqual([['SADD', 's', 'x']]);
    expect(emitted(db.add('str', 'v'), 'str')).toEqual([['SET', 'str', 'v']]);
  });
});

describe('background rewrite', () => {
  /** Applies the rewritten file to a model: db → key → string value or list items. */
  function replay(file: string): Map<string, string | string[]> {
    const model = new Map<string, string | string[]>();
    let db = 0;
    for (const argv of commandsOf(readFileSync(file))) {
      const [cmd, key] = [argv[0]!, argv[1]!];
      if (cmd === 'SELECT') db = Number(key);
      else if (cmd === 'SET') model.set(`${db}:${key}`, argv[2]!);
      else if (cmd === 'DEL') model.delete(`${db}:${key}`);
      else if (cmd === 'RPUSH') model.set(`${db}:${key}`, [...((model.get(`${db}:${key}`) as string[]) ?? []), ...argv.slice(2)]);
      else throw new Error(`unexpected ${cmd}`);
    }
    return model;
  }

  function modelOf(dbs: Db[]): Map<string, string | string[]> {
    const model = new Map<string, string | string[]>();
    for (const db of dbs) {
      for (const [key, e] of db.dict) model.set(`${db.id}:${key}`, typeof e.value === 'string' ? e.value : (e.value as ListValue).toArray());
    }
    return model;
  }

  it('ends equal to the dataset at the moment it finishes, although writes went on during it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aof-unit-'));
    try {
      const dbs = [new Db(0, env), new Db(1, env)];
      for (let i = 0; i < 50_000; i++) dbs[i % 2]!.add(`key${i}`, `v${i}`);
      dbs[0]!.add('list', ListValue.from(['a']));
      let done: RewriteOutcome | null = null;
      let finishedModel: Map<string, string | string[]> | null = null;
      const job = new AofRewriteJob(dbs, () => Date.now(), join(dir, 'base.aof'), (o) => {
        done = o;
        finishedModel = modelOf(dbs); // the state at the instant the job completed
      });
      job.start();
      // A writer between the job's chunks: overwrites, deletes, list pushes, new keys, MOVE.
      let n = 0;
      while (job.running) {
        await new Promise((r) => setImmediate(r));
        for (let j = 0; j < 50 && job.running; j++, n++) {
          const k = `key${(n * 7919) % 50_000}`;
          const db = dbs[((n * 7919) % 50_000) % 2]!;
          if (n % 5 === 0) {
            db.delete(k);
            job.noteWrite(db.id, ['DEL', k]);
          } else {
            db.set(k, `w${n}`);
            job.noteWrite(db.id, ['SET', k, `w${n}`]);
          }
          (dbs[0]!.dict.get('list')!.value as ListValue).pushBack(`p${n}`);
          job.noteWrite(0, ['RPUSH', 'list', `p${n}`]);
          if (n % 97 === 0) {
            dbs[1]!.set(`new${n}`, 'x');
            job.noteWrite(1, ['SET', `new${n}`, 'x']);
          }
        }
      }
      expect(done).toMatchObject({ ok: true });
      expect(n).toBeGreaterThan(0);
      expect(replay(join(dir, 'base.aof'))).toEqual(finishedModel);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts over after FLUSHALL and still matches the dataset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aof-unit-'));
    try {
      const dbs = [new Db(0, env)];
      for (let i = 0; i < 30_000; i++) dbs[0]!.add(`key${i}`, `v${i}`);
      const job = new AofRewriteJob(dbs, () => Date.now(), join(dir, 'base.aof'), () => {});
      job.start();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      dbs[0]!.flush();
      job.noteWrite(0, ['FLUSHALL']);
      dbs[0]!.add('only', '1');
      job.noteWrite(0, ['SET', 'only', '1']);
      while (job.running) await new Promise((r) => setImmediate(r));
      expect(job.restarts).toBe(1);
      expect(replay(join(dir, 'base.aof'))).toEqual(new Map([['0:only', '1']]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
