// Every command handler, keyed by command table name ("get", "config|get"). The dispatcher checks
// at start-up that each key has a table entry; a test checks the reverse.
import { aclHandlers } from './acl.js';
import { aofHandlers } from './aof.js';
import { bitmapHandlers } from './bitmaps.js';
import { clientHandlers } from './client.js';
import { clientTrackingHandlers } from './client-tracking.js';
import { clusterHandlers } from './cluster.js';
import { connectionHandlers } from './connection.js';
import { geoHandlers } from './geo.js';
import type { HandlerMap } from './handler.js';
import { hashHandlers } from './hashes.js';
import { hyperloglogHandlers } from './hyperloglog.js';
import { keyHandlers } from './keys.js';
import { listHandlers } from './lists.js';
import { memoryHandlers } from './memory.js';
import { migrateHandlers } from './migrate.js';
import { persistenceHandlers } from './persistence.js';
import { pubsubHandlers } from './pubsub.js';
import { replicationHandlers } from './replication.js';
import { scriptingHandlers } from './scripting.js';
import { serverHandlers } from './server.js';
import { setHandlers } from './sets.js';
import { slotsDelHandlers } from './slots-del.js';
import { streamGroupHandlers } from './stream-groups.js';
import { streamInfoHandlers } from './stream-info.js';
import { streamHandlers } from './streams.js';
import { stringHandlers } from './strings.js';
import { transactionHandlers } from './transactions.js';
import { waitOffsetHandlers } from './wait-offset.js';
import { zsetHandlers } from './zsets.js';

export type { Handler } from './handler.js';

export const HANDLERS: HandlerMap = {
  ...connectionHandlers,
  ...stringHandlers,
  ...keyHandlers,
  ...migrateHandlers,
  ...slotsDelHandlers,
  ...listHandlers,
  ...hashHandlers,
  ...setHandlers,
  ...zsetHandlers,
  ...pubsubHandlers,
  ...transactionHandlers,
  ...serverHandlers,
  ...aclHandlers,
  ...memoryHandlers,
  ...clientHandlers,
  ...clientTrackingHandlers,
  ...aofHandlers,
  ...replicationHandlers,
  ...persistenceHandlers,
  ...clusterHandlers,
  ...bitmapHandlers,
  ...hyperloglogHandlers,
  ...geoHandlers,
  ...waitOffsetHandlers,
  ...scriptingHandlers,
  ...streamHandlers,
  ...streamGroupHandlers,
  ...streamInfoHandlers,
};
