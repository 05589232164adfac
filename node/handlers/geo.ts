// Geo commands on sorted sets (geo.c of Redis 7.0.15): GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH
// GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER and the _RO forms. GEOADD is ZADD with geohash scores;
// searches walk the 9 geohash boxes of the shape in Redis's order, so replies match element for
// element (pqsort for partial sorts included). Geometry lives in keyspace/types/geohash.ts.
import { cString } from '../../common/commands/table.js';
import { ERR } from '../../common/errors.js';
import { parseInt64 } from '../keyspace/types/canonical-int.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  type GeoShape,
  boxScores,
  decodeScore,
  decodeScoreInto,
  distanceIfWithin,
  geoDistance,
  geoScoreText,
  searchBoxes,
  standardGeohash,
} from '../keyspace/types/geohash.js';
import { ZSetValue } from '../keyspace/types/zset-value.js';
import type { Session } from '../session.js';
import { NOTIFY_ZSET, delEvent, keyEvent, keyMissEvent, newEventIfAbsent } from './key-events.js';
import { formatDistance, formatFixed, replyHuman } from './geo-format.js';
import { type HandlerMap, is, syntaxError } from './handler.js';
import { partialQuickSort } from './pqsort.js';
import { zsetHandlers } from './zsets.js';
import { parseDouble, zsetAt } from './zset-args.js';

function doubleArg(s: Session, text: string, error: string): number | null {
  const d = parseDouble(text);
  if (d === null) s.w.error(error);
  return d;
}

/** extractLongLatOrReply: two doubles within the WGS84 limits; null after replying. */
function lonLatArgs(s: Session, args: string[], at: number): [number, number] | null {
  const lon = doubleArg(s, args[at]!, ERR.notFloat);
  if (lon === null) return null;
  const lat = doubleArg(s, args[at + 1]!, ERR.notFloat);
  if (lat === null) return null;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    s.w.error(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** extractUnitOrReply: metres per unit, or null after replying. */
function unitArg(s: Session, text: string): number | null {
  const u = text.toLowerCase();
  if (u === 'm') return 1;
  if (u === 'km') return 1000;
  if (u === 'ft') return 0.3048;
  if (u === 'mi') return 1609.34;
  s.w.error('ERR unsupported unit provided. please use M, KM, FT, MI');
  return null;
}

/* ---------------------------------------------------------------- GEOADD and point reads */

/** GEOADD key [NX|XX] [CH] longitude latitude member …: ZADD with the points' geohash scores. */
function geoaddCommand(s: Session, args: string[]): void {
  let nx = false;
  let xx = false;
  let first = 2;
  for (; first < args.length; first++) {
    const opt = args[first]!;
    if (is(opt, 'nx')) nx = true;
    else if (is(opt, 'xx')) xx = true;
    else if (!is(opt, 'ch')) break;
  }
  if ((args.length - first) % 3 !== 0 || (xx && nx)) return syntaxError(s);
  const zaddArgs = ['zadd', ...args.slice(1, first)];
  for (let i = first; i < args.length; i += 3) {
    const xy = lonLatArgs(s, args, i);
    if (xy === null) return;
    zaddArgs.push(geoScoreText(xy[0], xy[1])!, args[i + 2]!);
  }
  // Replicas and the AOF get the ZADD, as Redis propagates it.
  s.propagateAs = [['ZADD', ...zaddArgs.slice(1)]];
  zsetHandlers.zadd!(s, zaddArgs);
}

/** GEODIST key member1 member2 [M|KM|FT|MI] */
function geodistCommand(s: Session, args: string[]): void {
  let toMeters = 1;
  if (args.length === 5) {
    const unit = unitArg(s, args[4]!);
    if (unit === null) return;
    toMeters = unit;
  } else if (args.length > 5) {
    return syntaxError(s);
  }
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  if (z === undefined) return s.w.null();
  const a = z.score(args[2]!);
  const b = z.score(args[3]!);
  if (a === undefined || b === undefined) return s.w.null();
  const [lon1, lat1] = decodeScore(a);
  const [lon2, lat2] = decodeScore(b);
  s.w.bulk(formatDistance(geoDistance(lon1, lat1, lon2, lat2) / toMeters));
}

/** GEOHASH key [member …] */
function geohashCommand(s: Session, args: string[]): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = z?.score(args[i]!);
    if (score === undefined) s.w.null();
    else s.w.bulk(standardGeohash(score));
  }
}

