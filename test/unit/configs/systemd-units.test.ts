// The systemd examples in configs/systemd/: every unit's ExecStart must run a real `tessera`
// subcommand with flags the CLI accepts (read from `bin/tessera <cmd> --help`, so the compiled
// CLI is the judge; the node's redis-server style arguments go through configFromArgs), its
// config file examples must load, and no secret may sit on a command line or in Environment=.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SECRET_OPTIONS } from '../../../cli/process-title.js';
import { loadDashboardConfig } from '../../../dashboard/config.js';
import { NodeConfig } from '../../../node/config.js';
import { configFromArgs } from '../../../node/main.js';
import { loadProxyConfig } from '../../../proxy/config.js';
import { resolveSecrets } from '../../../proxy/main.js';
import { REPO_ROOT, TESSERA_BIN } from '../../helpers/servers.js';

const UNIT_DIR = join(REPO_ROOT, 'configs/systemd');
/** Where the units expect things, and where the examples live in the repository. */
const INSTALL_ROOT = '/opt/tessera';
const ETC = '/etc/tessera/';
const EXAMPLE_ETC = join(UNIT_DIR, 'etc') + '/';

interface Unit {
  file: string;
  /** key → every value, in order (LoadCredential= and friends repeat). */
  service: Map<string, string[]>;
  execStart: string[];
}

function parseUnit(file: string): Unit {
  const service = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(join(UNIT_DIR, file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`${file}: not key=value: ${line}`);
    if (section !== 'Service') continue;
    const key = line.slice(0, eq);
    service.set(key, [...(service.get(key) ?? []), line.slice(eq + 1)]);
  }
  const exec = service.get('ExecStart') ?? [];
  if (exec.length !== 1) throw new Error(`${file}: expected one ExecStart=, found ${exec.length}`);
  // Our units use no quoting; a quote would need systemd's own splitting rules, so refuse it.
  if (/["'\\]/.test(exec[0]!)) throw new Error(`${file}: ExecStart with quotes or escapes is not supported by this check`);
  return { file, service, execStart: exec[0]!.split(/\s+/) };
}

const units = readdirSync(UNIT_DIR).filter((f) => f.endsWith('.service')).sort().map(parseUnit);

/** `tessera <cmd> --help` → flag → whether it takes a value. */
function helpFlags(cmd: string | null): Map<string, boolean> {
  const res = spawnSync(process.execPath, [TESSERA_BIN, ...(cmd ? [cmd] : []), '--help'], { encoding: 'utf8', timeout: 20_000 });
  if (res.status !== 0) throw new Error(`bin/tessera ${cmd ?? ''} --help failed (npm run build first?): ${res.stderr}`);
  const flags = new Map<string, boolean>();
  for (const m of res.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)(?: <[^>]+>| \[[^\]]+\])?/gm)) {
    flags.set(m[1]!, /<|\[/.test(m[0].slice(m[0].indexOf(m[1]!) + m[1]!.length)));
  }
  return flags;
}

function subcommands(): Set<string> {
  const res = spawnSync(process.execPath, [TESSERA_BIN, '--help'], { encoding: 'utf8', timeout: 20_000 });
  if (res.status !== 0) throw new Error(`bin/tessera --help failed (npm run build first?): ${res.stderr}`);
  const commands = res.stdout.split(/^Commands:$/m)[1] ?? '';
  return new Set([...commands.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!));
}

/** The tokens after `tessera <subcommand>`; fails unless ExecStart is node + bin/tessera + subcommand. */
function tesseraArgs(u: Unit): { sub: string; args: string[] } {
  const [node, bin, sub, ...args] = u.execStart;
  expect(node, `${u.file}: ExecStart runs node by its absolute path`).toBe('/usr/bin/node');
  expect(bin, `${u.file}: ExecStart runs the installed bin/tessera`).toBe(`${INSTALL_ROOT}/bin/tessera`);
  expect(sub, `${u.file}: a subcommand`).toBeDefined();
  return { sub: sub!, args };
}

