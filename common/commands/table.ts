// THE command table: every command the node serves, looked up by name. One source for node
// dispatch, proxy key extraction and splitting, COMMAND, and the coverage tests.
import { unknownCommand, wrongArity } from '../errors.js';
import type { CommandSpec } from './spec.js';
import { bitmapCommands } from './families/bitmap.js';
import { clusterCommands } from './families/cluster.js';
import { connectionCommands } from './families/connection.js';
import { genericCommands } from './families/generic.js';
import { geoCommands } from './families/geo.js';
import { hashCommands } from './families/hash.js';
import { hyperloglogCommands } from './families/hyperloglog.js';
import { listCommands } from './families/list.js';
import { pubsubCommands } from './families/pubsub.js';
import { replicationCommands } from './families/replication.js';
import { scriptingCommands } from './families/scripting.js';
import { serverCommands } from './families/server.js';
import { setCommands } from './families/set.js';
import { sortedSetCommands } from './families/sorted-set.js';
import { streamCommands } from './families/stream.js';
import { stringCommands } from './families/string.js';
import { transactionCommands } from './families/transactions.js';

export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  [
    ...genericCommands, ...stringCommands, ...listCommands, ...hashCommands, ...setCommands,
    ...sortedSetCommands, ...pubsubCommands, ...transactionCommands, ...connectionCommands, ...serverCommands, ...replicationCommands,
    ...clusterCommands, ...bitmapCommands, ...hyperloglogCommands, ...geoCommands, ...scriptingCommands,
    ...streamCommands,
  ].map((spec) => [spec.name, spec]),
);

// Exact-case lookups first (clients send "GET" or "get"), lower-casing only on a miss.
const byExactName = new Map<string, CommandSpec>();
for (const [name, spec] of COMMANDS) {
  byExactName.set(name, spec);
  byExactName.set(name.toUpperCase(), spec);
}

/** The spec for a command name in any letter case, or undefined. */
export function lookupCommand(name: string): CommandSpec | undefined {
  return byExactName.get(name) ?? COMMANDS.get(name.toLowerCase());
}

/** The spec of a container's subcommand (CONFIG GET …), or undefined. */
export function lookupSubcommand(container: CommandSpec, sub: string): CommandSpec | undefined {
  return container.subcommands?.get(sub.toLowerCase());
}

/** True when the argument count fits the arity (negative = at least). */
export function arityOk(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}

/**
 * True when a command whose keys run to the end in groups (MSET's key value pairs) has a group cut
 * short: Redis's MSET answers that with the arity error. Checked by the proxy before it splits the
 * keys; the node leaves it to the command, which Redis runs at EXEC time inside MULTI.
 */
export function keyGroupsCut(spec: CommandSpec, argc: number): boolean {
  return spec.keyStep > 1 && spec.lastKey === -1 && (argc - spec.firstKey) % spec.keyStep !== 0;
}

/**
 * Finds the spec a request runs (the subcommand for containers like CONFIG GET) and checks its
 * arity, with Redis's error texts. A container called alone (bare COMMAND) resolves to itself.
 */
export function resolveCommand(args: readonly string[]): { spec: CommandSpec; top: CommandSpec } | { error: string } {
  const top = lookupCommand(args[0]!);
  if (top === undefined) return { error: unknownCommand(args) };
  if (!arityOk(top, args.length)) return { error: wrongArity(top.name) };
  if (!top.subcommands || args.length === 1) return { spec: top, top };
  const sub = lookupSubcommand(top, args[1]!);
  if (sub === undefined) {
    return { error: `ERR unknown subcommand '${cString(args[1]!).slice(0, 128)}'. Try ${top.name.toUpperCase()} HELP.` };
  }
  if (!arityOk(sub, args.length)) return { error: wrongArity(sub.name) };
  return { spec: sub, top };
}

/** What C's %s prints of a binary argument: everything before the first NUL. */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}
