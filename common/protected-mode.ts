// Which clients count as local, and protected mode's decision: Redis 7 (connIsLocal,
// clientAcceptHandler) refuses non-loopback clients while protected-mode is yes and the default
// user has no password, whatever `bind` says. Shared by protected mode, enable-debug-command
// local and enable-protected-configs local so all three agree on "local". Node and proxy share it.

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

/** Redis 7.0.15's refusal text, typo included ("Setup a an"): clients compare it byte for byte. */
export const PROTECTED_MODE_TEXT =
  'Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. If you want to connect from external ' +
  'computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command ' +
  "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is " +
  "running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make " +
  'this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration ' +
  "file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server " +
  'manually just for testing, restart it with the \'--protected-mode no\' option. 4) Setup a an authentication password ' +
  'for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting ' +
  'connections from the outside.';
