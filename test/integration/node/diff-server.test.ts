// Server commands: our node vs real redis-server (INFO field names, COMMAND, SLOWLOG, LATENCY,
// MEMORY, TIME, DEBUG, HELP texts). Values that depend on the process are compared by shape.
import { beforeEach, describe, expect, it } from 'vitest';
import { MapValue, type Reply, ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';

/** INFO text → section name → field names. */
function infoFields(text: Reply): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let section = '';
  for (const line of String(text).replace(/^txt:/, '').split('\r\n')) {
    if (line.startsWith('# ')) out.set((section = line.slice(2).toLowerCase()), []);
    else if (line.includes(':')) out.get(section)!.push(line.slice(0, line.indexOf(':')));
  }
  return out;
}

function sectionNames(text: Reply): string[] {
  return [...infoFields(text).keys()];
}

describe('server commands match redis-server', () => {
  const p = usePair(['--enable-debug-command', 'yes']);
  beforeEach(async () => {
    await p.both('FLUSHALL');
    await p.both('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    await p.both('SLOWLOG', 'RESET');
  });

  it('INFO prints the same sections, in order, for each selector', async () => {
    for (const sel of [[], ['default'], ['all'], ['everything'], ['server', 'keyspace'], ['commandstats'], ['nosuch']]) {
      const [ours, redis] = await p.both('INFO', ...sel);
      expect(sectionNames(ours), `INFO ${sel.join(' ')}`).toEqual(sectionNames(redis));
    }
  });

  it('INFO sections server, clients, stats, replication carry the same field names', async () => {
    const [ours, redis] = await p.both('INFO', 'everything');
    const o = infoFields(ours);
    const r = infoFields(redis);
    for (const section of ['server', 'clients', 'stats', 'replication', 'cpu', 'cluster']) {
      expect(o.get(section), section).toEqual(r.get(section));
    }
    // Memory and persistence: every field we print exists in Redis.
    for (const section of ['memory', 'persistence']) {
      for (const f of o.get(section)!) expect(r.get(section), `${section}.${f}`).toContain(f);
    }
  });

  it('INFO keyspace, commandstats and errorstats lines', async () => {
    await p.both('SET', 'a', '1');
    await p.both('SET', 'b', '2', 'EX', '100');
    await p.both('SELECT', '3');
    await p.both('SET', 'c', '3');
    await p.both('SELECT', '0');
    const [ours, redis] = await p.both('INFO', 'keyspace');
    const strip = (t: Reply) => String(t).replace(/avg_ttl=\d+/g, 'avg_ttl=N');
    expect(strip(ours)).toEqual(strip(redis));
    await p.both('CONFIG', 'RESETSTAT');
    await p.both('GET', 'a');
    await p.both('SET', 's', 'abc');
    await p.both('INCR', 's');
    const lines = (t: Reply) => String(t).replace(/usec=\d+,usec_per_call=[\d.]+/g, 'usec=N').split('\r\n').filter((l) => /^cmdstat_(get|set|incr)|^errorstat/.test(l)).sort();
    const [oc, rc] = await p.both('INFO', 'commandstats', 'errorstats');
    expect(lines(oc)).toEqual(lines(rc));
    expect(String(oc)).toMatch(/cmdstat_get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0/);
  });

  it('INFO is a verbatim string in RESP3', async () => {
    const c = await RawClient.connect(p.node.port);
    try {
      await c.call('HELLO', '3');
      const info = await c.call('INFO', 'server');
      expect(String(info)).toMatch(/^txt:# Server\r\nredis_version:7\.0\.15\r\n/);
    } finally {
      c.close();
    }
  });

  it('COMMAND INFO: name, arity, flags, keys and ACL categories', async () => {
    const names = [
      'get', 'set', 'mset', 'mget', 'del', 'incr', 'info', 'time', 'lastsave', 'config', 'config|get', 'config|set',
      'client|list', 'client|kill', 'client|setname', 'command|getkeys', 'slowlog|get', 'memory|usage', 'monitor', 'debug',
      'shutdown', 'ping', 'select', 'nosuch',
    ];
    const [ours, redis] = await p.both('COMMAND', 'INFO', ...names);
    const head = (r: Reply) => (r as Reply[]).map((e) => (e === null ? null : plain((e as Reply[]).slice(0, 8) as Reply)));
    expect(head(ours)).toEqual(head(redis));
  });

  it('COMMAND INFO: ACL categories and tips of every command both servers know', async () => {
    const names = (await p.ours.call('COMMAND', 'LIST')) as string[];
    const [ours, redis] = await p.both('COMMAND', 'INFO', ...names);
    const rows = (r: Reply) => (r as Reply[]).map((e) => (e === null ? null : plain([(e as Reply[])[0]!, (e as Reply[])[6]!, (e as Reply[])[7]!])));
    const o = rows(ours);
    const r = rows(redis);
    let compared = 0;
    names.forEach((name, i) => {
      if (r[i] === null) return; // ours only (CLIENT SETINFO, SLOTS* commands)
      compared++;
      expect(o[i], name).toEqual(r[i]);
    });
    expect(compared).toBeGreaterThan(150);
  });

  // Key spec flags are derived from write/readonly only, so compare read commands whose flags agree.
  it('COMMAND INFO key specs for simple key commands', async () => {
    const [ours, redis] = await p.both('COMMAND', 'INFO', 'get', 'mget', 'getrange');
    const specs = (r: Reply) => (r as Reply[]).map((e) => plain((e as Reply[])[8]!));
    expect(specs(ours)).toEqual(specs(redis));
  });

  it('COMMAND GETKEYS and its errors', async () => {
    await p.same(
      ['COMMAND', 'GETKEYS', 'get', 'a'], ['COMMAND', 'GETKEYS', 'mset', 'a', '1', 'b', '2'], ['COMMAND', 'GETKEYS', 'del', 'a', 'b', 'c'],
      ['COMMAND', 'GETKEYS', 'zunionstore', 'd', '2', 'a', 'b'], ['COMMAND', 'GETKEYS', 'zunionstore', 'd', '5', 'a'],
      ['COMMAND', 'GETKEYS', 'sort', 'a', 'BY', 'x', 'STORE', 'b'], ['COMMAND', 'GETKEYS', 'memory', 'usage', 'k'],
      ['COMMAND', 'GETKEYS', 'nosuch', 'a'], ['COMMAND', 'GETKEYS', 'ping', 'a'], ['COMMAND', 'GETKEYS', 'set', 'a'],
      ['COMMAND', 'GETKEYS', 'set'], ['COMMAND', 'GETKEYS', 'get', 'a', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'get', 'a'], ['COMMAND', 'GETKEYSANDFLAGS', 'zunionstore', 'd', '2', 'a', 'b'],
    );
  });

  it('COMMAND LIST filters, DOCS shape, HELP and errors', async () => {
    const [ours, redis] = await p.both('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'client|*');
    // CLIENT SETINFO is Redis 7.2's; we accept it because ioredis 6 sends it.
    const ourList = (ours as string[]).filter((n) => n !== 'client|setinfo');
    for (const n of ourList) expect(redis as string[]).toContain(n);
    const [ol] = await p.both('COMMAND', 'LIST');
    expect(ol as string[]).toContain('config|get');
    const [count] = await p.both('COMMAND', 'COUNT');
    const [all] = await p.both('COMMAND');
    expect((all as Reply[]).length).toBe(count);
    const [docs] = await p.both('COMMAND', 'DOCS', 'get', 'nosuch');
    expect(plain(docs)).toEqual(['get', ['group', 'string']]);
    await p.same(
      ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'], ['COMMAND', 'LIST', 'FILTERBY', 'foo', 'bar'], ['COMMAND', 'LIST', 'FILTERBY'],
      ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuchcat'], ['COMMAND', 'DOCS', 'nosuch'], ['COMMAND', 'HELP'], ['COMMAND', 'FOO'],
      ['COMMAND', 'COUNT', 'x'],
    );
  });

  it('SLOWLOG records commands once the threshold is 0', async () => {
    await p.same(['SLOWLOG', 'LEN'], ['SLOWLOG', 'GET', 'abc'], ['SLOWLOG', 'GET', '-2'], ['SLOWLOG', 'HELP'], ['SLOWLOG', 'FOO']);
    await p.both('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await p.both('SET', 'key', 'value');
    await p.both('CLIENT', 'SETNAME', 'slowpoke');
    await p.both('GET', 'key');
    const [ours, redis] = await p.both('SLOWLOG', 'GET', '3');
    const shape = (r: Reply) => (r as Reply[][]).map((e) => [typeof e[0], typeof e[1], typeof e[2], e[3], typeof e[4], e[5]]);
    expect(shape(ours)).toEqual(shape(redis));
    expect((ours as Reply[][])[0]![3]).toEqual(['GET', 'key']);
    const [ol, rl] = await p.both('SLOWLOG', 'LEN');
    expect(ol).toBe(rl);
    await p.both('CLIENT', 'SETNAME', '');
    await p.same(['SLOWLOG', 'RESET'], ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000'], ['SLOWLOG', 'RESET'], ['SLOWLOG', 'LEN']);
  });

  it('LATENCY and MEMORY subcommands', async () => {
    await p.both('SET', 'n', '12345');
    await p.both('SET', 'short', 'v');
    await p.both('SET', 'long', 'x'.repeat(100));
    await p.same(
      ['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'RESET'], ['LATENCY', 'HELP'],
      ['MEMORY', 'HELP'], ['MEMORY', 'USAGE', 'nosuch'], ['MEMORY', 'USAGE', 'n'], ['MEMORY', 'USAGE', 'short'],
      ['MEMORY', 'USAGE', 'long'], ['MEMORY', 'USAGE', 'n', 'SAMPLES'], ['MEMORY', 'USAGE', 'n', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 'n', 'FOO', '1'], ['MEMORY', 'USAGE', 'n', 'SAMPLES', '0'],
    );
  });

  it('TIME, LASTSAVE, DEBUG, SHUTDOWN and MONITOR argument errors', async () => {
    const [ot, rt] = await p.both('TIME');
    expect((ot as string[]).length).toBe(2);
    expect(Math.abs(Number((ot as string[])[0]) - Number((rt as string[])[0]))).toBeLessThanOrEqual(2);
    const [ol] = await p.both('LASTSAVE');
    expect(typeof ol).toBe('number');
    await p.both('SET', 'k', 'v');
    await p.same(
      ['DEBUG', 'SLEEP', '0'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['DEBUG', 'OBJECT', 'nosuch'], ['DEBUG', 'SLEEP', 'abc'],
      ['SHUTDOWN', 'FOO'], ['SHUTDOWN', 'NOSAVE', 'SAVE'], ['SHUTDOWN', 'ABORT'],
    );
    const [obj] = await p.both('DEBUG', 'OBJECT', 'k');
    expect(plain(obj)).toMatch(/^\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/);
  });

  it('CONFIG HELP and unknown subcommands', async () => {
    await p.same(['CONFIG', 'HELP'], ['CONFIG', 'FOO'], ['CONFIG', 'GET'], ['CONFIG', 'SET', 'hz'], ['CONFIG', 'SET', 'hz', '10', 'hz']);
  });

  // Found by a differential sweep of CONFIG SET over every directive both servers know, with
  // hostile values: exact 64-bit bounds, memory units, clamps, immutables, partial class lists.
  it('CONFIG SET values: exact integers, memory units, clamps, output limits by class', async () => {
    const setGet = (name: string, ...values: string[]) => values.flatMap((v) => [['CONFIG', 'SET', name, v], ['CONFIG', 'GET', name]]);
    await p.same(
      ...setGet('slowlog-max-len', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '128'),
      ...setGet('hz', '9223372036854775808', '10'),
      ...setGet('repl-backlog-ttl', '9223372036854775807', '-1', '3600'),
      ...setGet('hash-max-listpack-value', '1kb', '1K', '', '1tb', ' 1', '+1', '1.5', '64'),
      ...setGet('zset-max-ziplist-value', '1gb', '64'),
      ...setGet('hll-sparse-max-bytes', '9223372036854775807', '9223372036854775808', '3000'),
      ...setGet('repl-backlog-size', '1', '10mb', '1048576'),
      ...setGet('list-max-listpack-size', '-2147483648', '9223372036854775807', '-2'),
      ['CONFIG', 'SET', 'rdbchecksum', 'yes'], ['CONFIG', 'SET', 'appendfsync', 'sometimes'],
      ...setGet('client-output-buffer-limit', 'normal 1mb 1mb 60', 'replica 0 0 0', 'pubsub 32mb 8mb 60 normal 0 0 0', '', 'master 0 0 0', 'normal 1 2'),
    );
  });

  it('RESP3 shapes: maps, sets, nulls', async () => {
    await p.both('HELLO', '3');
    try {
      // CONFIG GET's order is Redis's dict order: compare the map's pairs as a set.
      const [oc, rc] = await p.both('CONFIG', 'GET', 'hz', 'timeout');
      expect(oc).toBeInstanceOf(MapValue);
      const pairs = (m: Reply) => (m as MapValue).pairs.map((kv) => kv.join('=')).sort();
      expect(pairs(oc)).toEqual(pairs(rc));
      await p.same(
        ['MEMORY', 'USAGE', 'nosuch'], ['CLIENT', 'GETNAME'], ['SLOWLOG', 'GET', '0'], ['COMMAND', 'GETKEYSANDFLAGS', 'get', 'a'],
        ['COMMAND', 'INFO', 'nosuch'], ['LATENCY', 'LATEST'],
      );
      const [ours, redis] = await p.both('COMMAND', 'INFO', 'get');
      expect(plain(ours)).toEqual(plain(redis));
    } finally {
      await p.both('HELLO', '2');
    }
  });

  it('MONITOR streams other clients\' commands', async () => {
    const mon = await RawClient.connect(p.node.port);
    try {
      expect(plain(await mon.call('MONITOR'))).toBe('+OK');
      await p.ours.call('SET', 'watched', 'va lue');
      const line = await mon.nextReply();
      expect(plain(line)).toMatch(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "watched" "va lue"$/);
    } finally {
      mon.close();
    }
  });

  it('errors are RESP errors the client can read', async () => {
    const [ours] = await p.both('CONFIG', 'SET', 'nosuch', '1');
    expect(ours).toBeInstanceOf(ReplyErrorValue);
    const [map] = await p.both('CONFIG', 'GET', 'hz');
    expect(map instanceof MapValue || Array.isArray(map)).toBe(true);
  });
});
