// CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO (node/tracking.ts keeps the state), with
// Redis 7.0's checks in its order and its error texts.
import { ERR } from '../../common/errors.js';
import type { Session } from '../session.js';
import { type HandlerMap, is, syntaxError } from './handler.js';

/** Whether one prefix is a prefix of the other (Redis's stringCheckPrefix). */
function overlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Pairs compared one by one at most (Redis's order, so its first collision is named); beyond, sorted. */
const PAIRWISE_MAX = 256;

/**
 * The error for prefixes that overlap each other or the client's own, or null. Few: Redis's loop
 * and its choice of pair. Many: sorted, where an overlap always shows between neighbours, so a
 * request with 100,000 prefixes costs a sort, not 5·10^9 comparisons.
 */
function prefixCollision(given: readonly string[], existing: readonly string[]): string | null {
  const withExisting = (p: string, e: string) => `ERR Prefix '${p}' overlaps with an existing prefix '${e}'. Prefixes for a single client must not overlap.`;
  const withGiven = (p: string, q: string) => `ERR Prefix '${p}' overlaps with another provided prefix '${q}'. Prefixes for a single client must not overlap.`;
  if ((given.length + existing.length) ** 2 <= PAIRWISE_MAX * PAIRWISE_MAX) {
    for (let i = 0; i < given.length; i++) {
      const p = given[i]!;
      for (const e of existing) if (overlap(e, p)) return withExisting(p, e);
      for (let j = i + 1; j < given.length; j++) if (overlap(p, given[j]!)) return withGiven(p, given[j]!);
    }
    return null;
  }
  const all = [...existing.map((text) => ({ text, mine: true })), ...given.map((text) => ({ text, mine: false }))];
  all.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    if (a.mine && b.mine) continue; // the client's own never overlap each other
    if (!overlap(a.text, b.text)) continue;
    if (a.mine) return withExisting(b.text, a.text);
    if (b.mine) return withExisting(a.text, b.text);
    return withGiven(a.text, b.text);
  }
  return null;
}

/** CLIENT TRACKING on|off [REDIRECT id] [BCAST] [PREFIX p …] [OPTIN] [OPTOUT] [NOLOOP] */
function trackingCommand(s: Session, args: string[]): void {
  let redirect = 0;
  let bcast = false;
  let optin = false;
  let optout = false;
  let noloop = false;
  const prefixes: string[] = [];
  for (let j = 3; j < args.length; j++) {
    const more = args.length - 1 - j > 0;
    if (is(args[j], 'redirect') && more) {
      j++;
      if (redirect !== 0) return s.w.error('ERR A client can only redirect to a single other client');
      if (!/^-?\d{1,19}$/.test(args[j]!) || !Number.isSafeInteger(Number(args[j]))) return s.w.error(ERR.notInteger);
      redirect = Number(args[j]);
      let found = false;
      for (const c of s.server.sessions) if (c.id === redirect) found = true;
      if (!found) return s.w.error('ERR The client ID you want redirect to does not exist');
    } else if (is(args[j], 'bcast')) bcast = true;
    else if (is(args[j], 'optin')) optin = true;
    else if (is(args[j], 'optout')) optout = true;
    else if (is(args[j], 'noloop')) noloop = true;
    else if (is(args[j], 'prefix') && more) prefixes.push(args[++j]!);
    else return syntaxError(s);
  }
  const tracking = s.server.tracking;
  if (is(args[2], 'off')) {
    tracking.disable(s);
    return s.w.ok();
  }
  if (!is(args[2], 'on')) return syntaxError(s);
  const current = s.tracking;
  if (!bcast && prefixes.length > 0) return s.w.error('ERR PREFIX option requires BCAST mode to be enabled');
  if (current !== null && current.bcast !== bcast) {
    return s.w.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (bcast && (optin || optout)) return s.w.error('ERR OPTIN and OPTOUT are not compatible with BCAST');
  if (optin && optout) return s.w.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if (current !== null && ((optin && current.optout) || (optout && current.optin))) {
    return s.w.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (bcast) {
    const refusal = prefixCollision(prefixes, current?.prefixes ?? []);
    if (refusal !== null) return s.w.error(refusal);
  }
  tracking.enable(s, { bcast, optin, optout, noloop, redirect, prefixes });
  s.w.ok();
}

function cachingCommand(s: Session, args: string[]): void {
  const state = s.tracking;
  if (state === null) return s.w.error('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  if (is(args[2], 'yes')) {
    if (!state.optin) return s.w.error('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (is(args[2], 'no')) {
    if (!state.optout) return s.w.error('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else return syntaxError(s);
  state.caching = true;
  s.w.ok();
}

function getredirCommand(s: Session): void {
  s.w.integer(s.tracking === null ? -1 : s.tracking.redirect);
}

function trackinginfoCommand(s: Session): void {
  const state = s.tracking;
  const flags: string[] = [];
  if (state === null) flags.push('off');
  else {
    flags.push('on');
    if (state.bcast) flags.push('bcast');
    if (state.optin) flags.push('optin');
    if (state.optout) flags.push('optout');
    if (state.caching) flags.push(state.optin ? 'caching-yes' : 'caching-no');
    if (state.noloop) flags.push('noloop');
    if (state.brokenRedirect) flags.push('broken_redirect');
  }
  const w = s.w;
  w.map(3);
  w.bulk('flags');
  w.set(flags.length);
  for (const f of flags) w.bulk(f);
  w.bulk('redirect');
  w.integer(state === null ? -1 : state.redirect);
  w.bulk('prefixes');
  w.bulkArray(state?.prefixes ?? []);
}

export const clientTrackingHandlers: HandlerMap = {
  'client|tracking': trackingCommand,
  'client|caching': cachingCommand,
  'client|getredir': getredirCommand,
  'client|trackinginfo': trackinginfoCommand,
};
