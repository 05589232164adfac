// Redis's geohash (geohash.c, geohash_helper.c of 7.0.15): 26-step interleaved hashes stored as
// 52-bit sorted-set scores, the 9-box area cover of a search, the bounding box and the haversine
// distance. Same double operations in the same order, so results print the same digits.
// Hashes of a search's boxes are BigInts (few per query); per-point decoding uses plain numbers.

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

const D_R = Math.PI / 180.0;
const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const TWO_32 = 4294967296;

export interface GeoRange {
  min: number;
  max: number;
}

export const WGS84_LONG: GeoRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const WGS84_LAT: GeoRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };

/** A hash of `step` bits per coordinate (2·step bits, latitude in the even ones). */
export interface GeoHashBits {
  bits: bigint;
  step: number;
}

export interface GeoArea {
  hash: GeoHashBits;
  longitude: GeoRange;
  latitude: GeoRange;
}

/** Spreads the low 16 bits of v to the even bits of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function squash32(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** interleave64(lat, lon) for 32-bit inputs, as [hi, lo] 32-bit words. */
function interleave(lat: number, lon: number): [number, number] {
  const lo = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  const hi = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
  return [hi, lo];
}

/**
 * geohashEncode: the cell of (longitude, latitude) at `step` within the ranges, or null outside
 * them (the WGS84 limits are checked whatever the ranges, as Redis does).
 */
export function geohashEncode(lonRange: GeoRange, latRange: GeoRange, longitude: number, latitude: number, step: number): GeoHashBits | null {
  if (step > 32 || step === 0) return null;
  if (longitude > GEO_LONG_MAX || longitude < GEO_LONG_MIN || latitude > GEO_LAT_MAX || latitude < GEO_LAT_MIN) return null;
  if (latitude < latRange.min || latitude > latRange.max || longitude < lonRange.min || longitude > lonRange.max) return null;
  let latOffset = (latitude - latRange.min) / (latRange.max - latRange.min);
  let lonOffset = (longitude - lonRange.min) / (lonRange.max - lonRange.min);
  latOffset *= 2 ** step;
  lonOffset *= 2 ** step;
  // (uint32_t) conversions truncate; offsets are in [0, 2^step].
  const [hi, lo] = interleave(Math.trunc(latOffset) >>> 0, Math.trunc(lonOffset) >>> 0);
  return { bits: (BigInt(hi) << 32n) | BigInt(lo), step };
}

/** The score GEOADD stores for a point (geohashAlign52Bits of the step-26 hash) as exact integer text. */
export function geoScoreText(longitude: number, latitude: number): string | null {
  const hash = geohashEncode(WGS84_LONG, WGS84_LAT, longitude, latitude, GEO_STEP_MAX);
  return hash === null ? null : hash.bits.toString();
}

/** (uint64_t) of a double as x86-64 gcc code computes it, split into [hi, lo]; scores outside [0, 2^53) are rare. */
function scoreToU64(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 53) {
    const t = Math.trunc(score);
    return [Math.floor(t / TWO_32), t >>> 0];
  }
  let v: bigint;
  if (Number.isNaN(score) || score <= -(2 ** 63) || score >= 2 ** 64) v = score >= 2 ** 64 ? 0n : 1n << 63n;
  else v = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

/** geohashDecode of a 32-bit pair of cell numbers at `step` into the cell's ranges. */
function decodeCells(lonRange: GeoRange, latRange: GeoRange, ilato: number, ilono: number, step: number): { longitude: GeoRange; latitude: GeoRange } {
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  const div = 2 ** step;
  return {
    latitude: {
      min: latRange.min + ((ilato * 1.0) / div) * latScale,
      max: latRange.min + ((((ilato + 1) >>> 0) * 1.0) / div) * latScale,
    },
    longitude: {
      min: lonRange.min + ((ilono * 1.0) / div) * lonScale,
      max: lonRange.min + ((((ilono + 1) >>> 0) * 1.0) / div) * lonScale,
    },
  };
}

/** deinterleave64 of [hi, lo]: [lat cells, lon cells] (32 bits each). */
function deinterleave(hi: number, lo: number): [number, number] {
  const lat = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const lon = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  return [lat, lon];
}

