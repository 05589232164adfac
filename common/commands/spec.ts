// Types of the declarative command table: one CommandSpec per command (and per subcommand).
// The node dispatches from it, the proxy extracts keys and splits from it, COMMAND answers from it.

/** Redis 7 command flags, as COMMAND prints them. */
export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'admin' | 'pubsub' | 'noscript' | 'blocking' | 'loading' | 'stale'
  | 'skip_monitor' | 'skip_slowlog' | 'fast' | 'no_auth' | 'may_replicate' | 'sentinel' | 'no_multi'
  | 'no_mandatory_keys' | 'allow_busy' | 'no_async_loading' | 'movablekeys';

/** Commands whose key positions depend on their arguments (see keys.ts). */
export type MovableKeysRule =
  | 'numkeysAt1'      // ZUNION/ZINTER/ZDIFF/SINTERCARD/ZINTERCARD/LMPOP/ZMPOP: numkeys key…
  | 'numkeysAt2'      // BLMPOP/BZMPOP: timeout numkeys key…; ZUNIONSTORE…: dest numkeys key…
  | 'storeNumkeysAt2' // ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE: destination numkeys key…
  | 'sort'            // SORT key … [STORE dest]
  | 'eval'            // EVAL script numkeys key…
  | 'migrate'         // MIGRATE host port key|"" … [KEYS k…]
  | 'georadius'       // GEORADIUS key lon lat r unit … [STORE k] [STOREDIST k]
  | 'georadiusbymember' // GEORADIUSBYMEMBER key member r unit … [STORE k] [STOREDIST k]
  | 'xread';          // XREAD/XREADGROUP [options] STREAMS key… id…

/**
 * How the proxy handles a command:
 * single — every key must hash to one slot (else CROSSSLOT), forwarded whole;
 * perKey:<merge> — split per backend and merged (array like MGET, allOk like MSET, sum like DEL);
 * allShards:<merge> — sent to every group and merged; local — answered by the proxy itself;
 * pubsub, blocking, transaction, scan, info — dedicated proxy paths; deny — refused with a reason.
 */
export type ProxyPolicy =
  | 'single' | 'perKey:array' | 'perKey:allOk' | 'perKey:sum'
  | 'allShards:sum' | 'allShards:concat' | 'allShards:allOk' | 'allShards:random' | 'allShards:every'
  | 'local' | 'pubsub' | 'blocking' | 'transaction' | 'scan' | 'info' | 'deny';

export type CommandGroup =
  | 'generic' | 'string' | 'list' | 'hash' | 'set' | 'sorted-set' | 'pubsub' | 'transactions'
  | 'connection' | 'server' | 'cluster' | 'scripting';

export interface CommandSpec {
  /** Lower-case name; subcommands are "container|sub" (Redis's fullname). */
  readonly name: string;
  /** Number of arguments including the name; negative = at least -arity. */
  readonly arity: number;
  readonly flags: ReadonlySet<CommandFlag>;
  /** Key positions: first, last (negative counts from the end), step; 0,0,0 = no keys. */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly movableKeys?: MovableKeysRule;
  readonly proxy: ProxyPolicy;
  /** Why the proxy refuses it (for 'deny'). */
  readonly denyReason?: string;
  readonly group: CommandGroup;
  /** Subcommands of a container command (CONFIG, CLIENT …), keyed by lower-case name. */
  readonly subcommands?: ReadonlyMap<string, CommandSpec>;
}
