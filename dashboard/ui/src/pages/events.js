import { html } from '../html.js';
import { time } from '../format.js';

/** The coordinator's event log plus the migrations (started, finished), newest first, filterable. */
export function EventsPage({ live, query }) {
  const type = query.get('type') ?? '';
  const group = query.get('group') ?? '';
  const text = query.get('q') ?? '';
  const all = [...(live.events?.events ?? []).map((e) => ({ ...e, source: 'coordinator' })), ...migrationEvents(live.migrations?.migrations ?? [])]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const types = [...new Set(all.map((e) => e.type))].sort();
  const shown = all.filter((e) => (!type || e.type === type) && (!group || String(e.group ?? '') === group)
    && (!text || `${e.type} ${e.message}`.toLowerCase().includes(text.toLowerCase())));
  const set = (k, v) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v); else q.delete(k);
    location.hash = `#/events${q.toString() ? `?${q}` : ''}`;
  };
  return html`<section>
    <h2>Events</h2>
    <div class="filters">
      <label>type <select id="event-type" value=${type} onChange=${(e) => set('type', e.target.value)}>
        <option value="">all</option>${types.map((t) => html`<option value=${t}>${t}</option>`)}</select></label>
      <label>group <input id="event-group" size="4" value=${group} onChange=${(e) => set('group', e.target.value.trim())} /></label>
      <label>text <input id="event-text" value=${text} onChange=${(e) => set('q', e.target.value.trim())} /></label>
      <span class="muted">${shown.length} of ${all.length}</span>
    </div>
    <table class="events"><thead><tr><th>time</th><th>type</th><th>group</th><th>what happened</th></tr></thead>
    <tbody>${shown.map((e) => html`<tr data-type=${e.type}><td title=${e.at}>${time(e.at)}</td><td><span class=${`etype ${e.type}`}>${e.type}</span></td><td>${e.group ?? ''}</td><td>${e.message}</td></tr>`)}</tbody></table>
  </section>`;
}

function migrationEvents(list) {
  const out = [];
  for (const m of list) {
    const from = (m.from ?? []).join(', ');
    out.push({ at: m.createdAt, type: 'migration-started', group: m.to, message: `migration ${m.id}: slots ${m.slotList} from group ${from} to group ${m.to}` });
    if (m.state === 'done' || m.state === 'cancelled') {
      out.push({ at: m.updatedAt, type: `migration-${m.state}`, group: m.to, message: `migration ${m.id}: ${m.state} (${m.slots.done}/${m.slots.total} slots, ${m.keys.moved} keys moved)` });
    }
  }
  return out;
}
