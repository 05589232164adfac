// The one-line command definition helper used by the family tables.
import type { CommandFlag, CommandGroup, CommandSpec, MovableKeysRule, ProxyPolicy } from './spec.js';

export interface Extra {
  movable?: MovableKeysRule;
  deny?: string;
  subs?: CommandSpec[];
}

/**
 * c('mset', -3, 'write denyoom', [1, -1, 2], 'perKey:allOk') — one command on one line.
 * `keys` is [first, last, step] or null for no keys.
 */
export function defineCommands(group: CommandGroup) {
  return function c(
    name: string,
    arity: number,
    flags: string,
    keys: [number, number, number] | null,
    proxy: ProxyPolicy,
    extra: Extra = {},
  ): CommandSpec {
    const flagSet = new Set(flags.split(/\s+/).filter(Boolean) as CommandFlag[]);
    if (extra.movable) flagSet.add('movablekeys');
    const [firstKey, lastKey, keyStep] = keys ?? [0, 0, 0];
    const spec: CommandSpec = {
      name, arity, flags: flagSet, firstKey, lastKey, keyStep, proxy, group,
      ...(extra.movable ? { movableKeys: extra.movable } : {}),
      ...(extra.deny ? { denyReason: extra.deny } : {}),
      ...(extra.subs ? { subcommands: new Map(extra.subs.map((s) => [s.name.split('|')[1]!, s])) } : {}),
    };
    return spec;
  };
}
