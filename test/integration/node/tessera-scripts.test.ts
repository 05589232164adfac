// TESSERA.SCRIPTS DUMP on a real node: the cached scripts in load order, paged by COUNT with a
// cursor (0 at the end), the bodies' bytes bounding a page, and Redis-style argument errors.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServerHandle, startNode, stopAll } from '../../helpers/servers.js';

let node: ServerHandle | undefined;
let c: Redis;
const sha = (body: string) => createHash('sha1').update(body).digest('hex');

beforeAll(async () => {
  node = await startNode();
  c = new Redis({ host: '127.0.0.1', port: node.port, maxRetriesPerRequest: 0 });
});

afterAll(async () => {
  c?.disconnect();
  await stopAll(node);
});

it('pages through the script cache in load order; errors for bad arguments', async () => {
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP')).toEqual(['0', []]);
  const bodies = Array.from({ length: 5 }, (_, i) => `return ${i}`);
  for (const b of bodies) await c.call('SCRIPT', 'LOAD', b);
  const flat = (from: number, to: number) => bodies.slice(from, to).flatMap((b) => [sha(b), b]);
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP')).toEqual(['0', flat(0, 5)]);
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP', '0', 'COUNT', '2')).toEqual(['2', flat(0, 2)]);
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP', '2', 'count', '2')).toEqual(['4', flat(2, 4)]);
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP', '4', 'COUNT', '2')).toEqual(['0', flat(4, 5)]);
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP', '9')).toEqual(['0', []]);
  // A page stops before ~1 MB of bodies (always at least one script).
  const big = Array.from({ length: 3 }, (_, i) => `return '${String(i).repeat(600_000)}'`);
  for (const b of big) await c.call('SCRIPT', 'LOAD', b);
  const page = (await c.call('TESSERA.SCRIPTS', 'DUMP', '5')) as [string, string[]];
  expect(page).toEqual(['6', [sha(big[0]!), big[0]!]]);
  await expect(c.call('TESSERA.SCRIPTS', 'DUMP', 'x')).rejects.toThrow('ERR invalid cursor');
  await expect(c.call('TESSERA.SCRIPTS', 'DUMP', '-1')).rejects.toThrow('ERR invalid cursor');
  await expect(c.call('TESSERA.SCRIPTS', 'DUMP', '0', 'COUNT', '0')).rejects.toThrow('ERR COUNT must be between 1 and 1000');
  await expect(c.call('TESSERA.SCRIPTS', 'DUMP', '0', 'COUNT', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
  await expect(c.call('TESSERA.SCRIPTS', 'DUMP', '0', 'FOO', '1')).rejects.toThrow('ERR syntax error');
  await c.call('SCRIPT', 'FLUSH');
  expect(await c.call('TESSERA.SCRIPTS', 'DUMP')).toEqual(['0', []]);
});
