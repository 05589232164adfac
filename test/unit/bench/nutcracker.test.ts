import { describe, it, expect } from 'vitest';
import { nutcrackerYaml } from '../../../bench/nutcracker.js';

describe('nutcrackerYaml', () => {
  it('writes one redis pool listening on loopback with every server at weight 1 and ejection off', () => {
    const yaml = nutcrackerYaml({
      name: 'bench', listenPort: 22121, servers: ['127.0.0.1:7001', '127.0.0.1:7002'], hash: 'fnv1a_64', distribution: 'ketama',
    });
    expect(yaml).toBe([
      'bench:',
      '  listen: 127.0.0.1:22121',
      '  hash: fnv1a_64',
      '  distribution: ketama',
      '  redis: true',
      '  auto_eject_hosts: false',
      '  servers:',
      '   - 127.0.0.1:7001:1',
      '   - 127.0.0.1:7002:1',
      '',
    ].join('\n'));
  });

  it('honours the hash and distribution asked for', () => {
    const yaml = nutcrackerYaml({ name: 'p', listenPort: 1, servers: ['h:1'], hash: 'crc32a', distribution: 'modula' });
    expect(yaml).toContain('  hash: crc32a\n');
    expect(yaml).toContain('  distribution: modula\n');
  });

  it('refuses names and servers that would produce broken YAML', () => {
    const base = { name: 'bench', listenPort: 1, servers: ['127.0.0.1:1'], hash: 'fnv1a_64', distribution: 'ketama' } as const;
    expect(() => nutcrackerYaml({ ...base, name: 'a b:' })).toThrow(/pool name/);
    expect(() => nutcrackerYaml({ ...base, servers: [] })).toThrow(/at least one server/);
    expect(() => nutcrackerYaml({ ...base, servers: ['127.0.0.1'] })).toThrow(/host:port/);
  });
});
