// CONFIG GET/SET/RESETSTAT/REWRITE on a running node, compared with redis-server where the
// replies are deterministic; REWRITE against a real config file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MapValue, type Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { RawClient } from '../../helpers/raw-client.js';
import { TESSERA_BIN, startNode, stopAll } from '../../helpers/servers.js';
import { freePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/wait-for.js';

/** CONFIG GET reply (RESP2 flat array or RESP3 map) → Map. */
function asMap(r: Reply): Map<string, string> {
  const out = new Map<string, string>();
  if (r instanceof MapValue) for (const [k, v] of r.pairs) out.set(String(k), String(v));
  else for (let i = 0; i < (r as string[]).length; i += 2) out.set((r as string[])[i]!, (r as string[])[i + 1]!);
  return out;
}

// Values that legitimately differ between the two processes.
const PER_PROCESS = new Set(['port', 'dir', 'bind', 'pidfile', 'logfile', 'enable-debug-command']);
// Tessera's own directives (cluster mode): deliberately not Redis's names, so no Redis tool
// mistakes a node for a Redis Cluster node.
const TESSERA_ONLY = new Set(['slot-ownership', 'slot-ownership-file']);

describe('CONFIG matches redis-server', () => {
  const p = usePair();

  it('every directive we have exists in Redis with the same default value', async () => {
    const [ours, redis] = await p.both('CONFIG', 'GET', '*');
    const o = asMap(ours);
    const r = asMap(redis);
    expect(o.size).toBeGreaterThan(60);
    for (const name of TESSERA_ONLY) expect(o.has(name) && !r.has(name), name).toBe(true);
    for (const [name, value] of o) {
      if (TESSERA_ONLY.has(name)) continue;
      expect(r.has(name), `redis has ${name}`).toBe(true);
      if (!PER_PROCESS.has(name)) expect(value, name).toBe(r.get(name));
    }
  });

  it('CONFIG GET with several patterns, case and globs', async () => {
    await p.sameUnordered(
      ['CONFIG', 'GET', 'maxmemory', 'hz', 'timeout'], ['CONFIG', 'GET', 'HZ'], ['CONFIG', 'GET', 'slowlog-*'],
      ['CONFIG', 'GET', 'lfu-*'], ['CONFIG', 'GET', 'nosuch'], ['CONFIG', 'GET', '*max-*-entries*'],
      ['CONFIG', 'GET', 'maxmemory-policy', 'maxmemory-samples', 'maxmemory-eviction-tenacity'],
    );
  });

  it('CONFIG SET: values, multiple pairs, atomicity and errors', async () => {
    await p.same(
      ['CONFIG', 'SET', 'maxmemory', '1mb'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'SET', 'maxmemory', '0'],
      ['CONFIG', 'SET', 'hz', '1000'], ['CONFIG', 'GET', 'hz'], ['CONFIG', 'SET', 'hz', '0'], ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '10', 'timeout', '30'], ['CONFIG', 'GET', 'timeout'], ['CONFIG', 'SET', 'timeout', '0'],
      ['CONFIG', 'SET', 'hz', '11', 'maxmemory-policy', 'bogus'], ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'maxmemory', '10', 'maxmemory', '20'], ['CONFIG', 'SET', 'nosuch', 'x'],
      ['CONFIG', 'SET', 'maxmemory', 'abc'], ['CONFIG', 'SET', 'maxmemory', '-1'], ['CONFIG', 'SET', 'maxmemory', '1.5gb'],
      ['CONFIG', 'SET', 'timeout', '-5'], ['CONFIG', 'SET', 'maxclients', '0'], ['CONFIG', 'SET', 'tcp-keepalive', 'abc'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-5'], ['CONFIG', 'SET', 'loglevel', 'x'], ['CONFIG', 'SET', 'loglevel', 'WARNING'],
      ['CONFIG', 'GET', 'loglevel'], ['CONFIG', 'SET', 'loglevel', 'notice'], ['CONFIG', 'SET', 'appendonly', 'maybe'],
      ['CONFIG', 'SET', 'save', '1 2 3'], ['CONFIG', 'SET', 'databases', '4'], ['CONFIG', 'SET', 'daemonize', 'yes'],
      ['CONFIG', 'SET', 'dir', '/tmp'], ['CONFIG', 'SET', 'lfu-log-factor', '-1'], ['CONFIG', 'SET', 'maxmemory-samples', '0'],
      ['CONFIG', 'SET', 'slave-read-only', 'no'], ['CONFIG', 'GET', 'replica-read-only'], ['CONFIG', 'SET', 'replica-read-only', 'yes'],
      ['CONFIG', 'SET', 'hz', '10', 'hz'], ['CONFIG', 'REWRITE'], ['CONFIG', 'RESETSTAT'],
    );
  });

  it('CONFIG SET requirepass applies to new connections', async () => {
    await p.ours.call('CONFIG', 'SET', 'requirepass', 'secret');
    const c = await RawClient.connect(p.node.port);
    try {
      expect(plain(await c.call('GET', 'x'))).toEqual({ error: 'NOAUTH Authentication required.' });
      expect(plain(await c.call('AUTH', 'secret'))).toBe('+OK');
      expect(plain(await c.call('CONFIG', 'SET', 'requirepass', ''))).toBe('+OK');
    } finally {
      c.close();
    }
  });

  it('CONFIG RESETSTAT clears INFO counters', async () => {
    await p.ours.call('SET', 'x', '1');
    await p.ours.call('CONFIG', 'RESETSTAT');
    const info = String(await p.ours.call('INFO', 'stats'));
    // Like Redis, the RESETSTAT call itself is counted after the reset.
    expect(info).toMatch(/\r\ntotal_commands_processed:1\r\n/);
    expect(info).toMatch(/\r\ntotal_connections_received:0\r\n/);
  });
});

