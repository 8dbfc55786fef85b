/**
 * The record locator's coarse map of locations of concern. A member's membership filter
 * (mcx.filter/2, `geo` set) also holds every grid cell in which it holds a location of concern
 * that is not retracted (readable or withheld), so a caller asks for locations near a point
 * (mcx.locations/1) only the members whose filter may hold a cell the point's search box touches.
 *
 * Cells are 0.05 degrees of latitude by 0.05 of longitude: about 5.6 km north to south and 3.3 km
 * east to west at 53 N. They go into the same salted Bloom filter as the linkage keys, under a key
 * version no linkage key has, so a cell is never confused with a key. Cells, unlike keys, can be
 * listed: anyone holding a filter can test every cell of the country in well under a second, and
 * intersecting a few versions removes the false positives. What a member learns is which cells of
 * that size hold some location of concern of the owner, and when that changes (README, "The
 * record locator", "What each party can learn").
 */

/** The grid, named in a filter's signed payload (`geo`): a filter without it holds no cells. */
export const GEO_GRID = 'cell-0.05deg';
const CELL_DEGREES = 0.05;
/**
 * More cells than this for one question (a wide search): every member is asked. Each cell is
 * tested against each member's filter (an HMAC per hash function), and past a few hundred cells
 * a 1% false positive somewhere is near certain, so nobody would be skipped anyway.
 */
export const MAX_GEO_CELLS = 256;

/** The filter item of the cell holding a point (the same arithmetic at the owner and the caller). */
export function geoCell(lat: number, lon: number): { keyVersion: string; key: string } {
  return { keyVersion: GEO_GRID, key: `${Math.floor(lat / CELL_DEGREES)}:${Math.floor(lon / CELL_DEGREES)}` };
}

/**
 * The cells a search box touches: every point in the box lies in one of them (floor of a division
 * by a positive constant never decreases, so a point between the corners has a cell between
 * theirs). Null when the box is not an ordinary one (corners not finite, or in the wrong order)
 * or touches more than MAX_GEO_CELLS: then no member may be skipped. The box must be the one the
 * member searches (boundingBox in services/node/src/modules/records/location.ts, the same code at
 * both ends): a member that searched a wider box could hold a match in a cell not tested.
 */
export function geoCellsIn(box: {
  minLat: number;
  maxLat: number;
  minLon: number;
  maxLon: number;
}): { keyVersion: string; key: string }[] | null {
  const values = [box.minLat, box.maxLat, box.minLon, box.maxLon];
  if (!values.every(Number.isFinite) || box.minLat > box.maxLat || box.minLon > box.maxLon) return null;
  const [lat0, lat1] = [Math.floor(box.minLat / CELL_DEGREES), Math.floor(box.maxLat / CELL_DEGREES)];
  const [lon0, lon1] = [Math.floor(box.minLon / CELL_DEGREES), Math.floor(box.maxLon / CELL_DEGREES)];
  if ((lat1 - lat0 + 1) * (lon1 - lon0 + 1) > MAX_GEO_CELLS) return null;
  const cells: { keyVersion: string; key: string }[] = [];
  for (let i = lat0; i <= lat1; i++) for (let j = lon0; j <= lon1; j++) cells.push({ keyVersion: GEO_GRID, key: `${i}:${j}` });
  return cells;
}
