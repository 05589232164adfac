// The target side of the mover with real processes: TESSERA.IMPORT RESTORE-BATCH answers one
// array with a result per key (OK / KEPT / that key's error: bad payload, slot not importing, bad
// expiry) and its replica ends up holding exactly what was stored; REPLACE overwrites a copy a
// client wrote; malformed batches change nothing. TESSERA.IMPORT needs no ASKING (it checks the
// importing state itself), while a plain command on an importing slot still does. End to end,
// the mover sends no ASKING, one RESTORE-BATCH per sub-batch, and its replica gets one DEL per
// batch of moved keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { ReplyErrorValue, SimpleString } from '../../../common/resp/reply-decoder.js';
import { createDumpPayload } from '../../../node/persistence/dump.js';
import { RESTORE_BATCH_MAX_KEYS } from '../../../node/cluster/import.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';
import { keysInSlot, migrateAll } from '../../helpers/mover.js';

// No 5 s diskless-sync delay: the replicas attach at once.
const CLUSTER = ['--slot-ownership', 'yes', '--repl-diskless-sync-delay', '0'];
const OK = { value: 'OK' };
/** Where the importing slots come from (no node needs to listen there: nothing is sent to it). */
const SOURCE = '127.0.0.1:1';
const IMPORTING = 300;
const OTHER = 301;

/** calls= of a command in INFO commandstats (0 when it never ran). */
async function calls(c: RawClient, name: string): Promise<number> {
  const info = String(await c.call('INFO', 'commandstats'));
  const m = new RegExp(`cmdstat_${name.replace('|', '\\|')}:calls=(\\d+)`).exec(info);
  return m === null ? 0 : Number(m[1]);
}

const dump = (v: string): Buffer => createDumpPayload(v, { compression: false });

async function asking(c: RawClient, ...cmd: Array<string | number>): Promise<Reply> {
  const [, r] = await Promise.all([c.call('ASKING'), c.call(...cmd)]);
  return r!;
}

/** Error replies as their text, simple strings as theirs: a batch's results are easy to compare. */
function texts(r: Reply): unknown {
  if (Array.isArray(r)) return r.map(texts);
  if (r instanceof ReplyErrorValue) return `-${r.message}`;
  if (r instanceof SimpleString) return r.value;
  return r;
}

