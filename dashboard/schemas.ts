// JSON schemas of the API, shared by the routes (fastify validates requests with them and
// serializes replies by them) and the OpenAPI document (built from the same objects).
import { MAX_GROUP_ID } from '../common/model.js';
import { SLOT_COUNT } from '../common/slots.js';

export const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'Stable machine-readable code, e.g. BAD_REQUEST, NOT_LEADER, SLOT_OWNED' },
    message: { type: 'string', description: 'What was wrong, for people' },
    leader: { type: ['string', 'null'], description: 'NOT_LEADER: base URL of the current leader (null while there is none)' },
    current: { type: 'string', description: 'CONFLICT: the current revision of the record' },
  },
} as const;

const ADDR_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$';
const REVISION = { type: 'string', pattern: '^[0-9]{1,20}$', description: 'A store mod revision (decimal)' } as const;
const GROUP_ID = { type: 'integer', minimum: 1, maximum: MAX_GROUP_ID } as const;
const SLOT_ID = { type: 'integer', minimum: 0, maximum: SLOT_COUNT - 1 } as const;

export const groupIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,4}$', description: `group id 1..${MAX_GROUP_ID}` } },
} as const;

export const serverParams = {
  type: 'object',
  required: ['id', 'addr'],
  properties: { ...groupIdParams.properties, addr: { type: 'string', pattern: ADDR_PATTERN, description: 'host:port of the server' } },
} as const;

export const revisionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { revision: { ...REVISION, description: 'Apply only if the group is still at this revision (else 409 CONFLICT)' } },
} as const;

export const serverSchema = {
  type: 'object',
  required: ['addr', 'role'],
  properties: { addr: { type: 'string' }, role: { type: 'string', enum: ['master', 'replica'] } },
} as const;

export const groupSchema = {
  type: 'object',
  required: ['id', 'servers', 'master', 'revision', 'slots'],
  properties: {
    id: GROUP_ID,
    servers: { type: 'array', items: serverSchema },
    master: { type: ['string', 'null'] },
    revision: REVISION,
    slots: { type: 'integer', description: 'Slots online in this group' },
  },
} as const;

export const createGroupBody = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: GROUP_ID },
} as const;

export const addServerBody = {
  type: 'object',
  required: ['addr', 'role'],
  additionalProperties: false,
  properties: {
    addr: { type: 'string', pattern: ADDR_PATTERN, description: 'host:port' },
    role: { type: 'string', enum: ['master', 'replica'] },
    force: { type: 'boolean', description: 'Add a master even though it holds keys (else 409 NODE_NOT_EMPTY)' },
    revision: { ...REVISION, description: 'Apply only if the group is still at this revision (else 409 CONFLICT)' },
  },
} as const;

export const slotSchema = {
  type: 'object',
  required: ['id', 'state'],
  properties: {
    id: SLOT_ID,
    state: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { type: 'string', enum: ['unassigned', 'online', 'migrating'] }, group: GROUP_ID, from: GROUP_ID, to: GROUP_ID },
    },
  },
} as const;

const rangeSchema = {
  type: 'object',
  required: ['from', 'to', 'group'],
  properties: { from: SLOT_ID, to: SLOT_ID, group: GROUP_ID },
} as const;

export const slotTableSchema = {
  type: 'object',
  required: ['revision', 'slots', 'ranges', 'unassigned', 'migrating'],
  properties: {
    revision: REVISION,
    slots: { type: 'array', items: slotSchema },
    ranges: { type: 'array', items: rangeSchema, description: 'Runs of consecutive slots online in one group' },
    unassigned: { type: 'integer' },
    migrating: { type: 'integer' },
  },
} as const;

export const assignSlotsBody = {
  type: 'object',
  required: ['from', 'to', 'group'],
  additionalProperties: false,
  properties: { from: SLOT_ID, to: SLOT_ID, group: GROUP_ID },
} as const;

export const assignSlotsReply = {
  type: 'object',
  required: ['assigned', 'already'],
  properties: {
    assigned: { type: 'integer', description: 'Slots that were unassigned and are now online in the group' },
    already: { type: 'integer', description: 'Slots of the range that were online in the group already' },
  },
} as const;

