// INFO rendering: Redis 7.0's sections and field names ("# Section" headers, CRLF lines) built
// from the server's counters. Reads state only; never changes it.
import { arch, release, totalmem, type } from 'node:os';
import { bytesToHuman } from '../common/bytes-to-human.js';
import { replicationInfoFields } from './replication/info-fields.js';
import type { NodeServer } from './server.js';
import { aofOf } from './persistence/aof.js';
import { VERSION } from './version.js';
import { formatPercentile } from './config.js';

type Field = [string, string | number];
/** null: the section does not exist on this node (Slots without slot-ownership). */
type SectionRenderer = (server: NodeServer) => Field[] | null;

const SECTIONS: ReadonlyArray<[string, SectionRenderer]> = [
  ['server', serverSection],
  ['clients', clientsSection],
  ['memory', memorySection],
  ['persistence', persistenceSection],
  ['stats', statsSection],
  ['replication', replicationSection],
  ['cpu', cpuSection],
  ['modules', () => []],
  ['commandstats', commandstatsSection],
  ['errorstats', errorstatsSection],
  ['latencystats', latencystatsSection],
  ['cluster', (s) => [['cluster_enabled', s.config.getBool('cluster-enabled') ? 1 : 0]]],
  ['slots', slotsSection],
  ['keyspace', keyspaceSection],
  ['tessera', tesseraSection],
];

// `INFO` / `INFO default` leave out these (Redis prints them only for all/everything or by name).
const NOT_DEFAULT = new Set(['commandstats', 'latencystats']);
// Tessera's own section: only when asked for by name (all/everything stay Redis's).
const BY_NAME_ONLY = new Set(['tessera']);
const SECTION_TITLES: Record<string, string> = { cpu: 'CPU', commandstats: 'Commandstats', errorstats: 'Errorstats', latencystats: 'Latencystats' };

/** The INFO text for the requested section names (lower-cased; none = default). */
export function renderInfo(server: NodeServer, requested: readonly string[]): string {
  const names = new Set(requested.map((r) => r.toLowerCase()));
  const all = names.has('all') || names.has('everything');
  const defaults = names.size === 0 || names.has('default') || all;
  const parts: string[] = [];
  for (const [name, render] of SECTIONS) {
    const wanted = names.has(name) || (!BY_NAME_ONLY.has(name) && ((defaults && !NOT_DEFAULT.has(name)) || (all && NOT_DEFAULT.has(name))));
    if (!wanted) continue;
    const fields = render(server);
    if (fields === null) continue;
    const title = SECTION_TITLES[name] ?? name[0]!.toUpperCase() + name.slice(1);
    let text = `# ${title}\r\n`;
    for (const [k, v] of fields) text += `${k}:${v}\r\n`;
    parts.push(text);
  }
  return parts.join('\r\n');
}

/** Cluster mode's slot ownership (only with slot-ownership yes, so a plain node's INFO is Redis's). */
function slotsSection(s: NodeServer): Field[] | null {
  const routing = s.dispatcher.routing;
  if (routing === null) return null;
  const own = routing.ownership;
  const counts = own.counts();
  return [
    ['slot_ownership', 'yes'],
    ['config_epoch', own.epoch],
    ['slots_owned', counts.owned],
    ['slots_migrating', counts.migrating],
    ['slots_importing', counts.importing],
    ['ownership_confirmed', own.confirmed ? 1 : 0],
  ];
}

function serverSection(s: NodeServer): Field[] {
  const uptime = Math.floor((Date.now() - s.stats.startedAt) / 1000);
  const hz = s.config.getInt('hz');
  return [
    ['redis_version', VERSION],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', '0'],
    ['redis_mode', 'standalone'],
    ['os', `${type()} ${release()} ${osArch()}`],
    ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', s.runId],
    ['tcp_port', s.config.getInt('port')],
    ['server_time_usec', Date.now() * 1000],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', hz],
    ['configured_hz', hz],
    ['lru_clock', Math.floor(Date.now() / 1000) & 0xffffff],
    ['executable', process.argv[1] ?? process.execPath],
    ['config_file', s.config.file ?? ''],
    ['io_threads_active', 0],
  ];
}

function osArch(): string {
  const a = arch();
  return a === 'x64' ? 'x86_64' : a === 'arm64' ? 'aarch64' : a;
}

function clientsSection(s: NodeServer): Field[] {
  let maxIn = 0;
  let maxOut = 0;
  for (const c of s.sessions) {
    maxIn = Math.max(maxIn, c.decoder.pendingBytes);
    maxOut = Math.max(maxOut, c.socket.writableLength);
  }
  return [
    ['connected_clients', s.sessions.size],
    ['cluster_connections', 0],
    ['maxclients', s.config.getInt('maxclients')],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', s.blocking.blockedCount],
    ['tracking_clients', s.tracking.trackingClients],
    ['clients_in_timeout_table', s.blocking.blockedCount],
  ];
}


function memorySection(s: NodeServer): Field[] {
  const used = s.eviction.usedMemory();
  const peak = Math.max(s.eviction.peakMemory, used);
  const rss = process.memoryUsage.rss();
  const max = s.config.getInt('maxmemory');
  const total = totalmem();
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', rss],
    ['used_memory_rss_human', bytesToHuman(rss)],
    ['used_memory_peak', peak],
    ['used_memory_peak_human', bytesToHuman(peak)],
    ['used_memory_peak_perc', `${((used * 100) / peak).toFixed(2)}%`],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ['maxmemory', max],
    ['maxmemory_human', bytesToHuman(max)],
    ['maxmemory_policy', s.config.get('maxmemory-policy')],
    ['mem_fragmentation_ratio', (rss / Math.max(1, used)).toFixed(2)],
    ['mem_fragmentation_bytes', rss - used],
    ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', s.replication.backlog?.size ?? 0],
    ['mem_clients_slaves', 0],
    ['mem_clients_normal', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', `v8-${process.versions.v8}`],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
  ];
}

