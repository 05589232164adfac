// Redis 7.0 function libraries (functions.c): the libraries by name and their functions by name
// (case-insensitive, as Redis's dict), FUNCTION LOAD's metadata line and checks, and the payload
// FUNCTION DUMP/RESTORE and the RDB carry (one RDB_OPCODE_FUNCTION2 + library code per library).
// Code runs in the server's one Lua VM (lua-vm.ts); replies are the handler's job.
import { crc64Update, writeCrc64LE } from '../persistence/crc64.js';
import { verifyDumpPayload } from '../persistence/dump.js';
import { RDB_OPCODE, RDB_VERSION, RdbFormatError } from '../persistence/rdb-constants.js';
import { readLibrary } from '../persistence/rdb-file.js';
import { RdbReader } from '../persistence/rdb-reader.js';
import { RdbWriter } from '../persistence/rdb-writer.js';
import type { NodeServer } from '../server.js';
import { type RegisteredFunction, validName } from './library-load.js';
import { splitArgs } from './shebang.js';
import type { LuaVm } from './lua-vm.js';
import { scriptRunner } from './runner.js';

export const ENGINE = 'LUA';
/** FUNCTION LOAD's limit on a library's top-level code (functions.c LOAD_TIMEOUT_MS). */
export const LOAD_TIMEOUT_MS = 500;

export interface Library {
  readonly name: string;
  /** The whole payload, shebang line included (what DUMP, the RDB and LIST WITHCODE carry). */
  readonly code: string;
  readonly functions: readonly RegisteredFunction[];
}

export interface FunctionEntry {
  readonly fn: RegisteredFunction;
  readonly library: Library;
}

export type RestorePolicy = 'flush' | 'append' | 'replace';

const NAME_ERR = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** functionExtractLibMetaData: "#!<engine> name=<lib>\n<code>". */
function parseMetadata(payload: string): { engine: string; name: string; code: string } | { error: string } {
  if (!payload.startsWith('#!')) return { error: 'Missing library metadata' };
  const eol = payload.indexOf('\n');
  if (eol < 0) return { error: 'Invalid library metadata' };
  const parts = splitArgs(payload.slice(0, eol));
  if (parts === null || parts.length === 0) return { error: 'Invalid library metadata' };
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== 'name=') return { error: `Invalid metadata value given: ${part}` };
    if (name !== null) return { error: 'Invalid metadata value, name argument was given multiple times' };
    name = part.slice(5);
  }
  if (name === null) return { error: 'Library name was not given' };
  // The code keeps the shebang's newline, so Lua's line numbers count the shebang line.
  return { engine: parts[0]!.slice(2), name, code: payload.slice(eol) };
}

export class FunctionLibraries {
  private readonly libraries = new Map<string, Library>();
  private readonly functions = new Map<string, FunctionEntry>();

  constructor(private readonly vm: LuaVm) {}

  get libraryCount(): number {
    return this.libraries.size;
  }

  get functionCount(): number {
    return this.functions.size;
  }

  /** The function FCALL names (any letter case), or undefined. */
  lookup(name: string): FunctionEntry | undefined {
    return this.functions.get(name.toLowerCase());
  }

  all(): IterableIterator<Library> {
    return this.libraries.values();
  }

  /** FUNCTION LOAD (functionsCreateWithLibraryCtx): the library's name, or Redis's error text. */
  load(payload: string, replace: boolean, timeoutMs: number): string | { error: string } {
    const lib = this.compile(payload, timeoutMs, (name) => (!replace && this.libraries.has(name) ? `Library '${name}' already exists` : null));
    if ('error' in lib) return lib;
    const old = this.libraries.get(lib.name);
    const clash = this.clash(lib, old === undefined ? [] : [old]);
    if (clash !== null) {
      this.release(lib);
      return { error: clash };
    }
    if (old !== undefined) this.unlink(old);
    this.link(lib);
    return lib.name;
  }

  /** FUNCTION DELETE: false when there is no such library. */
  delete(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    this.unlink(lib);
    return true;
  }

  flush(): void {
    for (const lib of [...this.libraries.values()]) this.unlink(lib);
  }

  /** FUNCTION DUMP: every library as FUNCTION2 + code, then the RDB version and CRC-64. */
  dump(compression: boolean): Buffer {
    const w = new RdbWriter({ compression });
    this.writeRdb(w);
    w.writeUInt16LE(RDB_VERSION);
    const body = w.view();
    const out = Buffer.allocUnsafe(body.length + 8);
    body.copy(out, 0);
    writeCrc64LE(crc64Update({ lo: 0, hi: 0 }, body), out, body.length);
    return out;
  }

  /** The libraries as the RDB writes them (rdbSaveFunctions), right after the AUX fields. */
  writeRdb(w: RdbWriter): void {
    for (const lib of this.libraries.values()) {
      w.writeByte(RDB_OPCODE.FUNCTION2);
      w.writeString(lib.code);
    }
  }

  /** The payloads in RDB order (for the snapshot writers, which hold no reference to us). */
  codes(): string[] {
    return [...this.libraries.values()].map((lib) => lib.code);
  }

