import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { SlotMap } from '../slotmap.js';
import { bytes, count, parseSlots, seconds, time } from '../format.js';

export function SlotsPage({ live, act, ask, readOnly }) {
  const [range, setRange] = useState('');
  const [target, setTarget] = useState('');
  const [plan, setPlan] = useState(null);
  const groups = live.groups?.groups ?? [];
  const parsed = parseSlots(range);
  const selection = parsed ? [parsed[0], parsed[parsed.length - 1]] : null;
  const to = Number(target || groups[0]?.id || 0);
  const all = live.migrations?.migrations ?? [];
  const active = all.filter((m) => m.state !== 'done' && m.state !== 'cancelled');
  const history = all.filter((m) => m.state === 'done' || m.state === 'cancelled').sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
  const single = parsed && parsed.length === parsed[parsed.length - 1] - parsed[0] + 1;
  const bad = (what) => act(what, async () => { throw new Error(range.trim() ? `"${range}" is not a slot range: use 0-1023 as a-b,c` : 'select slots on the map or type a range (e.g. 0-127)'); });
  return html`<section>
    <h2>Slots</h2>
    <${SlotMap} slots=${live.slots} slotstats=${live.slotstats} selection=${selection} onSelect=${(a, b) => setRange(a === b ? String(a) : `${a}-${b}`)} />
    <form class="inline slot-actions" onSubmit=${(e) => e.preventDefault()}>
      <label>slots <input id="slot-range" size="14" placeholder="e.g. 0-127" value=${range} onInput=${(e) => setRange(e.target.value)} /></label>
      <label>group <select id="slot-target" value=${String(to)} onChange=${(e) => setTarget(e.target.value)}>
        ${groups.map((g) => html`<option value=${String(g.id)}>group ${g.id}${g.master ? '' : ' (no master)'}</option>`)}</select></label>
      <button id="assign" disabled=${readOnly} onClick=${() => {
        if (!parsed || !single) return bad('Assign slots');
        const [from, last] = [parsed[0], parsed[parsed.length - 1]];
        return act(`Assign slots ${from}-${last} to group ${to}`, () => api('POST', '/slots/assign', { from, to: last, group: to }),
          (r) => `Assigned ${r.assigned} slot(s) to group ${to}${r.already ? ` (${r.already} were there already)` : ''}.`);
      }}>Assign unassigned</button>
      <button id="migrate" disabled=${readOnly} onClick=${() => {
        if (!parsed) return bad('Migrate');
        return act(`Migrate slots ${range} to group ${to}`, () => api('POST', '/migrations', { slots: range.replace(/\s+/g, ''), to }),
          (m) => `Migration ${m.id} started: ${m.slots.total} slot(s) to group ${to}.`);
      }}>Migrate</button>
      <button id="rebalance-plan" onClick=${() => act('Rebalance preview', () => api('GET', '/rebalance/plan'), (p) => {
        setPlan(p);
        return p.skipped ? `Nothing to plan: ${p.skipped}.` : p.moves.length ? `The plan moves ${p.moves.reduce((n, m) => n + m.count, 0)} slot(s) in ${p.moves.length} move(s) (by ${p.by}).` : 'The groups are balanced: nothing to move.';
      })}>Rebalance: preview</button>
    </form>
    ${plan ? html`<${Plan} plan=${plan} readOnly=${readOnly} onStart=${() => ask('Start the migrations of this rebalance plan?', 'Start rebalance', () =>
      act('Rebalance', () => api('POST', '/rebalance'), (r) => { setPlan(null); return `Rebalance started: ${r.migrations.length} migration(s).`; }))} onClose=${() => setPlan(null)} />` : null}
    <h2>Migrations in progress</h2>
    ${active.length === 0 ? html`<p class="muted" id="no-migrations">No migration is running.</p>` : active.map((m) => html`<${Migration} key=${m.id} m=${m} act=${act} ask=${ask} readOnly=${readOnly} />`)}
    <h2>History</h2>
    ${history.length === 0 ? html`<p class="muted">No finished migration.</p>` : html`<table class="history"><thead><tr><th>id</th><th>slots</th><th>from → to</th><th>state</th><th>keys moved</th><th>bytes</th><th>started</th><th>ended</th></tr></thead>
      <tbody>${history.map((m) => html`<tr data-migration=${m.id} data-state=${m.state}><td><code>${m.id}</code></td><td>${m.slotList}</td><td>${(m.from ?? []).join(', ')} → ${m.to}</td><td>${m.state}</td>
        <td>${count(m.keys.moved)}</td><td>${bytes(m.bytes.moved)}</td><td>${time(m.createdAt)}</td><td>${time(m.updatedAt)}</td></tr>`)}</tbody></table>`}
  </section>`;
}