function persistenceSection(s: NodeServer): Field[] {
  return [
    ['loading', 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ...s.snapshots.infoFields(),
    ...aofInfo(s),
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
    ...(aofOf(s)?.infoSizeFields() ?? []),
  ];
}

/** AOF fields from the node's AOF, or Redis's values for a node without one (tests, tools). */
function aofInfo(s: NodeServer): Field[] {
  const aof = aofOf(s);
  if (aof) return aof.infoFields();
  return [
    ['aof_enabled', 0], ['aof_rewrite_in_progress', 0], ['aof_rewrite_scheduled', 0], ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1], ['aof_last_bgrewrite_status', 'ok'], ['aof_rewrites', 0],
    ['aof_rewrites_consecutive_failures', 0], ['aof_last_write_status', 'ok'], ['aof_last_cow_size', 0],
  ];
}

function statsSection(s: NodeServer): Field[] {
  const st = s.stats;
  let patterns = 0;
  for (const set of s.pubsub.patterns.values()) patterns += set.size;
  return [
    ['total_connections_received', st.totalConnections],
    ['total_commands_processed', st.totalCommands],
    ['instantaneous_ops_per_sec', st.instantaneousOps],
    ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', st.instantaneousInputKbps.toFixed(2)],
    ['instantaneous_output_kbps', st.instantaneousOutputKbps.toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections],
    ['sync_full', s.replication.syncFull],
    ['sync_partial_ok', s.replication.syncPartialOk],
    ['sync_partial_err', s.replication.syncPartialErr],
    ['expired_keys', st.expiredKeys],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', st.evictedKeys],
    ['evicted_clients', s.clientEviction.evicted],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', st.keyspaceHits],
    ['keyspace_misses', st.keyspaceMisses],
    ['pubsub_channels', s.pubsub.channels.size],
    ['pubsub_patterns', patterns],
    ['pubsubshard_channels', s.pubsub.shardChannels.size],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', s.tracking.totalKeys],
    ['tracking_total_items', s.tracking.totalItems],
    ['tracking_total_prefixes', s.tracking.totalPrefixes],
    ['unexpected_error_replies', 0],
    ['total_error_replies', st.errorReplies],
    ['dump_payload_sanitizations', 0],
    ['total_reads_processed', st.totalCommands],
    ['total_writes_processed', st.totalCommands],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', 0],
    ['reply_buffer_expands', 0],
  ];
}

function replicationSection(s: NodeServer): Field[] {
  return replicationInfoFields(s);
}

function cpuSection(): Field[] {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', sys],
    ['used_cpu_user', user],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', sys],
    ['used_cpu_user_main_thread', user],
  ];
}

function commandstatsSection(s: NodeServer): Field[] {
  const out: Field[] = [];
  for (const [name, st] of s.stats.commands) {
    if (st.calls === 0 && st.rejectedCalls === 0 && st.failedCalls === 0) continue;
    const usec = Math.round(st.usec);
    const perCall = st.calls === 0 ? 0 : usec / st.calls;
    out.push([
      `cmdstat_${name}`,
      `calls=${st.calls},usec=${usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${st.rejectedCalls},failed_calls=${st.failedCalls}`,
    ]);
  }
  return out;
}

/** Redis 7's latency_percentiles_usec_<cmd>:p50=…,p99=… (µs with 3 decimals of the ns histograms). */
function latencystatsSection(s: NodeServer): Field[] {
  const ps = s.stats.latencyPercentiles;
  const labels = ps.map((p) => `p${formatPercentile(p)}=`);
  const out: Field[] = [];
  for (const [name, st] of s.stats.commands) {
    const h = st.latency;
    if (h === null) continue;
    out.push([`latency_percentiles_usec_${name}`, ps.map((p, i) => labels[i] + (h.valueAtPercentile(p) / 1000).toFixed(3)).join(',')]);
  }
  return out;
}

/**
 * Tessera's windowed latency over every command (INFO tessera, never in all/everything): Redis's
 * percentiles are since start and cannot be windowed by subtracting two samples, so the
 * dashboard reads these for a group's recent p99. Recorded only with latency-tracking yes, and
 * without the monitoring commands (INFO, SLOWLOG GET …; see MONITORING in stats.ts).
 */
function tesseraSection(s: NodeServer): Field[] {
  const w = s.stats.recent.summary();
  const us = (ns: number) => (ns / 1000).toFixed(3);
  return [
    ['recent_latency_window_seconds', w.seconds.toFixed(1)],
    ['recent_latency_calls', w.samples],
    ['recent_latency_p50_usec', us(w.p50)],
    ['recent_latency_p99_usec', us(w.p99)],
    ['recent_latency_max_usec', us(w.max)],
  ];
}

function errorstatsSection(s: NodeServer): Field[] {
  return [...s.stats.errors].map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
}

function keyspaceSection(s: NodeServer): Field[] {
  const out: Field[] = [];
  for (const db of s.dbs) {
    if (db.size === 0) continue;
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.visibleVolatileCount},avg_ttl=${db.averageTtl()}`]);
  }
  return out;
}
