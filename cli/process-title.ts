// Keeps passwords given on the command line out of `ps`: the process title is rewritten with
// every secret option's value replaced. (Before this runs, for the first 0.03–0.4 s of the
// process, /proc/<pid>/cmdline still shows them: prefer the -file options or the environment.)

/** Options whose value is a secret (node directives and proxy flags alike). */
export const SECRET_OPTIONS: ReadonlySet<string> = new Set([
  '--requirepass', '--masterauth', '--backend-password', '--admin-password', '--admin-token', '--token',
]);

const MASK = '***';

/** argv with the value of every secret option masked (`--opt value` and `--opt=value`). */
export function redactArgv(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i]!;
    const eq = arg.indexOf('=');
    if (eq > 0 && SECRET_OPTIONS.has(arg.slice(0, eq))) out[i] = `${arg.slice(0, eq)}=${MASK}`;
    else if (SECRET_OPTIONS.has(arg) && i + 1 < out.length) out[++i] = MASK;
  }
  return out;
}

/**
 * Rewrites process.title when argv holds a secret. On Linux this overwrites the argv area that
 * `ps` and /proc/<pid>/cmdline read (the title is cut to that area's length, which the masked
 * text never exceeds by more than the mask). Returns true when it changed the title.
 */
export function hideSecretsFromTitle(argv: readonly string[] = process.argv): boolean {
  const redacted = redactArgv(argv);
  if (redacted.every((a, i) => a === argv[i])) return false;
  process.title = redacted.join(' ');
  return true;
}