/** geohashDecode (WGS84 ranges) of a box hash. */
export function geohashDecode(hash: GeoHashBits): GeoArea {
  const hi = Number(hash.bits >> 32n) >>> 0;
  const lo = Number(hash.bits & 0xffffffffn);
  const [ilato, ilono] = deinterleave(hi, lo);
  return { hash, ...decodeCells(WGS84_LONG, WGS84_LAT, ilato, ilono, hash.step) };
}

const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN;
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN;
const STEP_MAX_DIV = 2 ** GEO_STEP_MAX;

/**
 * decodeGeohash of a member's score into xy = [longitude, latitude]: the cell centre clamped to
 * the limits. Allocation-free, since searches decode every member of their boxes.
 */
export function decodeScoreInto(score: number, xy: Float64Array): void {
  let hi: number;
  let lo: number;
  if (score >= 0 && score < 2 ** 53) {
    const t = Math.trunc(score);
    hi = Math.floor(t / TWO_32);
    lo = t >>> 0;
  } else {
    [hi, lo] = scoreToU64(score);
  }
  const ilato = (squash32(lo) | (squash32(hi) << 16)) >>> 0;
  const ilono = (squash32(lo >>> 1) | (squash32(hi >>> 1) << 16)) >>> 0;
  const latMin = GEO_LAT_MIN + ((ilato * 1.0) / STEP_MAX_DIV) * LAT_SCALE;
  const latMax = GEO_LAT_MIN + ((((ilato + 1) >>> 0) * 1.0) / STEP_MAX_DIV) * LAT_SCALE;
  const lonMin = GEO_LONG_MIN + ((ilono * 1.0) / STEP_MAX_DIV) * LONG_SCALE;
  const lonMax = GEO_LONG_MIN + ((((ilono + 1) >>> 0) * 1.0) / STEP_MAX_DIV) * LONG_SCALE;
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  xy[0] = lon;
  xy[1] = lat;
}

const decoded = new Float64Array(2);

/** decodeScoreInto as a fresh [longitude, latitude]. */
export function decodeScore(score: number): [number, number] {
  decodeScoreInto(score, decoded);
  return [decoded[0]!, decoded[1]!];
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/** GEOHASH's 11-character standard geohash of a member's score (re-encoded with ±90° latitudes). */
export function standardGeohash(score: number): string {
  const [lon, lat] = decodeScore(score);
  const hash = geohashEncode({ min: -180, max: 180 }, { min: -90, max: 90 }, lon, lat, 26);
  const bits = hash?.bits ?? 0n;
  let out = '';
  for (let i = 0; i < 11; i++) {
    // 52 bits give 10 characters; the 11th is always '0', as in Redis.
    const idx = i === 10 ? 0 : Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn);
    out += GEO_ALPHABET[idx];
  }
  return out;
}

const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;
const U64 = (1n << 64n) - 1n;

/** geohash_move_x / geohash_move_y: the neighbouring cell east/west (x) or north/south (y). */
function move(hash: GeoHashBits, d: number, axis: 'x' | 'y'): GeoHashBits {
  if (d === 0) return hash;
  const shift = BigInt(64 - hash.step * 2);
  let x = hash.bits & ODD_BITS;
  let y = hash.bits & EVEN_BITS;
  const zz = (axis === 'x' ? EVEN_BITS : ODD_BITS) >> shift;
  const moved = axis === 'x' ? x : y;
  let m = d > 0 ? (moved + (zz + 1n)) & U64 : ((moved | zz) - (zz + 1n)) & U64;
  m &= (axis === 'x' ? ODD_BITS : EVEN_BITS) >> shift;
  if (axis === 'x') x = m;
  else y = m;
  return { bits: x | y, step: hash.step };
}

function neighbour(hash: GeoHashBits, dx: number, dy: number): GeoHashBits {
  return move(move(hash, dx, 'x'), dy, 'y');
}

/** A search shape (GeoShape): centre, unit conversion, radius or box, and its bounding box. */
export interface GeoShape {
  type: 'circle' | 'box';
  lon: number;
  lat: number;
  /** Metres per unit. */
  conversion: number;
  radius: number;
  width: number;
  height: number;
}