/** GEOPOS key [member …] */
function geoposCommand(s: Session, args: string[]): void {
  const z = zsetAt(s, args[1]!);
  if (z === null) return;
  s.w.array(args.length - 2);
  for (let i = 2; i < args.length; i++) {
    const score = z?.score(args[i]!);
    if (score === undefined) {
      s.w.nullArray();
      continue;
    }
    const [lon, lat] = decodeScore(score);
    s.w.array(2);
    replyHuman(s.w, lon);
    replyHuman(s.w, lat);
  }
}

/* ---------------------------------------------------------------- searches */

const RADIUS_COORDS = 1;
const RADIUS_MEMBER = 2;
const RADIUS_NOSTORE = 4;
const GEOSEARCH = 8;
const GEOSEARCHSTORE = 16;

/** One point found by a search (geoPoint). */
interface GeoPoint {
  lon: number;
  lat: number;
  dist: number;
  score: number;
  member: string;
}

interface SearchOptions {
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  sort: 'none' | 'asc' | 'desc';
  any: boolean;
  count: number;
  storeKey: string | null;
  storeDist: boolean;
}

const scratchXY = new Float64Array(2);

/** geoGetPointsInRange over one box's score range [min, max), appending matches (stops at `limit` > 0). */
function pointsInRange(z: ZSetValue, min: number, max: number, shape: GeoShape, out: GeoPoint[], limit: number): void {
  const xy = scratchXY;
  for (const c = z.cursorAtScore(min); c.valid && c.score < max; c.next()) {
    const score = c.score;
    decodeScoreInto(score, xy);
    const dist = distanceIfWithin(shape, xy[0]!, xy[1]!);
    if (dist >= 0) out.push({ lon: xy[0]!, lat: xy[1]!, dist, score, member: c.member });
    if (out.length > 0 && limit > 0 && out.length >= limit) break;
  }
}

/** membersOfAllNeighbors: the nine boxes, skipping excluded ones and a box equal to the last searched. */
function membersOfAllBoxes(z: ZSetValue, shape: GeoShape, limit: number): GeoPoint[] {
  const boxes = searchBoxes(shape);
  const out: GeoPoint[] = [];
  let last = 0;
  for (let i = 0; i < boxes.length; i++) {
    const box = boxes[i];
    if (box === null || box === undefined) continue;
    const prev = boxes[last];
    // Redis compares with the last searched box only once one past the centre was searched.
    if (last !== 0 && prev && box.bits === prev.bits && box.step === prev.step) continue;
    if (out.length > 0 && limit > 0 && out.length >= limit) break;
    const [min, max] = boxScores(box);
    pointsInRange(z, min, max, shape, out, limit);
    last = i;
  }
  return out;
}

function byDistance(a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}

