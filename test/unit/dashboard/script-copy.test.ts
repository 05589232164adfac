// ScriptCopier against a fake node API: libraries restored only when the dumps differ, scripts
// paged and loaded only where the target lacks them, a plain redis-server source (no
// TESSERA.SCRIPTS) copies functions only and says so, and a failed copy throws naming both groups
// and records an event (a slots-assign copy logs it instead of throwing).
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../../dashboard/coordinator/events.js';
import type { ScriptingApi, ScriptsPage } from '../../../dashboard/coordinator/node-client.js';
import { ScriptCopier } from '../../../dashboard/coordinator/script-copy.js';

interface FakeNode {
  dump: Buffer | null;
  libraries: number;
  /** null: no TESSERA.SCRIPTS */
  scripts: Array<{ sha: string; body: string }> | null;
  down?: boolean;
}

function fakeApi(nodes: Record<string, FakeNode>, pageSize = 2) {
  const calls: string[] = [];
  const node = (addr: string) => {
    const n = nodes[addr]!;
    if (n.down) throw new Error(`${addr} is not reachable (connection closed)`);
    return n;
  };
  const api: ScriptingApi = {
    async functionDump(addr) { calls.push(`dump ${addr}`); return node(addr).dump; },
    async functionRestore(addr, payload) { calls.push(`restore ${addr}`); const n = node(addr); n.dump = payload; },
    async functionLibraryCount(addr) { return node(addr).libraries; },
    async scriptsPage(addr, cursor): Promise<ScriptsPage | null> {
      calls.push(`page ${addr} ${cursor}`);
      const all = node(addr).scripts;
      if (all === null) return null;
      const scripts = all.slice(cursor, cursor + pageSize);
      return { next: cursor + pageSize < all.length ? cursor + pageSize : 0, scripts };
    },
    async scriptsExist(addr, shas) { const have = new Set((node(addr).scripts ?? []).map((s) => s.sha)); return shas.map((s) => have.has(s)); },
    async scriptLoad(addr, body) { calls.push(`load ${addr} ${body}`); node(addr).scripts!.push({ sha: `sha-${body}`, body }); return `sha-${body}`; },
  };
  return { api, calls };
}

const script = (body: string) => ({ sha: `sha-${body}`, body });

function copier(api: ScriptingApi) {
  const events: EventInput[] = [];
  const logs: string[] = [];
  return { c: new ScriptCopier(api, { append: (e) => events.push(e) }, (m) => logs.push(m)), events, logs };
}

describe('ScriptCopier', () => {
  it('restores the source dump when it differs and loads the scripts the target lacks, page by page', async () => {
    const nodes = {
      a: { dump: Buffer.from('libs-a'), libraries: 2, scripts: [script('s1'), script('s2'), script('s3')] },
      b: { dump: Buffer.from('empty'), libraries: 0, scripts: [script('s2')] },
    };
    const { api, calls } = fakeApi(nodes);
    const { c, events, logs } = copier(api);
    expect(await c.copy({ group: 1, addr: 'a' }, { group: 2, addr: 'b' })).toEqual({ libraries: 2, scripts: 2, scriptsUnsupported: false });
    expect(nodes.b.dump.toString()).toBe('libs-a');
    expect(calls.filter((x) => x.startsWith('load') || x.startsWith('page'))).toEqual(['page a 0', 'load b s1', 'page a 2', 'load b s3']);
    expect(events).toEqual([{ type: 'scripts-copied', group: 2, message: 'copied 2 libraries and 2 scripts from group 1 to group 2', details: { from: 1, to: 2, libraries: 2, scripts: 2 } }]);
    expect(logs).toEqual([]);
    // Again: nothing differs, nothing is written, no event.
    calls.length = 0;
    expect(await c.copy({ group: 1, addr: 'a' }, { group: 2, addr: 'b' })).toEqual({ libraries: 0, scripts: 0, scriptsUnsupported: false });
    expect(calls.filter((x) => x.startsWith('restore') || x.startsWith('load'))).toEqual([]);
    expect(events).toHaveLength(1);
  });

  it('a source without TESSERA.SCRIPTS (plain redis-server): functions only, and the log says scripts were not copied', async () => {
    const nodes = { a: { dump: Buffer.from('libs'), libraries: 1, scripts: null }, b: { dump: null, libraries: 0, scripts: [] } };
    const { api } = fakeApi(nodes);
    const { c, events, logs } = copier(api);
    expect(await c.copy({ group: 1, addr: 'a' }, { group: 3, addr: 'b' })).toEqual({ libraries: 1, scripts: 0, scriptsUnsupported: true });
    expect(logs).toEqual(['group 1 (a) has no TESSERA.SCRIPTS (not a Tessera node?): cached scripts were not copied to group 3, only function libraries']);
    expect(events.map((e) => e.message)).toEqual(['copied 1 libraries and 0 scripts from group 1 to group 3']);
  });

  it('an unreachable target fails the copy with both groups named and a scripts-copy-failed event; an assign copy logs it', async () => {
    const nodes = { a: { dump: Buffer.from('libs'), libraries: 1, scripts: [script('s1')] }, b: { dump: null, libraries: 0, scripts: [], down: true } };
    const { api } = fakeApi(nodes);
    const { c, events, logs } = copier(api);
    const want = 'copying libraries and scripts from group 1 (a) to group 2 (b) failed: b is not reachable (connection closed)';
    await expect(c.copy({ group: 1, addr: 'a' }, { group: 2, addr: 'b' })).rejects.toThrow(want);
    expect(events).toEqual([{ type: 'scripts-copy-failed', group: 2, message: want, details: { from: 1, to: 2 } }]);
    await c.copyForAssign({ group: 1, addr: 'a' }, { group: 2, addr: 'b' });
    expect(logs).toEqual([`${want}; the slots are assigned anyway`]);
    // The same failure again within a minute (a retried prepare) is not another event.
    expect(events).toHaveLength(1);
    // Once it works, a later failure is an event again.
    nodes.b.down = false;
    await c.copy({ group: 1, addr: 'a' }, { group: 2, addr: 'b' });
    nodes.b.down = true;
    await expect(c.copy({ group: 1, addr: 'a' }, { group: 2, addr: 'b' })).rejects.toThrow(want);
    expect(events.map((e) => e.type)).toEqual(['scripts-copy-failed', 'scripts-copied', 'scripts-copy-failed']);
  });
});
