// What this node says about replication: INFO's "# Replication" fields (Redis 7.0 names and order,
// master and replica variants) and the ROLE reply. Reads state only.
import type { NodeServer } from '../server.js';
import type { Session } from '../session.js';

type Field = [string, string | number];

export function replicationInfoFields(server: NodeServer): Field[] {
  const repl = server.replication;
  const config = server.config;
  const now = Date.now();
  const out: Field[] = [['role', repl.role]];
  if (repl.masterHost !== null) {
    const link = repl.link;
    const up = link?.state === 'connected';
    out.push(
      ['master_host', repl.masterHost],
      ['master_port', repl.masterPort],
      ['master_link_status', up ? 'up' : 'down'],
      ['master_last_io_seconds_ago', up && link ? Math.floor((now - link.lastIo) / 1000) : -1],
      ['master_sync_in_progress', link?.state === 'transfer' ? 1 : 0],
      ['slave_read_repl_offset', repl.masterReplOffset],
      ['slave_repl_offset', repl.masterReplOffset],
    );
    if (link?.state === 'transfer') {
      const total = link.transferSize;
      out.push(
        ['master_sync_total_bytes', total],
        ['master_sync_read_bytes', link.transferRead],
        ['master_sync_left_bytes', total < 0 ? -1 : total - link.transferRead],
        ['master_sync_perc', total > 0 ? ((link.transferRead * 100) / total).toFixed(2) : '0.00'],
        ['master_sync_last_io_seconds_ago', Math.floor((now - link.lastIo) / 1000)],
      );
    }
    if (!up) out.push(['master_link_down_since_seconds', link && link.downSince > 0 ? Math.floor((now - link.downSince) / 1000) : -1]);
    out.push(
      ['slave_priority', config.getInt('replica-priority')],
      ['slave_read_only', config.getBool('replica-read-only') ? 1 : 0],
      ['replica_announced', 1],
    );
  }
  out.push(['connected_slaves', repl.replicas.count]);
  if (config.getInt('min-replicas-to-write') > 0 && config.getInt('min-replicas-max-lag') > 0) {
    out.push(['min_slaves_good_slaves', repl.goodReplicas]);
  }
  repl.replicas.list().forEach((r, i) => {
    const lag = Math.floor((now - r.ackTime) / 1000);
    out.push([`slave${i}`, `ip=${r.ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${lag}`]);
  });
  const backlog = repl.backlog;
  out.push(
    ['master_failover_state', 'no-failover'],
    ['master_replid', repl.replId],
    ['master_replid2', repl.replId2],
    ['master_repl_offset', repl.masterReplOffset],
    ['second_repl_offset', repl.secondReplOffset],
    ['repl_backlog_active', backlog ? 1 : 0],
    ['repl_backlog_size', config.getInt('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', backlog ? backlog.firstByteOffset : 0],
    ['repl_backlog_histlen', backlog ? backlog.histlen : 0],
  );
  return out;
}

const ROLE_STATE: Record<string, string> = {
  connect: 'connect',
  connecting: 'connecting',
  handshake: 'handshake',
  transfer: 'sync',
  connected: 'connected',
};

/** ROLE: master → offset and replicas; replica → master address, link state, offset. */
export function writeRoleReply(s: Session): void {
  const repl = s.server.replication;
  const w = s.w;
  if (repl.masterHost === null) {
    const replicas = repl.replicas.list();
    w.array(3);
    w.bulk('master');
    w.integer(repl.masterReplOffset);
    w.array(replicas.length);
    for (const r of replicas) {
      w.array(3);
      w.bulk(r.ip);
      w.bulk(String(r.port));
      w.bulk(String(r.ackOffset));
    }
    return;
  }
  w.array(5);
  w.bulk('slave');
  w.bulk(repl.masterHost);
  w.integer(repl.masterPort);
  w.bulk(ROLE_STATE[repl.link?.state ?? 'connect']!);
  w.integer(repl.hasHistory ? repl.masterReplOffset : -1);
}
