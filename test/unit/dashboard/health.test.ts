// Health checks without servers: INFO replication parsing, the health table over a fake probe
// (down since the last answer, lag behind the master, servers that left the groups forgotten),
// the choice of the replica to promote (offset, then priority; 0 never), and the event log's cap.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Group } from '../../../common/model.js';
import { FileStore } from '../../../common/store/file-store.js';
import { EventLog } from '../../../dashboard/coordinator/events.js';
import { HealthTable, type NodeProbe, type ProbeResult, type ServerHealth, chooseReplica, parseReplicationInfo } from '../../../dashboard/coordinator/health.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

class FakeProbe implements NodeProbe {
  answers = new Map<string, ProbeResult | Error>();
  async probe(addr: string): Promise<ProbeResult> {
    const a = this.answers.get(addr);
    if (!a) throw new Error('connection refused');
    if (a instanceof Error) throw a;
    return a;
  }
  async close(): Promise<void> {}
}

const replica = (offset: number, priority = 100, linkUp = true): ProbeResult => ({ role: 'replica', masterAddr: 'h:1', linkUp, offset, priority, replid: 'r' });
const health = (addr: string, over: Partial<ServerHealth>): ServerHealth => ({
  addr, group: 1, storeRole: 'replica', reachable: true, lastSeen: 0, downSince: null, lastError: null,
  role: 'replica', masterAddr: 'h:1', linkUp: true, offset: 100, priority: 100, lagBytes: 0, ...over,
});

describe('health', () => {
  it('parses INFO replication of a master and of a replica', () => {
    expect(parseReplicationInfo('# Replication\r\nrole:master\r\nconnected_slaves:1\r\nmaster_replid:abc\r\nmaster_repl_offset:1234\r\n')).toEqual({
      role: 'master', masterAddr: null, linkUp: true, offset: 1234, priority: 100, replid: 'abc',
    });
    expect(parseReplicationInfo('role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\nmaster_link_status:down\r\nslave_repl_offset:99\r\nslave_priority:0\r\nmaster_replid:x\r\n')).toEqual({
      role: 'replica', masterAddr: '127.0.0.1:7001', linkUp: false, offset: 99, priority: 0, replid: 'x',
    });
  });

  it('keeps reachability, down-since (from the last answer), lag and last-seen; forgets servers that left', async () => {
    const probe = new FakeProbe();
    const table = new HealthTable(probe);
    const group: Group = { id: 1, servers: [{ addr: 'h:1', role: 'master' }, { addr: 'h:2', role: 'replica' }] };
    probe.answers.set('h:1', { role: 'master', masterAddr: null, linkUp: true, offset: 500, priority: 100, replid: 'm' });
    probe.answers.set('h:2', replica(420));
    let t = 1000;
    await table.check([group], 100, [], () => t);
    expect(table.get('h:2')).toMatchObject({ reachable: true, lastSeen: 1000, lagBytes: 80, offset: 420, storeRole: 'replica' });
    expect(table.downFor('h:1', 1000)).toBe(0);
    probe.answers.delete('h:1');
    t = 1250;
    await table.check([group], 100, [], () => t);
    expect(table.get('h:1')).toMatchObject({ reachable: false, downSince: 1000, lastError: 'connection refused', lastSeen: 1000 });
    expect(table.downFor('h:1', 2100)).toBe(1100);
    await table.check([{ id: 1, servers: [{ addr: 'h:2', role: 'master' }] }], 100, [], () => t);
    expect(table.get('h:1')).toBeUndefined();
    expect(table.get('h:2')?.storeRole).toBe('master');
  });

  it('promotes the highest offset; ties go to the lower priority; priority 0 and unreachable replicas never', () => {
    expect(chooseReplica([health('a:1', { offset: 90 }), health('b:1', { offset: 100 })])).toEqual({ addr: 'b:1' });
    expect(chooseReplica([health('a:1', { offset: 100, priority: 50 }), health('b:1', { offset: 100, priority: 10 })])).toEqual({ addr: 'b:1' });
    expect(chooseReplica([health('a:1', { offset: 999, priority: 0 }), health('b:1', { offset: 1 })])).toEqual({ addr: 'b:1' });
    const none = chooseReplica([health('a:1', { priority: 0 }), health('b:1', { reachable: false, lastError: 'refused' }), health('m:1', { storeRole: 'master' })]);
    expect(none).toEqual({ addr: null, reasons: ['a:1 has replica-priority 0 (never promoted)', 'b:1 is unreachable (refused)'] });
    expect(chooseReplica([])).toEqual({ addr: null, reasons: ['the group has no replica'] });
  });

  it('the event log keeps at most its cap in the store, newest last', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-events-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const store = await FileStore.open(dir);
    cleanup.push(() => store.close());
    const logged: string[] = [];
    const log = new EventLog(store, 'ev', (fields, msg) => logged.push(`${String(fields.event)} ${msg}`), 30);
    for (let i = 0; i < 75; i++) log.append({ type: 'test', group: 1 + (i % 2), message: `event ${i}` });
    await log.flush();
    await log.prune();
    const all = await log.list({ limit: 1000 });
    expect(all).toHaveLength(30);
    expect(all.map((e) => e.message)).toEqual(Array.from({ length: 30 }, (_, i) => `event ${45 + i}`));
    expect((await log.list({ group: 2, limit: 5 })).map((e) => e.message)).toEqual(['event 65', 'event 67', 'event 69', 'event 71', 'event 73']);
    expect(logged).toHaveLength(75);
    expect(logged[0]).toBe('test event 0');
  });
});
