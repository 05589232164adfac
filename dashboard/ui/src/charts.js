// Time-series charts with uPlot: one chart, several series over the shared time axis.
import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';
import { html } from './html.js';
import { groupColor } from './format.js';

const PROXY_COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

/**
 * `keys`: [{key, label}] into history.series; `kind` picks colours (group ids, or proxy order).
 * The plot is created once per set of series and fed with setData afterwards.
 */
export function Chart({ title, history, keys, unit, kind }) {
  const box = useRef(null);
  const plot = useRef(null);
  const signature = keys.map((k) => k.key).join('|');
  useEffect(() => {
    if (!box.current) return undefined;
    const opts = {
      width: Math.max(240, box.current.clientWidth || 420), height: 160,
      legend: { show: true }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { values: (_u, ticks) => ticks.map((v) => fmt(v, unit)), size: 70 }],
      series: [{}, ...keys.map((k, i) => ({
        label: k.label, width: 1.5, spanGaps: false,
        stroke: kind === 'group' ? groupColor(k.id) : PROXY_COLORS[i % PROXY_COLORS.length],
        value: (_u, v) => (v === null || v === undefined ? '–' : fmt(v, unit)),
      }))],
    };
    plot.current = new uPlot(opts, data(history, keys), box.current);
    return () => { plot.current?.destroy(); plot.current = null; };
  }, [signature]);
  useEffect(() => { plot.current?.setData(data(history, keys)); }, [history, signature]);
  return html`<figure class="chart" data-series=${keys.length}><figcaption>${title}</figcaption>${keys.length ? null : html`<p class="muted">no data yet</p>`}<div ref=${box} /></figure>`;
}

function data(history, keys) {
  return [history.t, ...keys.map((k) => history.series[k.key] ?? new Array(history.t.length).fill(null))];
}

function fmt(v, unit) {
  if (unit === 'us') return v >= 10_000 ? `${Math.round(v / 1000)}ms` : v >= 1000 ? `${(v / 1000).toFixed(1)}ms` : `${Math.round(v)}µs`;
  return v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : String(Math.round(v));
}
