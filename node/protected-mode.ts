// Which clients count as local, and protected mode's decision: Redis 7 (connIsLocal,
// clientAcceptHandler) refuses non-loopback clients while protected-mode is yes and the default
// user has no password, whatever `bind` says. Shared by protected mode, enable-debug-command
// local and enable-protected-configs local so all three agree on "local".

/**
 * True for loopback peers: 127.0.0.0/8 and ::1 as Redis's connIsLocal, plus their IPv4-mapped
 * form (::ffff:127.x.x.x), which a dual-stack Node listener reports for IPv4 clients (Redis's
 * separate IPv4 socket never sees it). Unknown addresses are not local.
 */
export function isLocalAddress(remoteAddress: string | undefined): boolean {
  if (remoteAddress === undefined) return false;
  const a = remoteAddress.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/** Protected mode's verdict for one new connection. */
export function protectedModeRefuses(protectedMode: boolean, passwordSet: boolean, remoteAddress: string | undefined): boolean {
  return protectedMode && !passwordSet && !isLocalAddress(remoteAddress);
}
