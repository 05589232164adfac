// The slot ownership state machine of cluster mode: epochs (older refused, same epoch only
// idempotent, newer applied), transitions, CONFIRM, argument parsing, and the file round trip with
// the restart fence (loaded state is unconfirmed).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lookupCommand } from '../../../common/commands/table.js';
import { slotOf } from '../../../common/slots.js';
import { SlotOwnership, SlotState, parseSetArgs, parseState, type SlotRange } from '../../../node/cluster/ownership.js';
import { SlotRouting } from '../../../node/cluster/routing-check.js';
import type { Session } from '../../../node/session.js';

const dirs: string[] = [];
const logs: string[] = [];

function fileOwnership(dir?: string): { own: SlotOwnership; path: string } {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'ownership-'));
  if (!dir) dirs.push(d);
  const path = join(d, 'slots.json');
  return { own: new SlotOwnership({ filePath: path, log: (_l, m) => logs.push(m) }), path };
}

function memOwnership(): SlotOwnership {
  return new SlotOwnership({ filePath: null, log: (_l, m) => logs.push(m) });
}

function ranges(args: string): SlotRange[] {
  const parsed = parseSetArgs(['1', ...args.split(' ')]);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.ranges;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  logs.length = 0;
});

describe('epochs', () => {
  it('a fresh node is at epoch 0, owns nothing and has nothing to confirm', () => {
    const own = memOwnership();
    expect(own.epoch).toBe(0);
    expect(own.confirmed).toBe(true);
    expect(own.counts()).toEqual({ owned: 0, migrating: 0, importing: 0 });
    expect(own.ranges()).toEqual([{ start: 0, end: 1023, state: SlotState.None, peer: null }]);
  });

  it('a newer epoch applies, an older one is refused and changes nothing', () => {
    const own = memOwnership();
    expect(own.set(5, ranges('0-511 OWNED 512-1023 NONE OWNER 10.0.0.2:7000'))).toBeNull();
    expect(own.epoch).toBe(5);
    expect(own.counts().owned).toBe(512);
    const err = own.set(4, ranges('0-1023 OWNED'));
    expect(err).toBe("STALEEPOCH configuration epoch 4 is older than this node's 5");
    expect(own.epoch).toBe(5);
    expect(own.stateOf(600)).toBe(SlotState.None);
    expect(own.peerOf(600)).toBe('10.0.0.2:7000');
  });

  it('the same epoch is idempotent when it changes nothing and refused when it would', () => {
    const own = memOwnership();
    expect(own.set(3, ranges('0-9 OWNED'))).toBeNull();
    expect(own.set(3, ranges('0-9 OWNED'))).toBeNull();
    expect(own.set(3, ranges('5 OWNED'))).toBeNull();
    expect(own.set(3, ranges('0-9 MIGRATING 10.0.0.3:7000'))).toMatch(/^STALEEPOCH configuration epoch 3 is already in force/);
    expect(own.stateOf(5)).toBe(SlotState.Owned);
    expect(own.peerOf(5)).toBeNull();
  });

  it('walks a migration: owned → migrating → none(owner) on the source, importing → owned on the target', () => {
    const src = memOwnership();
    const dst = memOwnership();
    src.set(1, ranges('0-1023 OWNED'));
    dst.set(1, ranges('0-1023 NONE OWNER 10.0.0.1:7000'));
    src.set(2, ranges('7 MIGRATING 10.0.0.2:7000'));
    dst.set(2, ranges('7 IMPORTING 10.0.0.1:7000'));
    expect(src.counts()).toEqual({ owned: 1024, migrating: 1, importing: 0 });
    expect(dst.counts()).toEqual({ owned: 0, migrating: 0, importing: 1 });
    expect(src.peerOf(7)).toBe('10.0.0.2:7000');
    expect(dst.peerOf(7)).toBe('10.0.0.1:7000');
    src.set(3, ranges('7 NONE OWNER 10.0.0.2:7000'));
    dst.set(3, ranges('7 OWNED'));
    expect(src.counts()).toEqual({ owned: 1023, migrating: 0, importing: 0 });
    expect(dst.counts()).toEqual({ owned: 1, migrating: 0, importing: 0 });
    expect(src.ranges().map((r) => [r.start, r.end, r.state, r.peer])).toEqual([
      [0, 6, SlotState.Owned, null], [7, 7, SlotState.None, '10.0.0.2:7000'], [8, 1023, SlotState.Owned, null],
    ]);
  });

  it('CONFIRM needs exactly the node epoch', () => {
    const own = memOwnership();
    own.set(4, ranges('0 OWNED'));
    expect(own.confirm(3)).toMatch(/^STALEEPOCH/);
    expect(own.confirm(5)).toMatch(/^ERR cannot confirm epoch 5: this node is at epoch 4/);
    expect(own.confirm(4)).toBeNull();
  });
});

