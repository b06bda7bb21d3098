/** Great-circle geometry on a spherical Earth; good to ~0.5 %, which is plenty to rank branches. */

export const EARTH_RADIUS_METERS = 6_371_008.8;
const RAD = Math.PI / 180;

/** Haversine distance in meters. */
export function haversineMeters(lat1: number, lng1: number, lat2: number, lng2: number): number {
  return haversineWithCos(lat1, lng1, Math.cos(lat1 * RAD), lat2, lng2, Math.cos(lat2 * RAD));
}

/**
 * Same as haversineMeters with the cosines of the latitudes precomputed; it performs the same
 * floating-point operations, so both return bit-identical results (tie-breaking relies on it).
 */
export function haversineWithCos(
  lat1: number,
  lng1: number,
  cosLat1: number,
  lat2: number,
  lng2: number,
  cosLat2: number,
): number {
  const sLat = Math.sin(((lat2 - lat1) * RAD) / 2);
  const sLng = Math.sin(((lng2 - lng1) * RAD) / 2);
  const a = sLat * sLat + cosLat1 * cosLat2 * sLng * sLng;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Smallest angular difference between two longitudes, in degrees (handles the antimeridian). */
function lngSeparation(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/**
 * A lower bound, in meters, of the distance from a point to any point of a lat/lng box.
 * Latitude: any path spans at least the latitude gap. Longitude: any path to a point whose
 * longitude differs by at least Δλ crosses a meridian at Δλ, whose great circle lies
 * asin(cos φ · sin Δλ) away (cross-track distance); beyond 90° that is capped at the pole distance.
 * The bound is shaved slightly so floating-point noise never makes it exceed a true distance.
 */
export function boxLowerBoundMeters(
  lat: number,
  lng: number,
  cosLat: number,
  latMin: number,
  latMax: number,
  lngMin: number,
  lngMax: number,
): number {
  let latGap = 0;
  if (lat < latMin) latGap = latMin - lat;
  else if (lat > latMax) latGap = lat - latMax;
  let bound = latGap * RAD;
  if (lng < lngMin || lng > lngMax) {
    const sep = Math.min(lngSeparation(lng, lngMin), lngSeparation(lng, lngMax));
    const crossTrack = Math.asin(Math.min(1, cosLat * Math.sin(Math.min(sep, 90) * RAD)));
    if (crossTrack > bound) bound = crossTrack;
  }
  if (bound === 0) return 0;
  return bound * EARTH_RADIUS_METERS * (1 - 1e-9) - 1e-6;
}

export function isValidLatLng(lat: unknown, lng: unknown): lat is number {
  return (
    typeof lat === 'number' &&
    typeof lng === 'number' &&
    Number.isFinite(lat) &&
    Number.isFinite(lng) &&
    lat >= -90 &&
    lat <= 90 &&
    lng >= -180 &&
    lng <= 180
  );
}

export function formatDistance(meters: number): string {
  return meters < 1000 ? `${Math.round(meters)} m` : `${(meters / 1000).toFixed(1)} km`;
}
