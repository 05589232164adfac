// /api/v1/stream: server-sent events of the live state (dashboard/live/stream-hub.ts), and
// /api/v1/session: checks a token (the UI's login). The stream needs the bearer token like every
// route: the UI reads it with fetch() (which, unlike EventSource, sends the Authorization header),
// so the token never goes into a URL or a log line.
import type { FastifyInstance } from 'fastify';
import { checkBearer, tokenDigest } from '../../common/http-auth.js';
import { ApiError } from '../api-error.js';
import type { LeaderView } from '../coordinator/leadership.js';
import { MAX_SUBSCRIBERS, type StreamHub } from '../live/stream-hub.js';
import { errorReplies } from '../schemas.js';

const tags = ['live'];

export function registerStreamRoutes(api: FastifyInstance, hub: StreamHub, token: string, leadership: LeaderView): void {
  const want = tokenDigest(token);
  api.get('/session', {
    schema: {
      summary: 'Checks the bearer token (even with open reads) and says what this coordinator is',
      tags,
      response: {
        200: { type: 'object', properties: { ok: { type: 'boolean' }, role: { type: 'string' }, id: { type: 'string' }, url: { type: 'string' } } },
        ...errorReplies(401),
      },
    },
  }, async (req) => {
    const verdict = checkBearer(req.headers.authorization, want);
    if (verdict === 'missing') throw new ApiError(401, 'TOKEN_MISSING', 'log in with the coordinator\'s token');
    if (verdict === 'invalid') throw new ApiError(401, 'TOKEN_INVALID', 'the token is wrong');
    return { ok: true, role: leadership.role, id: leadership.self.id, url: leadership.self.url };
  });

  api.get('/stream/status', {
    schema: {
      summary: 'The live stream\'s subscribers, whether it is running, and how often it computed (refreshes from the store, stats samples, sections sent)',
      tags,
      response: {
        200: { type: 'object', properties: Object.fromEntries(['subscribers', 'storeRefreshes', 'statsSamples', 'broadcasts'].map((k) => [k, { type: 'integer' }]).concat([['active', { type: 'boolean' }]])) },
        ...errorReplies(401),
      },
    },
  }, async () => hub.status());

  api.get('/stream', {
    schema: {
      summary: 'Live state as server-sent events: overview, groups, slots, proxies, migrations, events, stats, slotstats (each sent when it changes; all of them first), history once',
      description: 'Events are named by section; data is the JSON of that section. A comment line every 15 s keeps proxies from closing the connection. One shared computation for all subscribers.',
      tags,
      response: { ...errorReplies(401, 503) },
    },
  }, async (req, reply) => {
    if (hub.subscriberCount >= MAX_SUBSCRIBERS) throw new ApiError(503, 'TOO_MANY_STREAMS', 'too many live streams are open; close some dashboards');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    if (!hub.subscribe(res)) res.end();
    req.raw.on('close', () => res.end());
  });
}
