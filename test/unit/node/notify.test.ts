// Keyspace notification flags and publishing (node/notify.ts). The texts are 7.0.15's CONFIG GET
// answers, read from redis-server side by side (test/integration/node/diff-stream-blocking.test.ts
// compares them live); the one deliberate difference ("KEAn") is pinned here.
import { describe, expect, it } from 'vitest';
import {
  NOTIFY_HASH, NOTIFY_STREAM, checkKeyspaceEvents, keyspaceEventsText, notifyKeyspaceEvent, parseKeyspaceEvents,
} from '../../../node/notify.js';
import type { PubSub } from '../../../node/pubsub.js';

describe('notify-keyspace-events text', () => {
  it.each([
    ['KEA', 'AKE'], ['AKE', 'AKE'], ['Kt', 'tK'], ['Et', 'tE'], ['KEAnm', 'AnKEm'], ['g$lshzxeKEtmd', 'AKEm'],
    ['A', 'A'], ['K', 'K'], ['', ''], ['KEd', 'dKE'], ['KEl$', '$lKE'], ['xe', 'xe'], ['KEnm', 'nKEm'], ['ttKK', 'tK'],
  ])('%j is stored as %j', (given, stored) => {
    expect(checkKeyspaceEvents(given)).toBe(stored);
  });

  it('refuses an unknown letter with Redis\'s words', () => {
    for (const bad of ['X', 'KEa', 'K E', 'KE!']) {
      expect(checkKeyspaceEvents(bad)).toEqual({ error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." });
    }
  });

  it('the stored text reads back as the same flags, for every combination of letters', () => {
    const letters = 'g$lshzxeKEtmdn';
    for (let mask = 0; mask < 1 << letters.length; mask += 7) {
      const given = [...letters].filter((_, i) => (mask & (1 << i)) !== 0).join('');
      const flags = parseKeyspaceEvents(given)!;
      expect(parseKeyspaceEvents(keyspaceEventsText(flags))).toBe(flags);
    }
  });
});

describe('notifyKeyspaceEvent', () => {
  function env(setting: string) {
    const published: Array<[string, string]> = [];
    const pubsub = {
      channels: new Map(), patterns: new Map([['*', new Set()]]),
      publish: (channel: string, message: string) => published.push([channel, message]),
    } as unknown as PubSub;
    const config = { value: setting, get: () => config.value };
    return { published, env: { pubsub, config }, config };
  }

  it('publishes keyspace and keyevent messages for an enabled class only', () => {
    const { published, env: e, config } = env('KEt');
    notifyKeyspaceEvent(e, NOTIFY_STREAM, 'xadd', 'k', 3);
    notifyKeyspaceEvent(e, NOTIFY_HASH, 'hset', 'k', 3);
    expect(published).toEqual([['__keyspace@3__:k', 'xadd'], ['__keyevent@3__:xadd', 'k']]);
    config.value = 'Et'; // a changed setting is seen at the next event
    notifyKeyspaceEvent(e, NOTIFY_STREAM, 'xdel', 'k', 0);
    config.value = 't'; // a class without K or E publishes nothing
    notifyKeyspaceEvent(e, NOTIFY_STREAM, 'xdel', 'k', 0);
    config.value = '';
    notifyKeyspaceEvent(e, NOTIFY_STREAM, 'xdel', 'k', 0);
    expect(published.slice(2)).toEqual([['__keyevent@0__:xdel', 'k']]);
  });

  it('publishes nothing while nobody is subscribed to anything', () => {
    const { published, env: e } = env('KEA');
    (e.pubsub.patterns as Map<string, unknown>).clear();
    notifyKeyspaceEvent(e, NOTIFY_STREAM, 'xadd', 'k', 0);
    expect(published).toEqual([]);
  });
});
