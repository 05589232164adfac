// The command table: every entry well-formed, table ↔ node handlers covered both ways, and key
// extraction (fixed positions and movable-key rules) as Redis's COMMAND GETKEYS computes it.
import { describe, expect, it } from 'vitest';
import { keyIndexes } from '../../../common/commands/keys.js';
import type { CommandFlag, CommandSpec, ProxyPolicy } from '../../../common/commands/spec.js';
import { COMMANDS, arityOk, lookupCommand, lookupSubcommand } from '../../../common/commands/table.js';
import { HANDLERS } from '../../../node/handlers/index.js';

const FLAGS: ReadonlySet<CommandFlag> = new Set<CommandFlag>([
  'write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor',
  'skip_slowlog', 'fast', 'no_auth', 'may_replicate', 'sentinel', 'no_multi', 'no_mandatory_keys', 'allow_busy',
  'no_async_loading', 'movablekeys',
]);
const POLICIES: ReadonlySet<ProxyPolicy> = new Set<ProxyPolicy>([
  'single', 'perKey:array', 'perKey:allOk', 'perKey:sum', 'allShards:sum', 'allShards:concat', 'allShards:allOk',
  'allShards:random', 'allShards:every', 'local', 'pubsub', 'blocking', 'transaction', 'scan', 'info', 'deny',
]);

/** Every spec in the table: top-level commands and their subcommands. */
function allSpecs(): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const spec of COMMANDS.values()) {
    out.push(spec);
    for (const sub of spec.subcommands?.values() ?? []) out.push(sub);
  }
  return out;
}

/** Problems with one spec's shape, as readable strings (empty = well-formed). */
function specProblems(spec: CommandSpec): string[] {
  const p: string[] = [];
  if (!Number.isInteger(spec.arity) || spec.arity === 0) p.push('arity must be a non-zero integer');
  if (spec.name !== spec.name.toLowerCase()) p.push('name must be lower case');
  for (const f of spec.flags) if (!FLAGS.has(f)) p.push(`unknown flag ${f}`);
  if (spec.flags.has('write') && spec.flags.has('readonly')) p.push('both write and readonly');
  if (!POLICIES.has(spec.proxy)) p.push(`unknown proxy policy ${spec.proxy}`);
  if (spec.proxy === 'deny' && !spec.denyReason) p.push('deny policy without a reason');
  if (spec.denyReason && spec.proxy !== 'deny') p.push('deny reason on a command that is not denied');
  if (spec.movableKeys && !spec.flags.has('movablekeys')) p.push('movable keys without the movablekeys flag');
  if (spec.firstKey === 0) {
    if (spec.lastKey !== 0 || spec.keyStep !== 0) p.push('no first key but a last key or step');
  } else {
    if (spec.firstKey < 0) p.push('negative first key');
    if (spec.keyStep < 1) p.push('key step must be ≥ 1');
    if (spec.lastKey >= 0 && spec.lastKey < spec.firstKey) p.push('last key before first key');
    const minArgs = Math.abs(spec.arity);
    // Optional keys are allowed only in a variadic tail (Redis: SUNSUBSCRIBE [shardchannel …]).
    const optionalTail = spec.arity < 0 && spec.lastKey < 0;
    if (spec.firstKey >= minArgs && !optionalTail && !spec.flags.has('no_mandatory_keys')) p.push('first key beyond the minimum arity');
    if (spec.arity > 0 && spec.lastKey >= spec.arity) p.push('last key beyond the fixed arity');
  }
  const hasKeys = spec.firstKey > 0 || spec.movableKeys !== undefined;
  const keyedPolicy = spec.proxy === 'single' || spec.proxy.startsWith('perKey:');
  if (keyedPolicy && !hasKeys && !spec.subcommands) p.push(`policy ${spec.proxy} needs keys`);
  if (spec.proxy.startsWith('perKey:') && spec.movableKeys) p.push('perKey split needs fixed key positions');
  return p;
}