  /** FUNCTION RESTORE: null on success, else Redis's error text (nothing changed then). */
  restore(payload: Buffer, policy: RestorePolicy): string | null {
    if (!verifyDumpPayload(payload)) return 'DUMP payload version or checksum are wrong';
    const r = new RdbReader(payload, 0, payload.length - 10);
    const codes: string[] = [];
    try {
      while (r.remaining > 0) {
        const type = r.readByte();
        if (type !== RDB_OPCODE.FUNCTION2 && type !== RDB_OPCODE.FUNCTION) return 'given type is not a function';
        codes.push(readLibrary(r, type));
      }
    } catch (err) {
      if (err instanceof RdbFormatError) return 'failed loading the given functions payload';
      throw err;
    }
    return this.replaceWith(codes, policy);
  }

  /**
   * Installs libraries read from an RDB or a RESTORE payload as one step: all of them or none.
   * `flush` replaces every library (a full resync, a fresh load); `append` fails on any name
   * already present; `replace` swaps same-named ones (libraryJoin).
   */
  replaceWith(codes: readonly string[], policy: RestorePolicy): string | null {
    const fresh: Library[] = [];
    const fail = (error: string): string => {
      for (const lib of fresh) this.release(lib);
      return error;
    };
    for (const code of codes) {
      const lib = this.compile(code, 0, (name) => (fresh.some((l) => l.name === name) ? `Library '${name}' already exists` : null));
      if ('error' in lib) return fail(lib.error);
      const clash = this.clashAmong(lib, fresh);
      if (clash !== null) {
        this.release(lib);
        return fail(clash);
      }
      fresh.push(lib);
    }
    const replaced: Library[] = [];
    if (policy === 'flush') replaced.push(...this.libraries.values());
    else {
      for (const lib of fresh) {
        const old = this.libraries.get(lib.name);
        if (old === undefined) continue;
        if (policy === 'append') return fail(`Library ${lib.name} already exists`);
        replaced.push(old);
      }
    }
    for (const lib of fresh) {
      const clash = this.clash(lib, replaced);
      if (clash !== null) return fail(clash);
    }
    for (const old of replaced) this.unlink(old);
    for (const lib of fresh) this.link(lib);
    return null;
  }

  /** Metadata, engine, name checks, then the code runs to register its functions. */
  private compile(payload: string, timeoutMs: number, exists: (name: string) => string | null): Library | { error: string } {
    const md = parseMetadata(payload);
    if ('error' in md) return md;
    if (!validName(md.name)) return { error: NAME_ERR };
    if (md.engine.toUpperCase() !== ENGINE) return { error: `Engine '${md.engine}' not found` };
    const taken = exists(md.name);
    if (taken !== null) return { error: taken };
    const functions = this.vm.loadLibrary(md.code, timeoutMs);
    if ('error' in functions) return functions;
    const lib: Library = { name: md.name, code: payload, functions };
    if (functions.length === 0) {
      this.release(lib);
      return { error: 'No functions registered' };
    }
    return lib;
  }

  /** A function of `lib` already registered by a library other than those in `leaving`. */
  private clash(lib: Library, leaving: readonly Library[]): string | null {
    for (const f of lib.functions) {
      const other = this.functions.get(f.name.toLowerCase());
      if (other !== undefined && !leaving.includes(other.library)) return `Function ${f.name} already exists`;
    }
    return null;
  }

  private clashAmong(lib: Library, others: readonly Library[]): string | null {
    for (const f of lib.functions) {
      const lower = f.name.toLowerCase();
      if (others.some((o) => o.functions.some((g) => g.name.toLowerCase() === lower))) return `Function ${f.name} already exists`;
    }
    return null;
  }

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    // dictAdd: of two names differing in case only within one library, the first is FCALL's.
    for (const fn of lib.functions) {
      const lower = fn.name.toLowerCase();
      if (!this.functions.has(lower)) this.functions.set(lower, { fn, library: lib });
    }
  }

  /** Removes a library and frees its functions' Lua references. */
  private unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const fn of lib.functions) {
      const lower = fn.name.toLowerCase();
      if (this.functions.get(lower)?.library === lib) this.functions.delete(lower);
    }
    this.release(lib);
  }

  private release(lib: Library): void {
    for (const fn of lib.functions) this.vm.release(fn.ref);
  }
}

const registries = new WeakMap<object, FunctionLibraries>();

/** The server's libraries (created with the first use, in the script runner's VM). */
export function functionLibraries(server: NodeServer): FunctionLibraries {
  let libs = registries.get(server);
  if (libs === undefined) {
    libs = new FunctionLibraries(scriptRunner(server).lua);
    registries.set(server, libs);
  }
  return libs;
}

/**
 * The libraries' payloads, for the RDB writers. `host` is the NodeServer (persistence and
 * replication know it by narrower interfaces); none when no library was ever loaded.
 */
export function libraryCodes(host: object): string[] {
  return registries.get(host)?.codes() ?? [];
}

/**
 * Installs the libraries an RDB carried, all or none (see replaceWith); null or the error text.
 * Touches no VM when there is nothing to install and nothing installed.
 */
export function installLibraries(host: object, codes: readonly string[], policy: RestorePolicy): string | null {
  if (codes.length === 0 && (registries.get(host)?.libraryCount ?? 0) === 0) return null;
  return functionLibraries(host as NodeServer).replaceWith(codes, policy);
}
