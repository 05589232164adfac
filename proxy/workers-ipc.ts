// The messages between a multi-worker proxy's primary and its workers (node:cluster's IPC channel,
// JSON). Secrets travel here, never in a worker's argv or environment.
import type { BackendHealth } from './backend/pool.js';
import type { ProxyConfig } from './config.js';
import type { Group, SlotRoute } from '../common/model.js';
import type { StatsExport, Totals } from './workers-stats.js';

/** What the primary asks a worker for (the admin API's routes). */
export type AskWhat = 'stats' | 'health' | 'slots';

export interface WorkerHealth {
  revision: string;
  links: BackendHealth[];
  groups: Group[];
}

export interface WorkerStats {
  stats: StatsExport;
  backends: Array<{ addr: string; connected: number; inFlight: number }>;
  revision: string;
}

export type WorkerAnswer = WorkerStats | WorkerHealth | SlotRoute[];

export type ToWorker =
  /** The whole config (workers' share of maxclients applied), this worker's index and the count. */
  | { t: 'config'; config: ProxyConfig; index: number; count: number }
  /** Every second: the other workers' counters (dead ones' last counts included), for INFO. */
  | { t: 'peers'; totals: Totals }
  | { t: 'ask'; id: number; what: AskWhat }
  | { t: 'stop'; graceMs: number };

export type FromWorker =
  /** Listening for messages: send the config. */
  | { t: 'hello' }
  /** Started: the table applied and the listener shared. */
  | { t: 'ready'; revision: string }
  /** Could not start (a bad listen address, …): the primary gives up if this happens at startup. */
  | { t: 'failed'; error: string }
  /** A slot table revision was applied. */
  | { t: 'revision'; revision: string }
  /** Every second. */
  | { t: 'beat'; totals: Totals }
  | { t: 'answer'; id: number; body: WorkerAnswer };

/** The env var naming a worker's index (not a secret: the config itself comes by IPC). */
export const WORKER_INDEX_ENV = 'TESSERA_PROXY_WORKER';
/** How often workers send a heartbeat and the primary sends the peers' totals, ms. */
export const BEAT_MS = 1000;
