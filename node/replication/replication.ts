// The node's replication role. Standalone for now (a master without replicas): it enforces
// min-replicas-to-write and is where the write stream is fed (backlog, replicas, AOF) once
// replication and persistence land.
import type { CommandSpec } from '../../common/commands/spec.js';
import type { NodeConfig } from '../config.js';
import type { Session } from '../session.js';

export type StreamListener = (dbIndex: number, argv: readonly string[]) => void;

export class Replication {
  readonly role: 'master' | 'slave' = 'master';
  /** Consumers of the deterministic write stream (AOF, replicas). */
  private readonly listeners: StreamListener[] = [];

  constructor(private readonly config: NodeConfig) {}

  get connectedReplicas(): number {
    return 0;
  }

  onStream(listener: StreamListener): void {
    this.listeners.push(listener);
  }

  feed(dbIndex: number, argv: readonly string[]): void {
    for (const l of this.listeners) l(dbIndex, argv);
  }

  /** Why a write must be refused now (READONLY, NOREPLICAS), or null. */
  writeRefusal(_s: Session): string | null {
    const minReplicas = this.config.getInt('min-replicas-to-write');
    if (minReplicas > 0 && this.connectedReplicas < minReplicas) return 'NOREPLICAS Not enough good replicas to write.';
    return null;
  }

  /** Why a command must be refused while the master link is down (MASTERDOWN), or null. */
  staleRefusal(_spec: CommandSpec): string | null {
    return null;
  }
}
