// Which clients count as local, and protected mode's decision: Redis 7 (connIsLocal,
// clientAcceptHandler) refuses non-loopback clients while protected-mode is yes and the default
// user has no password, whatever `bind` says. Shared by protected mode, enable-debug-command
// local and enable-protected-configs local so all three agree on "local".

/**
 * True for the peers Redis 7.0 calls local (islocalClient, and protected mode's own test):
 * exactly 127.0.0.1 and ::1 (redis-server 7.0.15 refuses 127.0.0.7 too), plus ::ffff:127.0.0.1,
 * the form a dual-stack Node listener reports for an IPv4 127.0.0.1 client (Redis's separate IPv4
 * socket never sees it). Unknown addresses are not local.
 */
export function isLocalAddress(remoteAddress: string | undefined): boolean {
  if (remoteAddress === undefined) return false;
  const a = remoteAddress.toLowerCase();
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1';
}

/** Protected mode's verdict for one new connection. */
export function protectedModeRefuses(protectedMode: boolean, passwordSet: boolean, remoteAddress: string | undefined): boolean {
  return protectedMode && !passwordSet && !isLocalAddress(remoteAddress);
}