describe('command table entries', () => {
  it('every entry is well-formed', () => {
    const problems = allSpecs().flatMap((s) => specProblems(s).map((msg) => `${s.name}: ${msg}`));
    expect(problems).toEqual([]);
  });

  it('table keys are the spec names; subcommands are "container|sub" and not nested', () => {
    expect(COMMANDS.size).toBeGreaterThan(100);
    for (const [name, spec] of COMMANDS) {
      expect(spec.name).toBe(name);
      expect(name).not.toContain('|');
      for (const [subName, sub] of spec.subcommands ?? []) {
        expect(sub.name).toBe(`${name}|${subName}`);
        expect(Math.abs(sub.arity)).toBeGreaterThanOrEqual(2);
        expect(sub.subcommands).toBeUndefined();
      }
    }
  });

  it('looks commands up in any letter case', () => {
    expect(lookupCommand('GET')).toBe(COMMANDS.get('get'));
    expect(lookupCommand('gEt')).toBe(COMMANDS.get('get'));
    expect(lookupCommand('nosuchcommand')).toBeUndefined();
    const config = lookupCommand('CONFIG')!;
    expect(lookupSubcommand(config, 'GeT')?.name).toBe('config|get');
    expect(lookupSubcommand(config, 'nope')).toBeUndefined();
    expect(arityOk(COMMANDS.get('get')!, 2)).toBe(true);
    expect(arityOk(COMMANDS.get('get')!, 3)).toBe(false);
    expect(arityOk(COMMANDS.get('mset')!, 5)).toBe(true);
    expect(arityOk(COMMANDS.get('mset')!, 2)).toBe(false);
  });

  it('matches Redis 7.0 for well-known commands', () => {
    const shape = (n: string) => {
      const s = COMMANDS.get(n)!;
      return [s.arity, s.firstKey, s.lastKey, s.keyStep];
    };
    expect(shape('get')).toEqual([2, 1, 1, 1]);
    expect(shape('set')).toEqual([-3, 1, 1, 1]);
    expect(shape('mset')).toEqual([-3, 1, -1, 2]);
    expect(shape('mget')).toEqual([-2, 1, -1, 1]);
    expect(shape('del')).toEqual([-2, 1, -1, 1]);
    expect(shape('ping')).toEqual([-1, 0, 0, 0]);
    expect(COMMANDS.get('auth')!.flags.has('no_auth')).toBe(true);
    expect(COMMANDS.get('hello')!.flags.has('no_auth')).toBe(true);
  });
});

