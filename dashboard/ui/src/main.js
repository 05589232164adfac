// The Tessera dashboard: one page app (preact + htm), hash URLs (#/overview, #/groups, #/slots,
// #/proxies, #/events?type=…), everything live from /api/v1/stream, every action through /api/v1.
import { render } from 'preact';
import { useCallback, useEffect, useReducer, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import '../style.css';
import { api, describe, session } from './api.js';
import { html } from './html.js';
import { openStream } from './stream.js';
import { HISTORY_POINTS, emptyHistory, historyFrom, pushStats } from './history.js';
import { OverviewPage } from './pages/overview.js';
import { GroupsPage } from './pages/groups.js';
import { SlotsPage } from './pages/slots.js';
import { ProxiesPage } from './pages/proxies.js';
import { EventsPage } from './pages/events.js';
import { LoginPage } from './pages/login.js';

const PAGES = [
  ['overview', 'Overview', OverviewPage],
  ['groups', 'Groups', GroupsPage],
  ['slots', 'Slots & migrations', SlotsPage],
  ['proxies', 'Proxies', ProxiesPage],
  ['events', 'Events', EventsPage],
];

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [name, query] = h.split('?');
  return { page: PAGES.some((p) => p[0] === name) ? name : 'overview', query: new URLSearchParams(query ?? '') };
}

function liveReducer(state, { event, data }) {
  if (event === 'reset') return { history: emptyHistory() };
  if (event === 'history') return { ...state, history: historyFrom(data) };
  if (event === 'stats') return { ...state, stats: data, history: pushStats(state.history, data, HISTORY_POINTS) };
  return { ...state, [event]: data };
}

function App() {
  const [token, setToken] = useState(session.token);
  const [route, setRoute] = useState(parseHash());
  const [live, dispatch] = useReducer(liveReducer, { history: emptyHistory() });
  const [conn, setConn] = useState('connecting');
  const [notice, setNotice] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [loginError, setLoginError] = useState(null);

  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  const logout = useCallback((why) => {
    session.clear();
    setToken(null);
    dispatch({ event: 'reset' });
    setLoginError(why ?? null);
  }, []);

  useEffect(() => {
    if (!token) return undefined;
    setConn('connecting');
    return openStream(token, {
      onEvent: (event, data) => dispatch({ event, data }),
      onState: setConn,
      onUnauthorized: () => logout('The token is no longer accepted: log in again.'),
    });
  }, [token]);

  /** Runs an action; its result or error is shown in words in the notice bar. */
  const act = useCallback(async (what, fn, done) => {
    setNotice({ kind: 'busy', text: `${what}…` });
    try {
      const res = await fn();
      setNotice({ kind: 'ok', text: done ? done(res) : `${what}: done.` });
      return res;
    } catch (err) {
      if (err.status === 401) logout('The token is no longer accepted: log in again.');
      setNotice({ kind: 'error', text: `${what} failed: ${describe(err)}` });
      return undefined;
    }
  }, []);

  if (!token) {
    return html`<${LoginPage} error=${loginError} onLogin=${async (t) => {
      try {
        await api('GET', '/session', undefined, t);
        session.set(t);
        setLoginError(null);
        setToken(t);
      } catch (err) {
        setLoginError(err.code === 'TOKEN_INVALID' ? 'The token is wrong.' : describe(err));
      }
    }} />`;
  }

  const ov = live.overview;
  const Page = PAGES.find((p) => p[0] === route.page)[2];
  const ctx = { live, act, ask: (text, yes, onYes) => setConfirm({ text, yes, onYes }), query: route.query, readOnly: ov && ov.self.role !== 'leader' };
  return html`
    <header>
      <div class="brand">Tessera <span class="product">${ov ? ov.product : ''}</span></div>
      <nav>${PAGES.map(([id, label]) => html`<a href="#/${id}" class=${route.page === id ? 'active' : ''} data-page=${id}>${label}</a>`)}</nav>
      <div class="right">
        <span class=${`conn ${conn}`} data-conn=${conn}>${conn === 'live' ? '● live' : conn === 'reconnecting' ? '○ reconnecting…' : '○ connecting…'}</span>
        ${ov ? html`<span class=${`role ${ov.self.role}`}>${ov.self.role}</span>` : null}
        <button class="logout" onClick=${() => logout(null)}>Log out</button>
      </div>
    </header>
    ${ctx.readOnly ? html`<div class="banner standby" role="status">This coordinator is a <b>standby</b>: everything here is live, but changes are made on the leader${ov.leader ? html` — open <a href=${ov.leader.url}>${ov.leader.url}</a>` : ' (none is elected yet)'}.</div>` : null}
    ${notice ? html`<div class=${`notice ${notice.kind}`} role="status" id="notice"><span>${notice.text}</span><button class="close" aria-label="dismiss" onClick=${() => setNotice(null)}>×</button></div>` : null}
    <main class=${`page-${route.page}`}><${Page} ...${ctx} /></main>
    ${confirm ? html`<div class="modal-back"><div class="modal" role="dialog" aria-modal="true">
      <p>${confirm.text}</p>
      <div class="buttons">
        <button class="danger" id="confirm-yes" onClick=${() => { const f = confirm.onYes; setConfirm(null); f(); }}>${confirm.yes}</button>
        <button onClick=${() => setConfirm(null)}>Cancel</button>
      </div></div></div>` : null}
  `;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading…" line (render() appends to what is there)
render(html`<${App} />`, root);