describe('TESSERA.IMPORT RESTORE-BATCH and routing of TESSERA.IMPORT', () => {
  let target: ServerHandle;
  let replica: ServerHandle;
  let dst: RawClient;
  let rep: RawClient;

  beforeAll(async () => {
    target = await startNode(CLUSTER);
    replica = await startNode([...CLUSTER, '--replicaof', '127.0.0.1', String(target.port)]);
    dst = await RawClient.connect(target.port);
    rep = await RawClient.connect(replica.port);
    expect(await dst.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'NONE', 'OWNER', SOURCE)).toEqual(OK);
    expect(await dst.call('TESSERA.SLOTS', 'SET', 2, String(IMPORTING), 'IMPORTING', SOURCE)).toEqual(OK);
    // The replica is attached (WAIT counts it) before anything is imported.
    for (let i = 0; i < 200 && (await dst.call('WAIT', 1, 100)) !== 1; i++);
  }, 60_000);

  afterAll(async () => {
    dst?.close();
    rep?.close();
    await stopAll(replica, target);
  });

  it('answers a result per key (OK, KEPT, bad payload, not importing, bad expiry) and the replica holds what was stored', async () => {
    const [fresh, withTtl, clients, bad, expired, badTtl] = keysInSlot(IMPORTING, 6, 'rb');
    const [elsewhere] = keysInSlot(OTHER, 1, 'rb');
    expect(await asking(dst, 'SET', clients!, 'from-client')).toEqual(OK);
    const at = Date.now() + 3_600_000;
    const r = await dst.call(
      'TESSERA.IMPORT', 'RESTORE-BATCH', 'KEEP',
      fresh!, 0, dump('one'),
      withTtl!, at, dump('two'),
      clients!, 0, dump('older'),
      bad!, 0, Buffer.from('not a dump payload'),
      elsewhere!, 0, dump('three'),
      expired!, 1, dump('gone'),
      badTtl!, 'soon', dump('four'),
    );
    expect(texts(r)).toEqual([
      'OK', 'OK', 'KEPT',
      '-ERR DUMP payload version or checksum are wrong',
      `-ERR slot ${OTHER} is not importing`,
      'OK',
      '-ERR value is not an integer or out of range',
    ]);
    expect(await dst.call('WAIT', 1, 5000)).toBe(1);
    for (const [c, who] of [[dst, 'target'], [rep, 'replica']] as const) {
      expect(await asking(c, 'GET', fresh!), who).toBe('one');
      expect(await asking(c, 'GET', withTtl!), who).toBe('two');
      expect(await asking(c, 'PEXPIRETIME', withTtl!), who).toBe(at);
      expect(await asking(c, 'GET', clients!), who).toBe('from-client');
      for (const k of [bad!, expired!, badTtl!]) expect(await asking(c, 'EXISTS', k), `${who} ${k}`).toBe(0);
    }
  }, 30_000);

  it('REPLACE overwrites a copy a client wrote; KEEP replaces only a copy the mover wrote', async () => {
    const [mine, moved] = keysInSlot(IMPORTING, 2, 'rr');
    expect(await asking(dst, 'SET', mine!, 'from-client')).toEqual(OK);
    expect(texts(await dst.call('TESSERA.IMPORT', 'RESTORE-BATCH', 'KEEP', moved!, 0, dump('first')))).toEqual(['OK']);
    expect(texts(await dst.call('TESSERA.IMPORT', 'RESTORE-BATCH', 'KEEP', mine!, 0, dump('x'), moved!, 0, dump('second')))).toEqual(['KEPT', 'OK']);
    expect(texts(await dst.call('TESSERA.IMPORT', 'RESTORE-BATCH', 'replace', mine!, 0, dump('replaced')))).toEqual(['OK']);
    expect(await dst.call('WAIT', 1, 5000)).toBe(1);
    for (const c of [dst, rep]) {
      expect(await asking(c, 'GET', mine!)).toBe('replaced');
      expect(await asking(c, 'GET', moved!)).toBe('second');
    }
  }, 30_000);

  it('refuses a malformed batch whole, changing nothing', async () => {
    const [k1, k2] = keysInSlot(IMPORTING, 2, 'rm');
    const refused = async (...args: Array<string | number | Buffer>): Promise<string> => {
      const r = await dst.call('TESSERA.IMPORT', 'RESTORE-BATCH', ...args);
      expect(r).toBeInstanceOf(ReplyErrorValue);
      return (r as ReplyErrorValue).message;
    };
    expect(await refused('KEEP', k1!, 0, dump('a'), k2!, 0)).toMatch(/^ERR wrong number of arguments/);
    expect(await refused('MAYBE', k1!, 0, dump('a'))).toMatch(/^ERR syntax error/);
    const many: Array<string | number | Buffer> = [];
    const payload = dump('m');
    for (let i = 0; i <= RESTORE_BATCH_MAX_KEYS; i++) many.push(k1!, 0, payload);
    expect(await refused('KEEP', ...many)).toBe(`ERR too many keys for TESSERA.IMPORT RESTORE-BATCH: ${RESTORE_BATCH_MAX_KEYS + 1}, at most ${RESTORE_BATCH_MAX_KEYS}`);
    expect(await asking(dst, 'EXISTS', k1!)).toBe(0);
    expect(await asking(dst, 'EXISTS', k2!)).toBe(0);
  }, 30_000);

  it('TESSERA.IMPORT needs no ASKING; a plain command on the importing slot still does', async () => {
    const [plain, big, single] = keysInSlot(IMPORTING, 3, 'ra');
    const [elsewhere] = keysInSlot(OTHER, 1, 'ra');
    expect(texts(await dst.call('TESSERA.IMPORT', 'RESTORE-BATCH', 'KEEP', plain!, 0, dump('v')))).toEqual(['OK']);
    // The single-key form of older sources, and a big key's chunks, commit and abort.
    expect(await dst.call('TESSERA.IMPORT', 'RESTORE', single!, 0, dump('s'))).toEqual(OK);
    expect(await dst.call('TESSERA.IMPORT', 'CHUNK', big!, 'list', 0, 'a', 'b')).toBe(2);
    expect(await dst.call('TESSERA.IMPORT', 'COMMIT', big!, 0, 2)).toEqual(OK);
    expect(texts(await dst.call('TESSERA.IMPORT', 'CHUNK', elsewhere!, 'list', 0, 'a'))).toBe(`-ERR slot ${OTHER} is not importing`);
    expect(await dst.call('TESSERA.IMPORT', 'ABORT', big!)).toEqual(OK);
    // A client's GET without ASKING is sent back to the source; with ASKING it is served.
    expect(texts(await dst.call('GET', plain!))).toBe(`-MOVED ${IMPORTING} ${SOURCE}`);
    expect(await asking(dst, 'GET', plain!)).toBe('v');
    expect(await asking(dst, 'LRANGE', big!, 0, -1)).toEqual(['a', 'b']);
    expect(await asking(dst, 'GET', single!)).toBe('s');
    // ASKING is one-shot: the next command goes back to needing it.
    expect(texts(await dst.call('GET', single!))).toBe(`-MOVED ${IMPORTING} ${SOURCE}`);
  }, 30_000);
});