describe('table ↔ node handlers coverage', () => {
  it('every command and subcommand has a node handler (containers: their subcommands, and the bare form when arity allows it)', () => {
    const missing: string[] = [];
    for (const [name, spec] of COMMANDS) {
      if (spec.subcommands) {
        for (const sub of spec.subcommands.values()) if (!HANDLERS[sub.name]) missing.push(sub.name);
        // A container callable without a subcommand (COMMAND) needs its own handler for that form.
        if (arityOk(spec, 1) && !HANDLERS[name]) missing.push(name);
      } else if (!HANDLERS[name]) {
        missing.push(name);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every node handler has a table entry', () => {
    const orphans = Object.keys(HANDLERS).filter((name) => {
      const [container, sub] = name.split('|') as [string, string | undefined];
      const top = COMMANDS.get(container);
      if (!top) return true;
      // A container is dispatched to its subcommands, unless it may be called bare (COMMAND).
      if (sub === undefined) return top.subcommands !== undefined && !arityOk(top, 1);
      return top.subcommands?.get(sub) === undefined;
    });
    expect(orphans).toEqual([]);
  });
});

describe('keyIndexes', () => {
  const keysOf = (line: string[]) => {
    const spec = lookupCommand(line[0]!)!;
    return keyIndexes(spec, line);
  };
  const withRule = (rule: NonNullable<CommandSpec['movableKeys']>): CommandSpec => ({ ...COMMANDS.get('get')!, movableKeys: rule });

  it('fixed positions', () => {
    expect(keysOf(['GET', 'k'])).toEqual([1]);
    expect(keysOf(['SET', 'k', 'v', 'EX', '10'])).toEqual([1]);
    expect(keysOf(['MSET', 'a', '1', 'b', '2', 'c', '3'])).toEqual([1, 3, 5]);
    expect(keysOf(['MGET', 'a', 'b', 'c'])).toEqual([1, 2, 3]);
    expect(keysOf(['DEL', 'a'])).toEqual([1]);
    expect(keysOf(['RENAME', 'a', 'b'])).toEqual([1, 2]);
    expect(keysOf(['PING'])).toEqual([]);
    expect(keysOf(['LMOVE', 's', 'd', 'LEFT', 'RIGHT'])).toEqual([1, 2]);
  });

  it('ZUNIONSTORE-style: destination, numkeys, keys', () => {
    expect(keysOf(['ZUNIONSTORE', 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2'])).toEqual([1, 3, 4]);
    expect(keysOf(['ZINTERSTORE', 'dst', '1', 'a'])).toEqual([1, 3]);
    expect(keysOf(['ZDIFFSTORE', 'dst', '3', 'a', 'b'])).toBeNull();
    expect(keysOf(['ZUNIONSTORE', 'dst', '0', 'a'])).toBeNull();
    expect(keysOf(['ZUNIONSTORE', 'dst', 'x', 'a'])).toBeNull();
  });

  it('numkeys first: ZUNION, SINTERCARD, LMPOP, ZMPOP', () => {
    expect(keysOf(['ZUNION', '2', 'a', 'b', 'WITHSCORES'])).toEqual([2, 3]);
    expect(keysOf(['SINTERCARD', '3', 'a', 'b', 'c', 'LIMIT', '1'])).toEqual([2, 3, 4]);
    expect(keysOf(['LMPOP', '2', 'a', 'b', 'LEFT', 'COUNT', '2'])).toEqual([2, 3]);
    expect(keysOf(['ZMPOP', '1', 'z', 'MIN'])).toEqual([2]);
    expect(keysOf(['LMPOP', '3', 'a', 'b'])).toBeNull();
    expect(keysOf(['LMPOP', '-1', 'a', 'LEFT'])).toBeNull();
  });

  it('timeout then numkeys: BLMPOP, BZMPOP', () => {
    expect(keysOf(['BLMPOP', '0', '2', 'a', 'b', 'LEFT'])).toEqual([3, 4]);
    expect(keysOf(['BZMPOP', '1.5', '1', 'z', 'MAX', 'COUNT', '3'])).toEqual([3]);
    expect(keysOf(['BLMPOP', '0', '5', 'a', 'LEFT'])).toBeNull();
  });

  it('SORT … STORE', () => {
    expect(keysOf(['SORT', 'k'])).toEqual([1]);
    expect(keysOf(['SORT', 'k', 'BY', 'w_*', 'LIMIT', '0', '1', 'GET', '#', 'STORE', 'dst'])).toEqual([1, 10]);
    // Words consumed as option values are not STORE keywords.
    expect(keysOf(['SORT', 'k', 'GET', 'store', 'ALPHA'])).toEqual([1]);
    expect(keysOf(['SORT', 'k', 'LIMIT', 'store', '1', 'store', 'd'])).toEqual([1, 6]);
    expect(keysOf(['SORT', 'k', 'STORE'])).toEqual([1]);
    expect(keysOf(['SORT_RO', 'k', 'BY', 'nosort'])).toEqual([1]);
  });

  it('EVAL-style numkeys', () => {
    const evalSpec = withRule('eval');
    expect(keyIndexes(evalSpec, ['EVAL', 'return 1', '2', 'k1', 'k2', 'arg'])).toEqual([3, 4]);
    expect(keyIndexes(evalSpec, ['EVAL', 'return 1', '0'])).toEqual([]);
    expect(keyIndexes(evalSpec, ['EVAL', 'return 1', '0', 'arg'])).toEqual([]);
    expect(keyIndexes(evalSpec, ['EVAL', 'return 1', '3', 'k1'])).toBeNull();
  });

  it('MIGRATE: the key argument or KEYS …', () => {
    const migrate = withRule('migrate');
    expect(keyIndexes(migrate, ['MIGRATE', 'h', '1', 'k', '0', '1000'])).toEqual([3]);
    expect(keyIndexes(migrate, ['MIGRATE', 'h', '1', '', '0', '1000', 'REPLACE', 'KEYS', 'a', 'b'])).toEqual([8, 9]);
  });
});
