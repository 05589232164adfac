// Pub/sub commands (Redis group "pubsub"). Shard channels count as keys, as in Redis 7.
import { defineCommands } from '../define.js';

const c = defineCommands('pubsub');

export const pubsubCommands = [
  c('subscribe', -2, 'pubsub noscript loading stale', null, 'pubsub'),
  c('unsubscribe', -1, 'pubsub noscript loading stale', null, 'pubsub'),
  c('psubscribe', -2, 'pubsub noscript loading stale', null, 'pubsub'),
  c('punsubscribe', -1, 'pubsub noscript loading stale', null, 'pubsub'),
  c('publish', 3, 'pubsub loading stale fast', null, 'pubsub'),
  c('ssubscribe', -2, 'pubsub noscript loading stale', [1, -1, 1], 'pubsub'),
  c('sunsubscribe', -1, 'pubsub noscript loading stale', [1, -1, 1], 'pubsub'),
  c('spublish', 3, 'pubsub loading stale fast', [1, 1, 1], 'pubsub'),
  c('pubsub', -2, '', null, 'pubsub', {
    subs: [
      c('pubsub|channels', -2, 'pubsub loading stale', null, 'pubsub'),
      c('pubsub|numsub', -2, 'pubsub loading stale', null, 'pubsub'),
      c('pubsub|numpat', 2, 'pubsub loading stale', null, 'pubsub'),
      c('pubsub|shardchannels', -2, 'pubsub loading stale', null, 'pubsub'),
      c('pubsub|shardnumsub', -2, 'pubsub loading stale', null, 'pubsub'),
      c('pubsub|help', 2, 'loading stale', null, 'local'),
    ],
  }),
];