const coordinatorSchema = {
  type: 'object',
  required: ['id', 'url', 'pid', 'startedAt'],
  properties: { id: { type: 'string' }, url: { type: 'string' }, pid: { type: 'integer' }, startedAt: { type: 'string' } },
} as const;

export const overviewSchema = {
  type: 'object',
  required: ['product', 'self', 'leader', 'standbys', 'counts'],
  properties: {
    product: { type: 'string' },
    self: { type: 'object', properties: { ...coordinatorSchema.properties, role: { type: 'string', enum: ['leader', 'standby', 'stopped'] } } },
    leader: { anyOf: [coordinatorSchema, { type: 'null' }] },
    standbys: { type: 'array', items: coordinatorSchema },
    counts: {
      type: 'object',
      properties: {
        groups: { type: 'integer' },
        servers: { type: 'integer' },
        slots: { type: 'object', properties: { online: { type: 'integer' }, migrating: { type: 'integer' }, unassigned: { type: 'integer' } } },
        proxies: { type: 'integer' },
        migrations: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Per-slot migration records by phase' },
      },
    },
  },
} as const;

export const proxiesSchema = {
  type: 'object',
  required: ['tableRevision', 'proxies'],
  properties: {
    tableRevision: { ...REVISION, description: 'Revision of the newest slot or group change' },
    proxies: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, listen: { type: 'string' }, admin: { type: 'string' }, version: { type: 'string' },
          tableRevision: { ...REVISION, description: 'Revision of the slot table the proxy applied' },
          upToDate: { type: 'boolean', description: 'The proxy applied the newest slot or group change' },
          pid: { type: 'integer' }, startedAt: { type: 'string' },
        },
      },
    },
  },
} as const;

export const migrationsSchema = {
  type: 'object',
  required: ['migrations'],
  properties: {
    migrations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          slot: SLOT_ID, from: GROUP_ID, to: GROUP_ID, phase: { type: 'string' },
          createdAt: { type: 'string' }, updatedAt: { type: 'string' }, error: { type: 'string' },
        },
      },
    },
  },
} as const;

/** Error replies a route may give, for its schema (and so the OpenAPI document). */
export function errorReplies(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, errorSchema]));
}

// ---- migrations (routes/migrations.ts) and rebalance (routes/rebalance.ts) ----

const SLOT_LIST = {
  type: 'string', pattern: '^\\s*[0-9]{1,4}(-[0-9]{1,4})?(\\s*,\\s*[0-9]{1,4}(-[0-9]{1,4})?)*\\s*$', maxLength: 8192,
  description: `Slots as a-b,c,… (0..${SLOT_COUNT - 1})`,
} as const;
const NULLABLE_NUMBER = { type: ['number', 'null'] } as const;

export const createMigrationBody = {
  type: 'object',
  required: ['slots', 'to'],
  additionalProperties: false,
  properties: { slots: SLOT_LIST, to: { ...GROUP_ID, description: 'The group the slots move to' } },
} as const;

export const migrationSelectorParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^(m-[A-Za-z0-9_.-]{1,60}|[0-9,\\- ]{1,8192})$', description: 'A migration id (m-…) or slots (a-b,c)' } },
} as const;

const progressSchema = {
  type: ['object', 'null'],
  properties: {
    keysMoved: { type: 'integer' }, bytesMoved: { type: 'integer' }, keysRemaining: { type: ['integer', 'null'] }, bytesTotal: { type: ['integer', 'null'] },
    startedAt: NULLABLE_NUMBER, lastAt: NULLABLE_NUMBER, ready: { type: 'boolean' }, error: { type: ['string', 'null'] }, calls: { type: 'integer' },
  },
} as const;

const migrationRecordSchema = {
  type: 'object',
  properties: {
    slot: SLOT_ID, from: GROUP_ID, to: GROUP_ID,
    phase: { type: 'string', enum: ['pending', 'preparing', 'migrating', 'finished', 'done', 'cancelled'] },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' }, error: { type: 'string' }, batch: { type: 'string' },
    reverse: { type: 'boolean', description: 'Cancelled after the nodes were told: moving back to `from`' },
    paused: { type: 'boolean' }, cancelRequested: { type: 'boolean' }, keysMoved: { type: 'integer' }, bytesMoved: { type: 'integer' },
    progress: progressSchema,
  },
} as const;