describe('the mover end to end: batched imports, batched deletes', () => {
  let source: ServerHandle;
  let sourceReplica: ServerHandle;
  let target: ServerHandle;
  const clients: RawClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.close();
    await stopAll(sourceReplica, source, target);
  });

  it('sends no ASKING and one RESTORE-BATCH per sub-batch; the source replica gets one DEL per batch', async () => {
    source = await startNode(CLUSTER);
    sourceReplica = await startNode([...CLUSTER, '--replicaof', '127.0.0.1', String(source.port)]);
    target = await startNode(CLUSTER);
    const [src, srep, dst] = await Promise.all([source, sourceReplica, target].map((h) => RawClient.connect(h.port)));
    clients.push(src!, srep!, dst!);
    const sa = `127.0.0.1:${source.port}`;
    const ta = `127.0.0.1:${target.port}`;
    const slot = 77;
    expect(await src!.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'OWNED')).toEqual(OK);
    expect(await dst!.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'NONE', 'OWNER', sa)).toEqual(OK);
    const keys = keysInSlot(slot, 500, 'e');
    await Promise.all(keys.map((k) => src!.call('SET', k, `v-${k}`)));
    expect(await src!.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'MIGRATING', ta)).toEqual(OK);
    expect(await dst!.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'IMPORTING', sa)).toEqual(OK);
    for (let i = 0; i < 200 && (await src!.call('WAIT', 1, 100)) !== 1; i++);
    const delsBefore = await calls(srep!, 'del');
    await migrateAll(src!, slot, ta, ['MAXKEYS', 1000]);
    expect(await src!.call('WAIT', 1, 5000)).toBe(1);
    expect(await srep!.call('DBSIZE')).toBe(0);
    const values = await Promise.all(keys.map((k) => asking(dst!, 'GET', k)));
    expect(values).toEqual(keys.map((k) => `v-${k}`));
    expect(await calls(dst!, 'asking')).toBe(keys.length); // the test's own GETs above, none of the mover's
    const batches = await calls(dst!, 'tessera.import|restore-batch');
    expect(await calls(dst!, 'tessera.import|restore')).toBe(0);
    // A sub-batch holds at most MAX_LOCKED_KEYS (128) keys: a few commands, not one per key.
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(keys.length / 128));
    expect(batches).toBeLessThan(keys.length / 10);
    const dels = (await calls(srep!, 'del')) - delsBefore;
    expect(dels).toBeGreaterThan(0);
    expect(dels).toBeLessThanOrEqual(batches);
  }, 60_000);
});
