// INFO latencystats and the latency-tracking directives, our node vs redis-server: the same
// section placement, line shape per command (values differ, so compared by shape), CONFIG
// GET/SET texts and errors, RESETSTAT; plus Tessera's windowed INFO tessera section.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../../common/resp/reply-decoder.js';
import { plain, usePair } from '../../helpers/differential.js';
import { StatsSampler } from '../../../dashboard/live/stats-sampler.js';

/** The Latencystats lines, values replaced by a shape (p<label>=<digits>.<3 digits>). */
function latencyShape(text: Reply): string[] {
  const lines = String(text).replace(/^txt:/, '').split('\r\n').filter((l) => l.startsWith('latency_percentiles_usec_'));
  return lines.map((l) => l.replace(/=\d+\.\d{3}(?=,|$)/g, '=N')).sort();
}

function latencyValues(text: Reply, command: string): Record<string, number> {
  const line = String(text).split('\r\n').find((l) => l.startsWith(`latency_percentiles_usec_${command}:`));
  if (!line) return {};
  const body = line.slice(line.indexOf(':') + 1);
  return Object.fromEntries(body === '' ? [] : body.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])]));
}

describe('INFO latencystats matches redis-server', () => {
  const p = usePair();
  beforeEach(async () => {
    await p.both('CONFIG', 'SET', 'latency-tracking', 'yes');
    await p.both('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9');
    await p.both('CONFIG', 'RESETSTAT');
  });

  it('has the same per-command lines and placement (everything, by name, not in default)', async () => {
    await p.same(['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'k'], ['CONFIG', 'GET', 'maxmemory']);
    const [ours, redis] = await p.both('INFO', 'latencystats');
    // INFO itself is recorded after it answers, so both show the same commands.
    expect(latencyShape(ours)).toEqual(latencyShape(redis));
    expect(latencyShape(ours)).toContain('latency_percentiles_usec_get:p50=N,p99=N,p99.9=N');
    expect(latencyShape(ours)).toContain('latency_percentiles_usec_config|get:p50=N,p99=N,p99.9=N');
    for (const sel of [[], ['default'], ['everything'], ['all']]) {
      const [o, r] = await p.both('INFO', ...sel);
      const sections = (t: Reply) => String(t).split('\r\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
      expect(sections(o), `INFO ${sel.join(' ')}`).toEqual(sections(r));
    }
    // Percentiles are ordered and positive (µs).
    const v = latencyValues(ours, 'get');
    expect(v.p50).toBeGreaterThan(0);
    expect(v.p99).toBeGreaterThanOrEqual(v.p50!);
    expect(v['p99.9']).toBeGreaterThanOrEqual(v.p99!);
  });

  it('CONFIG GET/SET latency-tracking-info-percentiles: formatting and errors as Redis', async () => {
    await p.sameUnordered(['CONFIG', 'GET', 'latency-tracking*']); // Redis's order is its dict's
    await p.same(
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '1e2 0.0001 50.00'],
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '101'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '-1'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', 'abc'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 x'],
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['SET', 'k', 'v'],
    );
    const [ours, redis] = await p.both('INFO', 'latencystats');
    expect(latencyShape(ours)).toEqual(latencyShape(redis));
    expect(latencyShape(ours)).toContain('latency_percentiles_usec_set:p100=N,p0.0001=N,p50=N');
    // An empty list: each line keeps its name and nothing after the colon.
    await p.same(['CONFIG', 'SET', 'latency-tracking-info-percentiles', ''], ['CONFIG', 'GET', 'latency-tracking-info-percentiles']);
    const [o2, r2] = await p.both('INFO', 'latencystats');
    expect(latencyShape(o2)).toEqual(latencyShape(r2));
    expect(latencyShape(o2)).toContain('latency_percentiles_usec_set:');
  });

  it('latency-tracking no records nothing; RESETSTAT clears the histograms', async () => {
    await p.same(['CONFIG', 'SET', 'latency-tracking', 'no'], ['CONFIG', 'RESETSTAT'], ['SET', 'k', 'v'], ['GET', 'k']);
    const [ours, redis] = await p.both('INFO', 'latencystats');
    expect(latencyShape(ours)).toEqual([]);
    expect(latencyShape(redis)).toEqual([]);
    expect(plain(await p.ours.call('CONFIG', 'GET', 'latency-tracking'))).toEqual(['latency-tracking', 'no']);
  });

  it('LATENCY HISTOGRAM: the same commands, calls and power-of-two µs levels as Redis', async () => {
    await p.same(['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'k'], ['CONFIG', 'GET', 'maxmemory'], ['CONFIG', 'GET', 'maxclients']);
    // Per command: calls, then [µs level, cumulative calls] pairs (values differ between servers).
    const parse = (r: Reply) => {
      const flat = plain(r) as unknown[];
      const out: Record<string, { calls: number; levels: number[]; counts: number[] }> = {};
      for (let i = 0; i < flat.length; i += 2) {
        const body = flat[i + 1] as unknown[];
        expect(body[0]).toBe('calls');
        expect(body[2]).toBe('histogram_usec');
        const h = body[3] as number[];
        out[String(flat[i])] = { calls: body[1] as number, levels: h.filter((_, j) => j % 2 === 0), counts: h.filter((_, j) => j % 2 === 1) };
      }
      return out;
    };
    const LEVELS = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266, 270532, 541065];
    for (const args of [[], ['get', 'CONFIG'], ['nosuch', 'Config|Get', 'set', 'set', 'a|b|c']]) {
      const [o, r] = (await p.both('LATENCY', 'HISTOGRAM', ...args)).map(parse);
      const keys = (x: object) => Object.keys(x).sort();
      expect(keys(o!), `LATENCY HISTOGRAM ${args.join(' ')}`).toEqual(keys(r!));
      for (const [name, ours] of Object.entries(o!)) {
        expect(ours.calls, name).toBe(r![name]!.calls);
        expect(ours.counts.at(-1), name).toBe(ours.calls); // the last level counts every call
        for (const level of [...ours.levels, ...r![name]!.levels]) expect(LEVELS, name).toContain(level);
        expect([...ours.counts].sort((a, b) => a - b), name).toEqual(ours.counts); // cumulative
      }
    }
    const [o, r] = (await p.both('LATENCY', 'HISTOGRAM', 'nosuch', 'Config|Get', 'set', 'set', 'a|b|c')).map((x) => (plain(x) as unknown[]).filter((_, i) => i % 2 === 0));
    expect(o).toEqual(['config|get', 'set', 'set']); // Redis's order: as named, repeats repeated
    expect(r).toEqual(o);
    await p.same(['LATENCY', 'HISTOGRAM'].slice(0, 1), ['LATENCY', 'HELP']);
  });

  it('INFO tessera: a windowed p99 over every command, shown only when asked for by name', async () => {
    await p.ours.call('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 200; i++) await p.ours.call('SET', `k${i}`, 'v');
    const text = String(await p.ours.call('INFO', 'tessera'));
    const f = Object.fromEntries(text.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    expect(text.startsWith('# Tessera\r\n')).toBe(true);
    expect(Number(f.recent_latency_calls)).toBe(200); // INFO (monitoring) is left out
    expect(Number(f.recent_latency_window_seconds)).toBeLessThanOrEqual(10);
    expect(Number(f.recent_latency_p99_usec)).toBeGreaterThan(0);
    expect(Number(f.recent_latency_max_usec)).toBeGreaterThanOrEqual(Number(f.recent_latency_p99_usec));
    expect(Number(f.recent_latency_p99_usec)).toBeGreaterThanOrEqual(Number(f.recent_latency_p50_usec));
    expect(String(await p.ours.call('INFO', 'everything'))).not.toContain('# Tessera');
  });

  it("the dashboard's sampler reads a group's recent p99 from the node (INFO tessera)", async () => {
    await p.ours.call('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 100; i++) await p.ours.call('GET', `k${i}`);
    const sampler = new StatsSampler(null, null);
    try {
      const addr = `127.0.0.1:${p.node.port}`;
      const snap = await sampler.sample({ groups: [{ id: 1, servers: [{ addr, role: 'master' }], master: addr }], proxies: [], slotsOf: () => [] });
      const g = snap.groups[0]!;
      expect(snap.servers[0]!.reachable).toBe(true);
      expect(g.p99Us).toBeGreaterThan(0);
      expect(sampler.history()['group:1']!.latencyUs).toEqual([g.p99Us]);
    } finally {
      sampler.close();
    }
  });
});