const batchProperties = {
  id: { type: 'string', description: 'm-…: one POST /migrations' },
  to: GROUP_ID,
  from: { type: 'array', items: GROUP_ID },
  createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  state: { type: 'string', enum: ['running', 'paused', 'cancelling', 'done', 'cancelled'] },
  slots: {
    type: 'object',
    properties: Object.fromEntries(['total', 'pending', 'preparing', 'migrating', 'finished', 'done', 'cancelled', 'paused'].map((k) => [k, { type: 'integer' }])),
  },
  slotList: { type: 'string' },
  keys: { type: 'object', properties: { moved: { type: 'integer' }, remaining: { type: ['integer', 'null'], description: 'null while unknown' } } },
  bytes: { type: 'object', properties: { moved: { type: 'integer' }, total: { type: ['integer', 'null'], description: 'Approximate (node slot stats)' } } },
  rate: { type: 'object', properties: { keysPerSecond: { type: 'number' }, bytesPerSecond: { type: 'number' } } },
  etaSeconds: { ...NULLABLE_NUMBER, description: 'null while the rate or the remaining keys are unknown' },
  errors: { type: 'array', items: { type: 'object', properties: { slot: SLOT_ID, error: { type: 'string' } } }, description: 'The latest error of up to 10 slots (retried)' },
} as const;

export const batchSchema = { type: 'object', properties: batchProperties } as const;
export const batchDetailSchema = { type: 'object', properties: { ...batchProperties, records: { type: 'array', items: migrationRecordSchema } } } as const;
export const batchListSchema = { type: 'object', required: ['migrations'], properties: { migrations: { type: 'array', items: batchSchema } } } as const;
export const changedSchema = { type: 'object', properties: { changed: { type: 'integer', description: 'Slots whose record changed' } } } as const;

const settingsProperties = {
  concurrency: { type: 'integer', minimum: 1, maximum: 64, description: 'Slots moved at the same time' },
  batch: { type: 'integer', minimum: 1, maximum: SLOT_COUNT, description: 'Slots prepared (told to the nodes) per step and epoch' },
  batchKeys: { type: 'integer', minimum: 1, maximum: 100000, description: 'MAXKEYS of one mover call' },
  batchBytes: { type: 'integer', minimum: 1024, maximum: 1073741824, description: 'MAXBYTES of one mover call' },
  keysPerSecond: { type: 'integer', minimum: 0, maximum: 100000000, description: 'Throttle over all slots; 0 = none' },
  proxyAckTimeoutMs: { type: 'integer', minimum: 0, maximum: 60000, description: 'How long preparing waits for live proxies to apply the table' },
} as const;
export const settingsSchema = { type: 'object', properties: settingsProperties } as const;
export const settingsBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: settingsProperties } as const;

export const rebalancePlanSchema = {
  type: 'object',
  properties: {
    by: { type: 'string', enum: ['keys', 'slots'], description: 'keys: slot stats from every master were available' },
    groups: {
      type: 'array',
      items: { type: 'object', properties: { id: GROUP_ID, slots: { type: 'integer' }, keys: { type: ['integer', 'null'] }, bytes: { type: ['integer', 'null'] }, slotsAfter: { type: 'integer' }, keysAfter: { type: ['integer', 'null'] } } },
    },
    moves: {
      type: 'array',
      items: { type: 'object', properties: { from: GROUP_ID, to: GROUP_ID, slots: { type: 'string' }, count: { type: 'integer' }, keys: { type: ['integer', 'null'] } } },
    },
    skipped: { type: 'string', description: 'Why nothing is planned (e.g. migrations running)' },
  },
} as const;

export const rebalanceReply = {
  type: 'object',
  properties: { plan: rebalancePlanSchema, migrations: { type: 'array', items: batchSchema } },
} as const;
