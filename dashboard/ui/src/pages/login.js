import { useState } from 'preact/hooks';
import { html } from '../html.js';

export function LoginPage({ onLogin, error }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  return html`<div class="login">
    <h1>Tessera dashboard</h1>
    <p>Log in with the coordinator's API token (<code>tessera up</code> prints it; <code>--token-file</code> of <code>tessera dashboard</code>).</p>
    <form onSubmit=${async (e) => { e.preventDefault(); setBusy(true); await onLogin(token.trim()); setBusy(false); }}>
      <input type="password" id="token" name="token" autocomplete="current-password" placeholder="token" value=${token} onInput=${(e) => setToken(e.target.value)} />
      <button type="submit" id="login" disabled=${busy || !token.trim()}>Log in</button>
    </form>
    ${error ? html`<p class="error" role="alert" id="login-error">${error}</p>` : null}
  </div>`;
}
