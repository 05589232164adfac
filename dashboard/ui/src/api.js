// The coordinator's /api/v1 with the logged-in token. Every failure becomes one sentence an
// operator can act on (the API's {code, message}, or what went wrong on the way), never a stack.
const TOKEN_KEY = 'tessera.token';

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  clear() { sessionStorage.removeItem(TOKEN_KEY); },
};

export class ApiFailure extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** Calls the API; resolves with the JSON reply, rejects with an ApiFailure whose message is for people. */
export async function api(method, path, body, token = session.token) {
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiFailure(0, 'UNREACHABLE', `the coordinator did not answer (${err.message})`);
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (res.ok) return json;
  if (json && typeof json.message === 'string') {
    const { code, message, ...extra } = json;
    if (code === 'NOT_LEADER') {
      throw new ApiFailure(res.status, code, extra.leader
        ? `This coordinator is a standby: changes are made on the leader. Open the leader's dashboard at ${extra.leader} and retry there.`
        : 'This coordinator is a standby and no leader is elected yet: retry in a few seconds.', extra);
    }
    throw new ApiFailure(res.status, code, message, extra);
  }
  throw new ApiFailure(res.status, 'HTTP_' + res.status, `the coordinator answered ${res.status} ${res.statusText}`);
}

/** Error → the text shown to the operator. */
export function describe(err) {
  if (err instanceof ApiFailure) return err.code && !/^HTTP_|UNREACHABLE|NOT_LEADER/.test(err.code) ? `${err.message} (${err.code})` : err.message;
  return String(err && err.message ? err.message : err);
}
