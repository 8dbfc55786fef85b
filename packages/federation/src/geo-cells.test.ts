import { describe, expect, it } from 'vitest';

import { GEO_GRID, geoCell, geoCellsIn, MAX_GEO_CELLS } from './geo-cells.js';

describe('the locator grid', () => {
  it('every point of a box lies in a cell the box touches (the owner and the caller do the same arithmetic)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const minLat = 49.9 + random() * 9;
      const minLon = -8 + random() * 10;
      const box = { minLat, maxLat: minLat + random() * 0.2, minLon, maxLon: minLon + random() * 0.3 };
      const cells = new Set(geoCellsIn(box)!.map((c) => c.key));
      for (const [fLat, fLon] of [
        [0, 0],
        [1, 1],
        [random(), random()],
        [random(), 1],
      ] as const) {
        const p = geoCell(box.minLat + fLat * (box.maxLat - box.minLat), box.minLon + fLon * (box.maxLon - box.minLon));
        expect(p.keyVersion).toBe(GEO_GRID);
        expect(cells.has(p.key)).toBe(true);
      }
    }
  });

  it('cells are 0.05 degrees: two points 0.06 degrees apart are in different cells, two 0.01 apart inside one cell are not', () => {
    expect(geoCell(53.81, -3.05).key).not.toBe(geoCell(53.87, -3.05).key);
    expect(geoCell(53.81, -3.04).key).toBe(geoCell(53.82, -3.03).key);
    expect(geoCellsIn({ minLat: 53.8, maxLat: 53.8, minLon: -3, maxLon: -3 })).toEqual([geoCell(53.8, -3)]);
  });

  it('no cells (ask every member) for a box too wide, with its corners in the wrong order, or not finite', () => {
    expect(geoCellsIn({ minLat: 50, maxLat: 54, minLon: -5, maxLon: 2 })).toBeNull(); // 80 x 140 cells
    expect(geoCellsIn({ minLat: 50.01, maxLat: 51.01, minLon: 0.01, maxLon: 1.01 })).toBeNull(); // 21 x 21 touched
    expect(geoCellsIn({ minLat: 50, maxLat: 50.5, minLon: 179.9, maxLon: -179.9 })).toBeNull();
    expect(geoCellsIn({ minLat: Number.NaN, maxLat: 50, minLon: 0, maxLon: 1 })).toBeNull();
    const square = (Math.floor(Math.sqrt(MAX_GEO_CELLS)) - 4) * 0.05 - 0.001;
    expect(geoCellsIn({ minLat: 50.001, maxLat: 50.001 + square, minLon: 0.001, maxLon: 0.001 + square })!.length).toBeLessThanOrEqual(
      MAX_GEO_CELLS,
    );
  });
});