describe('SET arguments', () => {
  it('parses several groups with lists of ranges', () => {
    const parsed = parseSetArgs(['9', '0-3,8', 'OWNED', '4-7', 'importing', 'h:1', '9', 'none']);
    expect(parsed).toEqual({
      epoch: 9,
      ranges: [
        { start: 0, end: 3, state: SlotState.Owned, peer: null },
        { start: 8, end: 8, state: SlotState.Owned, peer: null },
        { start: 4, end: 7, state: SlotState.Importing, peer: 'h:1' },
        { start: 9, end: 9, state: SlotState.None, peer: null },
      ],
    });
  });

  it.each([
    [['0', '1', 'OWNED'], /invalid configuration epoch/],
    [['-1', '1', 'OWNED'], /invalid configuration epoch/],
    [['x', '1', 'OWNED'], /invalid configuration epoch/],
    [['1', '1024', 'OWNED'], /invalid slot range '1024'/],
    [['1', '5-2', 'OWNED'], /invalid slot range/],
    [['1', '1', 'MINE'], /syntax error: expected OWNED/],
    [['1', '1', 'MIGRATING'], /MIGRATING needs a host:port/],
    [['1', '1', 'IMPORTING', 'nohost'], /IMPORTING needs a host:port/],
    [['1', '1', 'NONE', 'OWNER', 'h:0'], /invalid OWNER address/],
    [['1', '1-3', 'OWNED', '3', 'NONE'], /slot 3 is named more than once/],
  ])('refuses %j', (args, error) => {
    const parsed = parseSetArgs(args);
    expect('error' in parsed && parsed.error).toMatch(error);
  });
});

