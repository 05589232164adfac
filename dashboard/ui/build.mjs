// Bundles the web UI (preact + htm + uPlot, no CDN) into dist/dashboard/ui with esbuild: run by
// `npm run build` after tsc. The coordinator serves that directory (dashboard/routes/ui.ts).
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = resolve(here, '../../dist/dashboard/ui');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: resolve(here, 'src/main.js') },
  bundle: true, format: 'esm', target: 'es2022', minify: true, sourcemap: true, legalComments: 'linked',
  outdir: out, logLevel: 'warning',
  // uPlot's stylesheet is pulled in by src/main.js's import and bundled into app.css.
  loader: { '.css': 'css' },
});
copyFileSync(resolve(here, 'index.html'), resolve(out, 'index.html'));
console.log(`web UI bundled into ${out.replace(dirname(dirname(here)) + '/', '')}`);