describe('CONFIG REWRITE with a config file', () => {
  it('rewrites the file in place, keeping comments, and a node restarts from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rewrite-'));
    const file = join(dir, 'node.conf');
    writeFileSync(file, '# Tessera test config\nhz 10\n# memory\nmaxmemory-policy noeviction\n');
    const start = async () => {
      const port = await freePort();
      const proc = spawn(process.execPath, [TESSERA_BIN, 'node', file, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], {
        stdio: 'ignore',
      });
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      const stop = async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        await exited;
      };
      try {
        const client = await waitFor(() => RawClient.connect(port), { what: 'node with config file' });
        return { client, stop };
      } catch (err) {
        await stop();
        throw err;
      }
    };
    const first = await start();
    try {
      expect(plain(await first.client.call('CONFIG', 'SET', 'hz', '20', 'maxmemory', '2mb', 'maxmemory-policy', 'allkeys-lru'))).toBe('+OK');
      expect(plain(await first.client.call('CONFIG', 'REWRITE'))).toBe('+OK');
      first.client.close();
    } finally {
      await first.stop();
    }
    try {
      const text = readFileSync(file, 'latin1');
      expect(text.startsWith('# Tessera test config\nhz 20\n# memory\nmaxmemory-policy allkeys-lru\n')).toBe(true);
      expect(text).toContain('\nmaxmemory 2097152\n');
      const second = await start();
      try {
        expect(asMap(await second.client.call('CONFIG', 'GET', 'hz', 'maxmemory'))).toEqual(new Map([['hz', '20'], ['maxmemory', '2097152']]));
        second.client.close();
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SHUTDOWN', () => {
  it('SHUTDOWN NOSAVE closes the connection and ends the process', async () => {
    const node = await startNode();
    try {
      const c = await RawClient.connect(node.port);
      const exited = new Promise<number | null>((r) => node.proc.once('exit', (code) => r(code)));
      c.write('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n');
      await c.waitClosed();
      expect(await exited).toBe(0);
    } finally {
      await stopAll(node);
    }
  });
});