describe('persistence', () => {
  it('round-trips through the file; the loaded state is unconfirmed until CONFIRM', () => {
    const { own, path } = fileOwnership();
    expect(own.set(7, ranges('0-99 OWNED 100 MIGRATING 10.0.0.2:7000 101 IMPORTING 10.0.0.3:7000 102-1023 NONE OWNER 10.0.0.4:7000'))).toBeNull();
    const text = readFileSync(path, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ version: 1, epoch: 7 });
    const { own: again } = fileOwnership(join(path, '..'));
    expect(again.load()).toBe(true);
    expect(again.ranges()).toEqual(own.ranges());
    expect(again.epoch).toBe(7);
    expect(again.confirmed).toBe(false);
    expect(again.confirm(7)).toBeNull();
    expect(again.confirmed).toBe(true);
  });

  it('a newer SET after a restart lifts the fence too; a replayed one (confirm=false) does not', () => {
    const { own, path } = fileOwnership();
    own.set(2, ranges('0 OWNED'));
    const { own: again } = fileOwnership(join(path, '..'));
    again.load();
    expect(again.set(3, ranges('1 OWNED'), false)).toBeNull();
    expect(again.confirmed).toBe(false);
    expect(again.set(4, ranges('2 OWNED'))).toBeNull();
    expect(again.confirmed).toBe(true);
    expect(again.confirm(4, false)).toBeNull();
  });

  it('a node that lost its file but replays SETs from its AOF is fenced until confirmed', () => {
    const { own } = fileOwnership();
    expect(own.load()).toBe(false);
    expect(own.confirmed).toBe(true);
    expect(own.set(6, ranges('0-9 OWNED'), false)).toBeNull();
    expect(own.confirmed).toBe(false);
    expect(own.confirm(6, false)).toBeNull();
    expect(own.confirmed).toBe(false);
    expect(own.confirm(6)).toBeNull();
    expect(own.confirmed).toBe(true);
  });

  it('no file: a fresh node; a corrupt file: refuses to start', () => {
    const { own, path } = fileOwnership();
    expect(own.load()).toBe(false);
    writeFileSync(path, '{"version":1,"epoch":3,"slots":[[0,2000,"owned",null]]}');
    expect(() => own.load()).toThrow(/bad slot range/);
    writeFileSync(path, 'not json');
    expect(() => own.load()).toThrow();
  });

  it('the file is replaced atomically: no temp file is left behind', () => {
    const { own, path } = fileOwnership();
    own.set(1, ranges('0 OWNED'));
    own.set(2, ranges('1 OWNED'));
    const dir = join(path, '..');
    expect(readdirSync(dir)).toEqual(['slots.json']);
  });

  it('a replica adopts its master state wholesale (epoch and confirmation included)', () => {
    const master = memOwnership();
    master.set(9, ranges('0-511 OWNED 512-1023 NONE OWNER 10.0.0.9:7000'));
    const { own: replica, path } = fileOwnership();
    replica.set(12, ranges('0-1023 OWNED'));
    replica.adoptFromMaster(master.auxValue());
    expect(replica.epoch).toBe(9);
    expect(replica.ranges()).toEqual(master.ranges());
    expect(replica.confirmed).toBe(true);
    expect(parseState(readFileSync(path, 'utf8')).epoch).toBe(9);
    replica.adoptFromMaster(undefined);
    expect(replica.epoch).toBe(9);
    replica.adoptFromMaster('garbage');
    expect(replica.epoch).toBe(9);
    expect(logs.some((l) => l.includes("Ignoring the master's slot ownership"))).toBe(true);
  });
});

describe('command table', () => {
  it('the proxy denies ownership commands and ASKING to its clients; they are admin and noscript on the node', () => {
    const top = lookupCommand('TESSERA.SLOTS')!;
    expect(top.proxy).toBe('deny');
    expect(lookupCommand('asking')!.proxy).toBe('deny');
    expect([...top.subcommands!.keys()].sort()).toEqual(['confirm', 'get', 'set', 'stats']);
    for (const sub of top.subcommands!.values()) {
      expect(sub.proxy, sub.name).toBe('deny');
      expect(sub.flags.has('admin') && sub.flags.has('noscript'), sub.name).toBe(true);
      expect(sub.flags.has('write'), sub.name).toBe(false);
    }
  });
});

