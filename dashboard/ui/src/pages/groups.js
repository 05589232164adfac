import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { ago, bytes, count, groupColor } from '../format.js';

export function GroupsPage({ live, act, ask, readOnly }) {
  const [newId, setNewId] = useState('');
  const groups = live.groups?.groups ?? [];
  const stats = new Map((live.stats?.servers ?? []).map((s) => [s.addr, s]));
  const gstats = new Map((live.stats?.groups ?? []).map((g) => [g.id, g]));
  const nextId = groups.length ? Math.max(...groups.map((g) => g.id)) + 1 : 1;
  return html`<section>
    <h2>Groups</h2>
    <form class="inline" id="create-group" onSubmit=${(e) => {
      e.preventDefault();
      const id = Number(newId || nextId);
      void act(`Create group ${id}`, () => api('POST', '/groups', { id }), () => `Group ${id} created (empty: add a master next).`).then(() => setNewId(''));
    }}>
      <label>new group id <input id="group-id" size="5" placeholder=${String(nextId)} value=${newId} onInput=${(e) => setNewId(e.target.value)} /></label>
      <button type="submit" disabled=${readOnly}>Create group</button>
    </form>
    ${groups.map((g) => html`<${Group} g=${g} gs=${gstats.get(g.id)} stats=${stats} act=${act} ask=${ask} readOnly=${readOnly} />`)}
  </section>`;
}

function Group({ g, gs, stats, act, ask, readOnly }) {
  const [addr, setAddr] = useState('');
  const [role, setRole] = useState(g.master ? 'replica' : 'master');
  const empty = g.servers.length === 0 && g.slots === 0;
  return html`<div class="group" data-group=${g.id}>
    <h3><i class="swatch" style=${`background:${groupColor(g.id)}`} />Group ${g.id}
      <span class="muted">master ${g.master ?? 'none'} · ${g.slots} slots · ${gs ? `${count(gs.keys)} keys · ${bytes(gs.memory)} · ${count(gs.opsPerSec)} ops/s` : ''}</span>
      ${empty ? html`<button class="danger small" disabled=${readOnly} onClick=${() => ask(`Delete the empty group ${g.id}?`, 'Delete group', () =>
        act(`Delete group ${g.id}`, () => api('DELETE', `/groups/${g.id}`), () => `Group ${g.id} deleted.`))}>Delete group</button>` : null}
    </h3>
    ${g.servers.length === 0 ? html`<p class="muted">No servers yet.</p>` : html`
    <table class="servers"><thead><tr><th>server</th><th>role</th><th>reports</th><th>link</th><th>offset lag</th><th>keys</th><th>memory</th><th>ops/s</th><th>last seen</th><th></th></tr></thead>
    <tbody>${g.servers.map((s) => {
      const st = stats.get(s.addr);
      const mismatch = st && st.reachable && st.role && (st.role === 'slave' ? 'replica' : st.role) !== s.role;
      return html`<tr data-addr=${s.addr} class=${st && !st.reachable ? 'down' : ''}>
        <td><code>${s.addr}</code></td><td>${s.role}</td>
        <td class=${mismatch ? 'bad' : ''}>${st ? (st.reachable ? st.role : html`<span class="bad" title=${st.error}>not answering</span>`) : '…'}</td>
        <td>${st?.linkUp === null || !st ? '' : st.linkUp ? html`<span class="ok">up</span>` : html`<span class="bad">down</span>`}</td>
        <td>${st?.lagBytes === null || !st ? '' : bytes(st.lagBytes)}</td>
        <td>${count(st?.keys)}</td><td>${bytes(st?.memory)}</td><td>${count(st?.opsPerSec)}</td><td>${st ? ago(st.lastSeen) : ''}</td>
        <td class="actions">
          ${s.role === 'replica' ? html`<button class="small promote" disabled=${readOnly} onClick=${() => ask(
            `Promote ${s.addr} to master of group ${g.id}? Writes pause on ${g.master} until the replica has caught up, then the group switches (planned switchover).`,
            'Promote', () => act(`Promote ${s.addr}`, () => api('POST', `/groups/${g.id}/promote`, { addr: s.addr }), () => `${s.addr} is now the master of group ${g.id}.`))}>Promote</button>` : null}
          <button class="small remove" disabled=${readOnly} onClick=${() => ask(`Remove ${s.addr} from group ${g.id}?`, 'Remove', () =>
            act(`Remove ${s.addr}`, () => api('DELETE', `/groups/${g.id}/servers/${encodeURIComponent(s.addr)}`), () => `${s.addr} removed from group ${g.id}.`))}>Remove</button>
        </td></tr>`;
    })}</tbody></table>`}
    <form class="inline add-server" onSubmit=${(e) => {
      e.preventDefault();
      const a = addr.trim();
      void act(`Add ${a || '(no address)'} to group ${g.id}`, () => api('POST', `/groups/${g.id}/servers`, { addr: a, role }), () => `${a} added to group ${g.id} as ${role}.`)
        .then((r) => { if (r) setAddr(''); });
    }}>
      <input class="addr" placeholder="host:port" value=${addr} onInput=${(e) => setAddr(e.target.value)} />
      <select class="role" value=${role} onChange=${(e) => setRole(e.target.value)}><option value="master">master</option><option value="replica">replica</option></select>
      <button type="submit" disabled=${readOnly}>Add server</button>
    </form>
  </div>`;
}