/** Parses the options after the fixed arguments (Redis's loop, in its order); null after replying. */
function parseSearchOptions(s: Session, args: string[], base: number, flags: number, z: ZSetValue | undefined, shape: GeoShape, opts: SearchOptions): { from: boolean; by: boolean } | null {
  let fromMember = false;
  let fromLoc = false;
  let byRadius = false;
  let byBox = false;
  const remaining = args.length - base;
  for (let i = 0; i < remaining; i++) {
    const arg = args[base + i]!;
    const next = base + i + 1;
    if (is(arg, 'withdist')) opts.withDist = true;
    else if (is(arg, 'withhash')) opts.withHash = true;
    else if (is(arg, 'withcoord')) opts.withCoord = true;
    else if (is(arg, 'any')) opts.any = true;
    else if (is(arg, 'asc')) opts.sort = 'asc';
    else if (is(arg, 'desc')) opts.sort = 'desc';
    else if (is(arg, 'count') && i + 1 < remaining) {
      const n = parseInt64(args[next]!);
      if (n === null) {
        s.w.error(ERR.notInteger);
        return null;
      }
      if (n <= 0) {
        s.w.error('ERR COUNT must be > 0');
        return null;
      }
      opts.count = Number(n);
      i++;
    } else if ((is(arg, 'store') || is(arg, 'storedist')) && i + 1 < remaining && !(flags & RADIUS_NOSTORE) && !(flags & GEOSEARCH)) {
      opts.storeKey = args[next]!;
      opts.storeDist = is(arg, 'storedist');
      i++;
    } else if (is(arg, 'storedist') && flags & GEOSEARCH && flags & GEOSEARCHSTORE) {
      opts.storeDist = true;
    } else if (is(arg, 'frommember') && i + 1 < remaining && flags & GEOSEARCH && !fromLoc) {
      // Without a source key the search replies empty, but the options are still checked.
      if (z !== undefined) {
        const score = z.score(args[next]!);
        if (score === undefined) {
          s.w.error('ERR could not decode requested zset member');
          return null;
        }
        [shape.lon, shape.lat] = decodeScore(score);
      }
      fromMember = true;
      i++;
    } else if (is(arg, 'fromlonlat') && i + 2 < remaining && flags & GEOSEARCH && !fromMember) {
      const xy = lonLatArgs(s, args, next);
      if (xy === null) return null;
      [shape.lon, shape.lat] = xy;
      fromLoc = true;
      i += 2;
    } else if (is(arg, 'byradius') && i + 2 < remaining && flags & GEOSEARCH && !byBox) {
      if (!radiusArgs(s, args, next, shape)) return null;
      shape.type = 'circle';
      byRadius = true;
      i += 2;
    } else if (is(arg, 'bybox') && i + 3 < remaining && flags & GEOSEARCH && !byRadius) {
      const w = doubleArg(s, args[next]!, 'ERR need numeric width');
      if (w === null) return null;
      const h = doubleArg(s, args[next + 1]!, 'ERR need numeric height');
      if (h === null) return null;
      if (h < 0 || w < 0) {
        s.w.error('ERR height or width cannot be negative');
        return null;
      }
      const unit = unitArg(s, args[next + 2]!);
      if (unit === null) return null;
      shape.width = w;
      shape.height = h;
      shape.conversion = unit;
      shape.type = 'box';
      byBox = true;
      i += 3;
    } else {
      syntaxError(s);
      return null;
    }
  }
  return { from: fromMember || fromLoc, by: byRadius || byBox };
}

/** extractDistanceOrReply into the shape: radius ≥ 0 and a unit; false after replying. */
function radiusArgs(s: Session, args: string[], at: number, shape: GeoShape): boolean {
  const r = doubleArg(s, args[at]!, 'ERR need numeric radius');
  if (r === null) return false;
  if (r < 0) {
    s.w.error('ERR radius cannot be negative');
    return false;
  }
  const unit = unitArg(s, args[at + 1]!);
  if (unit === null) return false;
  shape.radius = r;
  shape.conversion = unit;
  return true;
}

