// The slot mover carries HyperLogLogs (sparse and dense, cache bits included), bitmaps and geo sets
// unchanged: they are strings and sorted sets, moved by DUMP/RESTORE. One source, one target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyErrorValue } from '../../../common/resp/reply-decoder.js';
import { slotOf } from '../../../common/slots.js';
import { RawClient } from '../../helpers/raw-client.js';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';

const CLUSTER = ['--slot-ownership', 'yes'];
const addr = (h: ServerHandle) => `127.0.0.1:${h.port}`;

describe('TESSERA.MIGRATE SLOT with HyperLogLog, bitmap and geo values', () => {
  let source: ServerHandle;
  let target: ServerHandle;
  let src: RawClient;
  let dst: RawClient;

  beforeAll(async () => {
    [source, target] = await Promise.all([startNode(CLUSTER), startNode(CLUSTER)]);
    src = await RawClient.connect(source.port);
    dst = await RawClient.connect(target.port);
    expect(await src.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'OWNED')).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', 1, '0-1023', 'NONE', 'OWNER', addr(source))).toEqual({ value: 'OK' });
  }, 60_000);

  afterAll(async () => {
    src?.close();
    dst?.close();
    await stopAll(source, target);
  });

  it('moves them with their slot: identical DUMPs and answers on the target, nothing left behind', async () => {
    const k = (name: string) => `{hllgeo}${name}`;
    const slot = slotOf(k('x'));
    await src.call('PFADD', k('sparse'), 'a', 'b', 'c');
    await src.call('PFADD', k('dense'), ...Array.from({ length: 20000 }, (_, i) => `e${i}`));
    const counts = [await src.call('PFCOUNT', k('sparse')), await src.call('PFCOUNT', k('dense'))];
    await src.call('PFADD', k('sparse'), 'd'); // leaves the cache invalid: its bit must move too
    await src.call('SETBIT', k('bits'), '100000', '1');
    await src.call('GEOADD', k('geo'), '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
    const keys = ['sparse', 'dense', 'bits', 'geo'].map(k);
    const dumps = await Promise.all(keys.map((key) => src.call('DUMP', key)));

    expect(await src.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'MIGRATING', addr(target))).toEqual({ value: 'OK' });
    expect(await dst.call('TESSERA.SLOTS', 'SET', 2, String(slot), 'IMPORTING', addr(source))).toEqual({ value: 'OK' });
    for (let i = 0; ; i++) {
      const r = await src.call('TESSERA.MIGRATE', 'SLOT', slot, addr(target));
      if (r instanceof ReplyErrorValue) throw new Error(r.message);
      if ((r as number[])[2] === 0) break;
      expect(i).toBeLessThan(100);
    }
    expect(await src.call('SLOTSINFO', slot, 1)).toEqual([]);
    for (let i = 0; i < keys.length; i++) {
      await dst.call('ASKING');
      expect(await dst.call('DUMP', keys[i]!), keys[i]).toEqual(dumps[i]);
    }
    await dst.call('ASKING');
    expect(await dst.call('PFCOUNT', k('dense'))).toBe(counts[1]);
    await dst.call('ASKING');
    expect(await dst.call('PFCOUNT', k('sparse'))).toBe(4);
    await dst.call('ASKING');
    expect(await dst.call('GETBIT', k('bits'), '100000')).toBe(1);
    await dst.call('ASKING');
    expect(await dst.call('GEODIST', k('geo'), 'Palermo', 'Catania', 'km')).toBe('166.2742');
    expect(counts[0]).toBe(3);
  });
});
