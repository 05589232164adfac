// Geo commands (Redis doc group "geo"): points are sorted-set members scored by a 52-bit geohash.
import { defineCommands } from '../define.js';

const c = defineCommands('sorted-set');

export const geoCommands = [
  c('geoadd', -5, 'write denyoom', [1, 1, 1], 'single'),
  c('geodist', -4, 'readonly', [1, 1, 1], 'single'),
  c('geohash', -2, 'readonly', [1, 1, 1], 'single'),
  c('geopos', -2, 'readonly', [1, 1, 1], 'single'),
  c('geosearch', -7, 'readonly', [1, 1, 1], 'single'),
  c('geosearchstore', -8, 'write denyoom', [1, 2, 1], 'single'),
  // Write commands because of STORE/STOREDIST (the _RO forms are the read-only ones).
  c('georadius', -6, 'write denyoom', null, 'single', { movable: 'georadius' }),
  c('georadiusbymember', -5, 'write denyoom', null, 'single', { movable: 'georadiusbymember' }),
  c('georadius_ro', -6, 'readonly', [1, 1, 1], 'single'),
  c('georadiusbymember_ro', -5, 'readonly', [1, 1, 1], 'single'),
];
