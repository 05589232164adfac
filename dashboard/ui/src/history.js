// The charts' data: one shared time axis and one value array per series (`proxy:<id>:qps`,
// `proxy:<id>:lat`, `group:<id>:qps`, `group:<id>:lat`), aligned, at most HISTORY_POINTS long.
// Filled from the stream's `history` (the server's last minutes) and extended by each `stats`.
export const HISTORY_POINTS = 300;

export function emptyHistory() {
  return { t: [], series: {} };
}

/** The server's rings (each a suffix of the longest: they are sampled together) → aligned arrays. */
export function historyFrom(rings) {
  let t = [];
  for (const r of Object.values(rings)) if (r.t.length > t.length) t = r.t;
  const series = {};
  for (const [key, r] of Object.entries(rings)) {
    const pad = new Array(t.length - r.t.length).fill(null);
    series[`${key}:qps`] = [...pad, ...r.qps];
    series[`${key}:lat`] = [...pad, ...r.latencyUs];
  }
  return { t: t.map((ms) => ms / 1000), series };
}

export function pushStats(h, stats, max) {
  const t = [...h.t, stats.at / 1000];
  const series = {};
  const values = {};
  for (const g of stats.groups) {
    values[`group:${g.id}:qps`] = g.opsPerSec;
    values[`group:${g.id}:lat`] = g.p99Us;
  }
  for (const p of stats.proxies) {
    values[`proxy:${p.id}:qps`] = p.qps;
    values[`proxy:${p.id}:lat`] = p.p99Us;
  }
  for (const key of new Set([...Object.keys(h.series), ...Object.keys(values)])) {
    const old = h.series[key] ?? new Array(h.t.length).fill(null);
    series[key] = [...old, values[key] ?? null];
  }
  if (t.length > max) {
    t.splice(0, t.length - max);
    for (const k of Object.keys(series)) series[k].splice(0, series[k].length - max);
  }
  return { t, series };
}