function Plan({ plan, onStart, onClose, readOnly }) {
  return html`<div class="plan" id="plan">
    <h3>Rebalance plan <span class="muted">(by ${plan.by})</span></h3>
    ${plan.skipped ? html`<p>${plan.skipped}</p>` : null}
    <table><thead><tr><th>group</th><th>slots now</th><th>after</th><th>keys now</th><th>keys after</th><th>bytes</th></tr></thead>
    <tbody>${plan.groups.map((g) => html`<tr><td>${g.id}</td><td>${g.slots}</td><td>${g.slotsAfter}</td><td>${count(g.keys)}</td><td>${count(g.keysAfter)}</td><td>${bytes(g.bytes)}</td></tr>`)}</tbody></table>
    ${plan.moves.length ? html`<table><thead><tr><th>from</th><th>to</th><th>slots</th><th>count</th><th>keys</th></tr></thead>
      <tbody>${plan.moves.map((m) => html`<tr><td>${m.from}</td><td>${m.to}</td><td class="slotlist">${m.slots}</td><td>${m.count}</td><td>${count(m.keys)}</td></tr>`)}</tbody></table>` : null}
    <div class="buttons">${plan.moves.length ? html`<button id="rebalance-start" disabled=${readOnly} onClick=${onStart}>Start rebalance</button>` : null}<button onClick=${onClose}>Close</button></div>
  </div>`;
}

function Migration({ m, act, ask, readOnly }) {
  const done = m.slots.done + m.slots.cancelled;
  const pct = m.slots.total ? Math.round((100 * done) / m.slots.total) : 0;
  const keysTotal = m.keys.remaining === null ? null : m.keys.moved + m.keys.remaining;
  const keyPct = keysTotal ? Math.min(100, Math.round((100 * m.keys.moved) / keysTotal)) : pct;
  const call = (action) => act(`${action[0].toUpperCase()}${action.slice(1)} ${m.id}`, () => api('POST', `/migrations/${m.id}/${action}`), (r) => `${m.id}: ${action} applied to ${r.changed} slot(s).`);
  return html`<div class="migration" data-migration=${m.id} data-state=${m.state}>
    <div class="mhead"><code>${m.id}</code> slots <b>${m.slotList}</b> from group ${(m.from ?? []).join(', ')} to group ${m.to} · <span class=${`state ${m.state}`}>${m.state}</span></div>
    <div class="bar"><div class="fill" style=${`width:${keyPct}%`} /></div>
    <div class="mfig">
      <span>slots ${done}/${m.slots.total} (${m.slots.migrating} moving, ${m.slots.pending} pending${m.slots.paused ? `, ${m.slots.paused} paused` : ''})</span>
      <span>keys ${count(m.keys.moved)} moved${m.keys.remaining === null ? '' : `, ${count(m.keys.remaining)} left`}</span>
      <span>${bytes(m.bytes.moved)}${m.bytes.total ? ` of ~${bytes(m.bytes.total)}` : ''}</span>
      <span>${count(m.rate.keysPerSecond)} keys/s · ${bytes(m.rate.bytesPerSecond)}/s</span>
      <span>ETA ${seconds(m.etaSeconds)}</span>
    </div>
    ${m.errors?.length ? html`<div class="bad">${m.errors.map((e) => html`<div>slot ${e.slot}: ${e.error}</div>`)}</div>` : null}
    <div class="buttons">
      ${m.state === 'paused' ? html`<button class="resume" disabled=${readOnly} onClick=${() => call('resume')}>Resume</button>` : html`<button class="pause" disabled=${readOnly || m.state !== 'running'} onClick=${() => call('pause')}>Pause</button>`}
      <button class="danger cancel" disabled=${readOnly || m.state === 'cancelling'} onClick=${() => ask(`Cancel ${m.id}? Slots not moved yet stay where they are; slots already told to the nodes move back to their source.`, 'Cancel migration', () => call('cancel'))}>Cancel</button>
    </div>
  </div>`;
}