/** georadiusGeneric: every search command, `srcIndex` being the source key's argument. */
function georadiusGeneric(s: Session, args: string[], srcIndex: number, flags: number): void {
  const srcKey = args[srcIndex]!;
  const z = zsetAt(s, srcKey);
  if (z === null) return;
  // A write command (GEORADIUS …, GEOSEARCHSTORE) reads its source with lookupKeyRead: count it.
  if (!(flags & RADIUS_NOSTORE) && !(flags === GEOSEARCH)) {
    if (z === undefined) {
      s.server.stats.keyspaceMisses++;
      keyMissEvent(s, srcKey);
    } else s.server.stats.keyspaceHits++;
  }
  const shape: GeoShape = { type: 'circle', lon: 0, lat: 0, conversion: 0, radius: 0, width: 0, height: 0 };
  const opts: SearchOptions = { withDist: false, withHash: false, withCoord: false, sort: 'none', any: false, count: 0, storeKey: null, storeDist: false };
  let base: number;
  if (flags & RADIUS_COORDS) {
    base = 6;
    const xy = lonLatArgs(s, args, 2);
    if (xy === null) return;
    [shape.lon, shape.lat] = xy;
    if (!radiusArgs(s, args, base - 2, shape)) return;
  } else if (flags & RADIUS_MEMBER && z === undefined) {
    base = 5; // no source: parse on, to know which empty reply to give
  } else if (flags & RADIUS_MEMBER) {
    base = 5;
    const score = z!.score(args[2]!);
    if (score === undefined) return s.w.error('ERR could not decode requested zset member');
    [shape.lon, shape.lat] = decodeScore(score);
    if (!radiusArgs(s, args, base - 2, shape)) return;
  } else {
    base = 2;
    if (flags & GEOSEARCHSTORE) {
      base = 3;
      opts.storeKey = args[1]!;
    }
  }
  const parsed = parseSearchOptions(s, args, base, flags, z, shape, opts);
  if (parsed === null) return;
  if (opts.storeKey !== null && (opts.withDist || opts.withHash || opts.withCoord)) {
    const what = flags & GEOSEARCHSTORE ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    return s.w.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  const name = cString(args[0]!);
  if (flags & GEOSEARCH && !parsed.from) return s.w.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${name}`);
  if (flags & GEOSEARCH && !parsed.by) return s.w.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${name}`);
  if (opts.any && opts.count === 0) return s.w.error('ERR the ANY argument requires COUNT argument');

  if (z === undefined) {
    if (opts.storeKey === null) return s.w.array(0);
    if (s.db.delete(opts.storeKey)) {
      s.server.changed(s.db, opts.storeKey);
      delEvent(s, opts.storeKey);
    }
    return s.w.integer(0);
  }
  // COUNT without an order means the nearest ones (ANY excepted).
  if (opts.count !== 0 && opts.sort === 'none' && !opts.any) opts.sort = 'asc';
  const points = membersOfAllBoxes(z, shape, opts.any ? opts.count : 0);
  if (points.length === 0 && opts.storeKey === null) return s.w.array(0);
  const returned = opts.count === 0 || points.length < opts.count ? points.length : opts.count;
  if (opts.sort !== 'none') {
    const cmp = opts.sort === 'asc' ? byDistance : (a: GeoPoint, b: GeoPoint) => -byDistance(a, b);
    // glibc's qsort is a stable merge sort here; Redis's pqsort (not stable) for a partial sort.
    if (returned === points.length) points.sort(cmp);
    else partialQuickSort(points, cmp, 0, returned - 1);
  }
  if (opts.storeKey === null) return replyPoints(s, points, returned, shape, opts);
  storePoints(s, opts.storeKey, points, returned, shape, opts.storeDist, flags & GEOSEARCH ? 'geosearchstore' : 'georadiusstore');
}

function replyPoints(s: Session, points: GeoPoint[], returned: number, shape: GeoShape, opts: SearchOptions): void {
  const extras = (opts.withDist ? 1 : 0) + (opts.withCoord ? 1 : 0) + (opts.withHash ? 1 : 0);
  const w = s.w;
  w.array(returned);
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    if (extras > 0) w.array(extras + 1);
    w.bulk(p.member);
    if (opts.withDist) w.bulk(formatDistance(p.dist / shape.conversion));
    if (opts.withHash) w.integer(p.score);
    if (opts.withCoord) {
      w.array(2);
      replyHuman(w, p.lon);
      replyHuman(w, p.lat);
    }
  }
}

/** STORE/STOREDIST/GEOSEARCHSTORE: the results as a new sorted set (or the key deleted when none). */
function storePoints(s: Session, key: string, points: GeoPoint[], returned: number, shape: GeoShape, storeDist: boolean, event: string): void {
  const db = s.db;
  if (returned > 0) {
    const z = new ZSetValue();
    for (let i = 0; i < returned; i++) {
      const p = points[i]!;
      z.set(p.member, storeDist ? p.dist / shape.conversion : p.score);
    }
    newEventIfAbsent(s, db, key);
    db.set(key, z);
    s.server.changed(db, key, returned);
    keyEvent(s, NOTIFY_ZSET, event, key);
  } else if (db.delete(key)) {
    s.server.changed(db, key);
    delEvent(s, key);
  }
  s.w.integer(returned);
}

export const geoHandlers: HandlerMap = {
  geoadd: geoaddCommand,
  geodist: geodistCommand,
  geohash: geohashCommand,
  geopos: geoposCommand,
  georadius: (s, args) => georadiusGeneric(s, args, 1, RADIUS_COORDS),
  georadiusbymember: (s, args) => georadiusGeneric(s, args, 1, RADIUS_MEMBER),
  georadius_ro: (s, args) => georadiusGeneric(s, args, 1, RADIUS_COORDS | RADIUS_NOSTORE),
  georadiusbymember_ro: (s, args) => georadiusGeneric(s, args, 1, RADIUS_MEMBER | RADIUS_NOSTORE),
  geosearch: (s, args) => georadiusGeneric(s, args, 1, GEOSEARCH),
  geosearchstore: (s, args) => georadiusGeneric(s, args, 2, GEOSEARCH | GEOSEARCHSTORE),
};
