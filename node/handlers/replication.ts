// REPLICAOF/SLAVEOF, ROLE, REPLCONF, PSYNC, SYNC, WAIT. Thin: the protocol lives in
// node/replication/ (replication.ts, replica-clients.ts, master-link.ts).
import { writeRoleReply } from '../replication/info-fields.js';
import type { Session } from '../session.js';
import type { HandlerMap } from './handler.js';

const WAIT_ON_REPLICA =
  'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured ' +
  'to be writable (which is not the default) writes to replicas are just local and are not propagated.';

function replicaofCommand(s: Session, args: string[]): void {
  const repl = s.server.replication;
  if (repl.replicas.isReplica(s)) return s.w.error('ERR Command is not valid when client is a replica.');
  const source = `user request from 'id=${s.id} addr=${s.addr} laddr=${s.laddr} name=${s.name}'`;
  if (args[1]!.toLowerCase() === 'no' && args[2]!.toLowerCase() === 'one') {
    repl.unsetMaster(source);
    return s.w.ok();
  }
  const port = /^-?\d+$/.test(args[2]!) ? Number(args[2]) : NaN;
  if (!(port >= 0 && port <= 65535)) return s.w.error('ERR Invalid master port');
  if (repl.masterHost !== null && repl.masterHost.toLowerCase() === args[1]!.toLowerCase() && repl.masterPort === port) {
    s.server.log('notice', 'REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.');
    return s.w.simple('OK Already connected to specified master');
  }
  repl.setMaster(args[1]!, port, source);
  s.w.ok();
}

function waitCommand(s: Session, args: string[]): void {
  const repl = s.server.replication;
  if (repl.masterHost !== null) return s.w.error(WAIT_ON_REPLICA);
  if (!isInteger(args[1]!)) return s.w.error('ERR value is not an integer or out of range');
  if (!isInteger(args[2]!)) return s.w.error('ERR timeout is not an integer or out of range');
  const timeoutMs = Number(args[2]);
  if (timeoutMs < 0) return s.w.error('ERR timeout is negative');
  repl.replicas.wait(s, Number(args[1]), timeoutMs);
}

function isInteger(text: string): boolean {
  return /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

export const replicationHandlers: HandlerMap = {
  replicaof: replicaofCommand,
  slaveof: replicaofCommand,
  role: writeRoleReply,
  replconf: (s, args) => s.server.replication.replicas.replconf(s, args),
  psync: (s, args) => s.server.replication.replicas.sync(s, args, true),
  sync: (s, args) => s.server.replication.replicas.sync(s, args, false),
  wait: waitCommand,
};