/** geohashEstimateStepsByRadius. */
function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** geohashBoundingBox: [min lon, min lat, max lon, max lat]. */
export function boundingBox(shape: GeoShape): [number, number, number, number] {
  const { lon, lat } = shape;
  const height = shape.conversion * (shape.type === 'circle' ? shape.radius : shape.height / 2);
  const width = shape.conversion * (shape.type === 'circle' ? shape.radius : shape.width / 2);
  const latDelta = height / EARTH_RADIUS_IN_METERS / D_R;
  const lonDeltaTop = width / EARTH_RADIUS_IN_METERS / Math.cos((lat + latDelta) * D_R) / D_R;
  const lonDeltaBottom = width / EARTH_RADIUS_IN_METERS / Math.cos((lat - latDelta) * D_R) / D_R;
  const southern = lat < 0;
  return [
    southern ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lat - latDelta,
    southern ? lon + lonDeltaBottom : lon + lonDeltaTop,
    lat + latDelta,
  ];
}

/** The nine boxes to search, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW); null = excluded. */
export function searchBoxes(shape: GeoShape): Array<GeoHashBits | null> {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  const radiusMeters =
    (shape.type === 'circle' ? shape.radius : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2))) *
    shape.conversion;
  let steps = estimateSteps(radiusMeters, shape.lat);
  let hash = geohashEncode(WGS84_LONG, WGS84_LAT, shape.lon, shape.lat, steps)!;
  const around = (h: GeoHashBits) => ({
    north: neighbour(h, 0, 1),
    south: neighbour(h, 0, -1),
    east: neighbour(h, 1, 0),
    west: neighbour(h, -1, 0),
  });
  let n = around(hash);
  // A box edge too close to the search area: one step coarser.
  const decrease =
    geohashDecode(n.north).latitude.max < maxLat ||
    geohashDecode(n.south).latitude.min > minLat ||
    geohashDecode(n.east).longitude.max < maxLon ||
    geohashDecode(n.west).longitude.min > minLon;
  if (steps > 1 && decrease) {
    steps--;
    hash = geohashEncode(WGS84_LONG, WGS84_LAT, shape.lon, shape.lat, steps)!;
    n = around(hash);
  }
  const area = geohashDecode(hash);
  const boxes: Array<GeoHashBits | null> = [
    hash, n.north, n.south, n.east, n.west,
    neighbour(hash, 1, 1), neighbour(hash, -1, 1), neighbour(hash, 1, -1), neighbour(hash, -1, -1),
  ];
  if (steps >= 2) {
    // Indexes: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW.
    if (area.latitude.min < minLat) for (const i of [2, 8, 7]) boxes[i] = null;
    if (area.latitude.max > maxLat) for (const i of [1, 5, 6]) boxes[i] = null;
    if (area.longitude.min < minLon) for (const i of [4, 8, 6]) boxes[i] = null;
    if (area.longitude.max > maxLon) for (const i of [3, 7, 5]) boxes[i] = null;
  }
  return boxes;
}

/** scoresOfGeoHashBox: [min (inclusive), max (exclusive)] scores of the members inside a box. */
export function boxScores(hash: GeoHashBits): [number, number] {
  const shift = BigInt(52 - hash.step * 2);
  return [Number(hash.bits << shift), Number((hash.bits + 1n) << shift)];
}

/** geohashGetLatDistance. */
function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(lat2d * D_R - lat1d * D_R);
}

/** geohashGetDistance: haversine great-circle distance in metres. */
export function geoDistance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = lon1d * D_R;
  const lon2r = lon2d * D_R;
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1d, lat2d);
  const lat1r = lat1d * D_R;
  const lat2r = lat2d * D_R;
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

/** geoWithinShape for a decoded point: its distance from the centre in metres, or -1 outside. */
export function distanceIfWithin(shape: GeoShape, lon: number, lat: number): number {
  if (shape.type === 'circle') {
    const d = geoDistance(shape.lon, shape.lat, lon, lat);
    return d > shape.radius * shape.conversion ? -1 : d;
  }
  const widthM = shape.width * shape.conversion;
  const heightM = shape.height * shape.conversion;
  if (latDistance(lat, shape.lat) > heightM / 2) return -1;
  if (geoDistance(lon, lat, shape.lon, lat) > widthM / 2) return -1;
  return geoDistance(shape.lon, shape.lat, lon, lat);
}