/** Credential names LoadCredential= provides (the part before the colon). */
function credentials(u: Unit): Set<string> {
  return new Set((u.service.get('LoadCredential') ?? []).map((v) => v.split(':', 1)[0]!));
}

/** Replaces systemd specifiers and install paths with the repository's examples and a temp dir. */
function localPath(u: Unit, arg: string, credDir: string): string {
  return arg.replaceAll('%i', '6379').replaceAll('%d', credDir).replace(ETC, EXAMPLE_ETC).replace(`${INSTALL_ROOT}/`, `${REPO_ROOT}/`);
}

const tmp = mkdtempSync(join(tmpdir(), 'tessera-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('configs/systemd units', () => {
  it('ship a node, a proxy and a coordinator unit', () => {
    expect(units.map((u) => u.file)).toEqual(expect.arrayContaining(['tessera-dashboard.service', 'tessera-node@.service', 'tessera-proxy.service']));
  });

  it('run a real tessera subcommand with only flags its --help lists, each with its value', () => {
    const known = subcommands();
    expect(known).toEqual(new Set(['node', 'proxy', 'up', 'dashboard', 'admin', 'help']));
    const nodeDirectives = new Set([...NodeConfig.directiveNames(), 'requirepass-file', 'masterauth-file']);
    for (const u of units) {
      const { sub, args } = tesseraArgs(u);
      expect(known.has(sub), `${u.file}: '${sub}' is a tessera subcommand`).toBe(true);
      expect(['node', 'proxy', 'dashboard'], `${u.file}: a service runs a server, not '${sub}'`).toContain(sub);
      if (sub === 'node') {
        // redis-server rules: [file.conf] then --directive value…
        expect(args[0]!.startsWith('--'), `${u.file}: the node's config file comes first`).toBe(false);
        for (let i = 1; i < args.length; i++) {
          const name = args[i]!;
          expect(name.startsWith('--'), `${u.file}: '${name}' where a --directive was expected`).toBe(true);
          expect(nodeDirectives.has(name.slice(2)), `${u.file}: ${name} is a node directive`).toBe(true);
          expect(args[i + 1] !== undefined && !args[i + 1]!.startsWith('--'), `${u.file}: ${name} has a value`).toBe(true);
          i++;
        }
        continue;
      }
      const flags = helpFlags(sub);
      expect(flags.size, `tessera ${sub} --help lists its options`).toBeGreaterThan(5);
      for (let i = 0; i < args.length; i++) {
        const name = args[i]!;
        expect(flags.has(name), `${u.file}: tessera ${sub} accepts ${name}`).toBe(true);
        if (flags.get(name)) {
          expect(args[i + 1] !== undefined && !args[i + 1]!.startsWith('--'), `${u.file}: ${name} has a value`).toBe(true);
          i++;
        }
      }
    }
  });

  it('carry no secret on a command line or in Environment=; secret files come from LoadCredential', () => {
    const secretEnv = /^(TESSERA_[A-Z_]*(PASS|PASSWORD|TOKEN|REQUIREPASS|MASTERAUTH)[A-Z_]*)=/;
    for (const u of units) {
      for (const arg of u.execStart) {
        const flag = arg.split('=', 1)[0]!;
        expect(SECRET_OPTIONS.has(flag), `${u.file}: ${flag} puts a secret on the command line (use its -file form)`).toBe(false);
      }
      for (const env of u.service.get('Environment') ?? []) {
        for (const assignment of env.split(/\s+/)) expect(secretEnv.test(assignment), `${u.file}: secret in Environment= (${assignment.split('=')[0]})`).toBe(false);
      }
      // Every --*-file flag reads a credential this unit loads, never a path anyone could read.
      const creds = credentials(u);
      u.execStart.forEach((arg, i) => {
        if (!/^--[a-z-]+-file$/.test(arg)) return;
        const value = u.execStart[i + 1]!;
        const m = /^%d\/([A-Za-z0-9_.-]+)$/.exec(value);
        expect(m, `${u.file}: ${arg} ${value} reads from the credential directory (%d/NAME)`).not.toBeNull();
        expect(creds.has(m![1]!), `${u.file}: LoadCredential=${m![1]}:… is declared`).toBe(true);
      });
      for (const file of u.service.get('EnvironmentFile') ?? []) expect(file.replace(/^-/, '').startsWith(ETC), `${u.file}: EnvironmentFile under ${ETC}`).toBe(true);
    }
  });

  it('run unprivileged, restart, and raise the file limit', () => {
    for (const u of units) {
      expect(u.service.get('User'), `${u.file}: User=`).toEqual(['tessera']);
      expect(u.service.get('Restart')?.[0], `${u.file}: Restart=`).toMatch(/^(always|on-failure)$/);
      expect(Number(u.service.get('LimitNOFILE')?.[0]), `${u.file}: LimitNOFILE= above maxclients (10000)`).toBeGreaterThan(10_032);
      expect(u.service.get('NoNewPrivileges'), `${u.file}: NoNewPrivileges=`).toEqual(['yes']);
    }
  });

  it('start with the example configs: the node parses its arguments, proxy and coordinator load their TOML', () => {
    const credDir = join(tmp, 'credentials');
    mkdirSync(credDir, { recursive: true });
    for (const u of units) {
      const { sub, args } = tesseraArgs(u);
      // Credentials with a dummy value, as systemd would place them.
      for (const name of credentials(u)) {
        writeFileSync(join(credDir, name), 'dummy-secret\n', { mode: 0o600 });
      }
      const local = args.map((a) => localPath(u, a, credDir));
      if (sub === 'node') {
        expect(existsSync(local[0]!), `${u.file}: example ${local[0]} exists`).toBe(true);
        const config = configFromArgs(local, {});
        expect(config.get('requirepass'), `${u.file}: the password came from the credential`).toBe('dummy-secret');
        expect(config.getBool('slot-ownership'), 'cluster mode').toBe(true);
        expect(config.getBool('appendonly'), 'AOF on').toBe(true);
        expect(config.get('replicaof'), 'no replicaof in the config: the coordinator sets roles').toBe('');
        continue;
      }
      const opt = (name: string) => {
        const i = local.indexOf(name);
        return i < 0 ? undefined : local[i + 1];
      };
      const configFile = opt('--config')!;
      expect(existsSync(configFile), `${u.file}: example ${configFile} exists`).toBe(true);
      if (sub === 'proxy') {
        expect(loadProxyConfig(configFile, {}).requirepass, 'no secret in the example TOML').toBe('');
        // The flags as commander hands them to runProxy (--backend-password-file → backendPasswordFile).
        const flags: Record<string, string> = {};
        for (let i = 0; i < local.length; i += 2) flags[local[i]!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = local[i + 1]!;
        const { config: _file, ...rest } = flags;
        const config = loadProxyConfig(configFile, resolveSecrets(rest, {}));
        expect(config.store.startsWith('etcd://'), 'the proxy example uses etcd').toBe(true);
        for (const k of ['requirepass', 'backendPassword', 'adminToken', 'adminPassword'] as const) expect(config[k], `${u.file}: ${k} from its credential`).toBe('dummy-secret');
      } else {
        const config = loadDashboardConfig({ config: configFile, tokenFile: opt('--token-file') }, {});
        expect(config.token, 'the token came from the credential').toBe('dummy-secret');
        expect(config.store.startsWith('etcd://'), 'the coordinator example uses etcd').toBe(true);
        expect(config.advertise).not.toBe('');
      }
    }
  });

  it('the example configs under configs/systemd/etc hold no secrets', () => {
    const node = new NodeConfig();
    node.loadText(readFileSync(join(EXAMPLE_ETC, 'node-6379.conf'), 'latin1'));
    expect(node.get('requirepass')).toBe('');
    expect(node.get('masterauth')).toBe('');
    for (const f of ['proxy.toml', 'dashboard.toml']) {
      const text = readFileSync(join(EXAMPLE_ETC, f), 'utf8');
      expect(text, f).not.toMatch(/^\s*(requirepass|backend-password|admin-password|admin-token|token)\s*=/m);
    }
  });
});