describe('routing checks (SlotRouting)', () => {
  // A session stand-in: what the checks read (its db's key existence and its MULTI queue).
  function setup(present: string[] = [], role: 'master' | 'slave' = 'master') {
    const own = memOwnership();
    const keys = new Set(present);
    const master = { multi: null, db: { exists: (k: string) => keys.has(k) } } as unknown as Session;
    const s = { multi: null as string[][] | null, db: { exists: (k: string) => keys.has(k) } } as unknown as Session & { multi: string[][] | null };
    const routing = new SlotRouting(own, { isMasterClient: (c) => c === master, role });
    const check = (...args: string[]) => {
      const spec = lookupCommand(args[0]!)!;
      const top = spec;
      return routing.redirect(s, spec, args, routing.takeAsking(s, top));
    };
    return { own, routing, s, master, check };
  }
  const tagSlot = slotOf('{t}');

  it('owned runs, not owned MOVED or CLUSTERDOWN, keyless always runs, cross-slot CROSSSLOT', () => {
    const { own, check } = setup();
    expect(check('GET', '{t}a')).toBe('CLUSTERDOWN Hash slot not served');
    expect(check('PING')).toBeNull();
    own.set(1, ranges(`${tagSlot} NONE OWNER h:1`));
    expect(check('GET', '{t}a')).toBe(`MOVED ${tagSlot} h:1`);
    own.set(2, ranges(`${tagSlot} OWNED`));
    expect(check('GET', '{t}a')).toBeNull();
    expect(check('MSET', '{t}a', '1', '{t}b', '2')).toBeNull();
    expect(check('MSET', '{t}a', '1', 'other', '2')).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    // Movable keys go through the table's key rules.
    expect(check('ZUNIONSTORE', '{t}d', '2', '{t}a', 'zzz')).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    expect(check('ZUNIONSTORE', '{t}d', '2', '{t}a', '{t}b')).toBeNull();
  });

  it('migrating: all present run, none present ASK, a mix TRYAGAIN (a repeated key counts as one key)', () => {
    const { own, check } = setup(['{t}here']);
    own.set(1, ranges(`${tagSlot} MIGRATING h:2`));
    expect(check('GET', '{t}here')).toBeNull();
    expect(check('GET', '{t}gone')).toBe(`ASK ${tagSlot} h:2`);
    expect(check('MGET', '{t}gone', '{t}gone')).toBe(`ASK ${tagSlot} h:2`);
    expect(check('MGET', '{t}here', '{t}gone')).toBe('TRYAGAIN Multiple keys request during rehashing of slot');
  });

  it('importing: MOVED to the source unless right after ASKING; ASKING is one-shot outside MULTI', () => {
    const { own, routing, s, check } = setup(['{t}arrived']);
    own.set(1, ranges(`${tagSlot} IMPORTING h:3`));
    expect(check('GET', '{t}x')).toBe(`MOVED ${tagSlot} h:3`);
    routing.setAsking(s);
    expect(check('GET', '{t}x')).toBeNull();
    expect(check('GET', '{t}x')).toBe(`MOVED ${tagSlot} h:3`);
    routing.setAsking(s);
    expect(check('MGET', '{t}arrived', '{t}x')).toBe('TRYAGAIN Multiple keys request during rehashing of slot');
    routing.setAsking(s);
    expect(check('MGET', '{t}x', '{t}x')).toBeNull();
    routing.setAsking(s);
    expect(check('PING')).toBeNull();
    expect(check('GET', '{t}x')).toBe(`MOVED ${tagSlot} h:3`);
  });

  it('EXEC is checked over its queued commands together', () => {
    const { own, s, check } = setup();
    own.set(1, ranges(`${tagSlot} OWNED`));
    s.multi = [['SET', '{t}a', '1'], ['GET', 'other']];
    expect(check('EXEC')).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    s.multi = [['SET', '{t}a', '1'], ['GET', '{t}b']];
    expect(check('EXEC')).toBeNull();
  });

  it('the master link is never redirected; the restart fence refuses writes on a master only', () => {
    const { own, routing, master, s } = setup();
    expect(routing.redirect(master, lookupCommand('set')!, ['SET', 'k', 'v'], false)).toBeNull();
    const { own: loaded, path } = fileOwnership();
    loaded.set(3, ranges('0-1023 OWNED'));
    own.adoptFromMaster(loaded.auxValue());
    const restarted = fileOwnership(join(path, '..')).own;
    restarted.load();
    const fenced = new SlotRouting(restarted, { isMasterClient: () => false, role: 'master' });
    expect(fenced.fence(s, lookupCommand('set')!)).toBe('TRYAGAIN slot ownership not confirmed since restart');
    expect(fenced.fence(s, lookupCommand('get')!)).toBeNull();
    s.multi = [['INCR', 'k']];
    expect(fenced.fence(s, lookupCommand('exec')!)).toBe('TRYAGAIN slot ownership not confirmed since restart');
    s.multi = null;
    const replica = new SlotRouting(restarted, { isMasterClient: () => false, role: 'slave' });
    expect(replica.fence(s, lookupCommand('set')!)).toBeNull();
    restarted.confirm(3);
    expect(fenced.fence(s, lookupCommand('set')!)).toBeNull();
  });
});
