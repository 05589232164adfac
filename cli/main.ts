// The one `tessera` command line: node | proxy | dashboard | up | admin … subcommands.
import { Command } from 'commander';
import { runNode } from '../node/main.js';

const program = new Command();
program.name('tessera').description('Tessera: a proxy-based sharding layer for Redis').version('0.1.0');

program
  .command('node')
  .description('run a Tessera node (redis-server compatible): tessera node [file.conf] [--directive value …]')
  .helpOption(false)
  .allowUnknownOption(true)
  .allowExcessArguments(true)
  .argument('[args...]')
  .action(async () => {
    // Everything after "node" goes through redis-server's own argument rules.
    const at = process.argv.indexOf('node', 2);
    await runNode(process.argv.slice(at + 1));
  });

await program.parseAsync(process.argv);
