import { html } from '../html.js';
import { count, micros } from '../format.js';

export function ProxiesPage({ live }) {
  const list = live.proxies?.proxies ?? [];
  const stats = new Map((live.stats?.proxies ?? []).map((p) => [p.id, p]));
  return html`<section>
    <h2>Proxies <span class="muted">(table revision ${live.proxies?.tableRevision ?? '–'})</span></h2>
    ${list.length === 0 ? html`<p class="muted">No proxy is registered.</p>` : html`
    <table class="proxies"><thead><tr><th>id</th><th>listen</th><th>admin</th><th>applied revision</th><th>sessions</th><th>QPS</th><th>p99</th><th>errors/s</th><th>errors</th><th>redirects</th><th>version</th></tr></thead>
    <tbody>${list.map((p) => {
      const s = stats.get(p.id);
      return html`<tr data-proxy=${p.id}>
        <td><code>${p.id}</code></td><td>${p.listen}</td><td>${p.admin}</td>
        <td>${p.tableRevision} ${p.upToDate ? html`<span class="ok">current</span>` : html`<span class="badge bad">stale</span>`}</td>
        ${s && s.reachable
          ? html`<td>${count(s.sessions)}</td><td>${count(s.qps)}</td><td>${micros(s.p99Us)}</td><td class=${s.errorsPerSec ? 'bad' : ''}>${count(s.errorsPerSec)}</td><td>${count(s.errors)}</td><td>${count(s.redirects)}</td>`
          : html`<td colspan="6" class="bad">${s ? s.error : 'not sampled yet'}</td>`}
        <td>${p.version}</td></tr>`;
    })}</tbody></table>`}
  </section>`;
}
