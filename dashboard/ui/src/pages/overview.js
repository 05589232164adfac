import { useLayoutEffect } from 'preact/hooks';
import { html } from '../html.js';
import { Chart } from '../charts.js';
import { SlotMap } from '../slotmap.js';
import { bytes, count } from '../format.js';

export function OverviewPage({ live }) {
  const { overview: ov, stats, groups, proxies, migrations, slots } = live;
  const complete = Boolean(ov && stats && groups && proxies && migrations && slots);
  // The first time everything is on screen (the page-load measurement reads this mark).
  useLayoutEffect(() => {
    if (complete && !performance.getEntriesByName('overview:complete').length) performance.mark('overview:complete');
  }, [complete]);
  if (!ov) return html`<p class="muted">waiting for the live stream…</p>`;
  const servers = stats?.servers ?? [];
  const down = servers.filter((s) => !s.reachable);
  const linkDown = servers.filter((s) => s.reachable && s.linkUp === false);
  const stale = (proxies?.proxies ?? []).filter((p) => !p.upToDate);
  const running = (migrations?.migrations ?? []).filter((m) => m.state === 'running' || m.state === 'paused' || m.state === 'cancelling');
  const healthy = down.length === 0 && linkDown.length === 0 && stale.length === 0;
  const groupKeys = (groups?.groups ?? []).map((g) => g.id);
  const proxyIds = (proxies?.proxies ?? []).map((p) => p.id);
  return html`
    <section class="cards" data-complete=${complete ? 'yes' : 'no'}>
      <div class="card"><h3>Product</h3><div class="big">${ov.product}</div>
        <div>leader: ${ov.leader ? html`<code>${ov.leader.id}</code>` : 'none elected'}</div>
        <div>standbys: ${ov.standbys.length ? ov.standbys.map((s) => html`<code>${s.id}</code> `) : 'none'}</div></div>
      <div class="card"><h3>Keys</h3><div class="big" id="total-keys">${stats ? count(stats.totals.keys) : '–'}</div><div>${ov.counts.groups} groups · ${ov.counts.servers} servers</div></div>
      <div class="card"><h3>Memory</h3><div class="big">${stats ? bytes(stats.totals.memory) : '–'}</div><div>used by the masters</div></div>
      <div class="card"><h3>Ops/s</h3><div class="big">${stats ? count(stats.totals.qps) : '–'}</div><div>through ${ov.counts.proxies} proxies · ${stats ? count(stats.totals.opsPerSec) : '–'} on nodes</div></div>
      <div class=${`card health ${healthy ? 'ok' : 'bad'}`} id="health"><h3>Health</h3>
        <div class="big">${healthy ? 'all good' : 'attention'}</div>
        <div>${down.length ? html`<span class="bad">${down.length} server(s) not answering: ${down.map((s) => s.addr).join(', ')}</span>` : `${servers.length} servers answer`}</div>
        ${linkDown.length ? html`<div class="bad">${linkDown.length} replica link(s) down</div>` : null}
        <div>${stale.length ? html`<span class="bad">${stale.length} proxy(ies) on an old table</span>` : 'every proxy has the latest table'}</div>
        <div>slots: ${ov.counts.slots.online} online · ${ov.counts.slots.migrating} migrating · ${ov.counts.slots.unassigned} unassigned</div>
        <div>${running.length ? `${running.length} migration(s) in progress` : 'no migration running'}</div>
      </div>
    </section>
    <section><h2>Slots</h2><${SlotMap} slots=${slots} slotstats=${live.slotstats} /></section>
    <section class="charts">
      <${Chart} title="QPS per proxy" history=${live.history} unit="n" kind="proxy" keys=${proxyIds.map((id) => ({ key: `proxy:${id}:qps`, label: id }))} />
      <${Chart} title="p99 per proxy (trailing 10 s)" history=${live.history} unit="us" kind="proxy" keys=${proxyIds.map((id) => ({ key: `proxy:${id}:lat`, label: id }))} />
      <${Chart} title="Ops/s per group" history=${live.history} unit="n" kind="group" keys=${groupKeys.map((id) => ({ key: `group:${id}:qps`, label: `group ${id}`, id }))} />
      <${Chart} title="p99 per group (worst server, trailing 10 s)" history=${live.history} unit="us" kind="group" keys=${groupKeys.map((id) => ({ key: `group:${id}:lat`, label: `group ${id}`, id }))} />
    </section>`;
}
