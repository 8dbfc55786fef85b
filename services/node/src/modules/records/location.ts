import type { InputChecker } from './validation.js';

/** A place as stored in a record: any of UPRN, postcode and a point. */
export interface GeoLocation {
  uprn: string | null;
  postcode: string | null;
  lat: number | null;
  lon: number | null;
}

export interface GeoLocationInput {
  uprn?: string | null;
  postcode?: string | null;
  lat?: number | null;
  lon?: number | null;
}

/** Reads a location: at least one of UPRN, postcode or a point; lat and lon come together. */
export function checkLocation(
  c: InputChecker,
  input: GeoLocationInput | null | undefined,
  opts: { required: boolean },
): GeoLocation | null {
  if (!input) {
    if (opts.required) c.fail('location', 'REQUIRED', 'location is required');
    return null;
  }
  const l = c.nested('location');
  const uprn = l.uprn('uprn', input.uprn) ?? null;
  const postcode = l.postcode('postcode', input.postcode) ?? null;
  const lat = l.coordinate('lat', input.lat, 90) ?? null;
  const lon = l.coordinate('lon', input.lon, 180) ?? null;
  if ((input.lat == null) !== (input.lon == null))
    l.fail(input.lat == null ? 'lat' : 'lon', 'REQUIRED', 'lat and lon must be given together');
  if (input.uprn == null && input.postcode == null && input.lat == null && input.lon == null) {
    l.fail('postcode', 'REQUIRED', 'a location needs a UPRN, a postcode or a point');
  }
  return { uprn, postcode, lat, lon };
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function haversineMetres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A box that contains every point within `metres` of `p` (the indexed prefilter before haversine). */
export function boundingBox(p: { lat: number; lon: number }, metres: number) {
  const dLat = metres / 111_320;
  const dLon = metres / (111_320 * Math.max(Math.cos((p.lat * Math.PI) / 180), 0.01));
  return { minLat: p.lat - dLat, maxLat: p.lat + dLat, minLon: p.lon - dLon, maxLon: p.lon + dLon };
}
