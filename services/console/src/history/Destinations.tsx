import { geoPath, geoTransverseMercator } from 'd3-geo';
import gbOutline from 'virtual:gb-outline';

import { forceName, when, words } from '../words';
import type { ChildHistory } from './child-history';

const WIDTH = 360;
const HEIGHT = 520;
// British National Grid's central meridian (2° W), fitted once to the bundled outline.
const projection = geoTransverseMercator()
  .rotate([2, 0])
  .fitExtent(
    [
      [8, 8],
      [WIDTH - 8, HEIGHT - 8],
    ],
    gbOutline,
  );
const outlinePath = geoPath(projection)(gbOutline) ?? '';

function at(lat: number | null | undefined, lon: number | null | undefined): [number, number] | null {
  if (lat == null || lon == null) return null;
  return projection([lon, lat]);
}

/** Previous destinations and the locations of concern near them: a map of Great Britain, and the same facts as tables. */
export function Destinations({ history }: { history: ChildHistory }) {
  const destinations = history.previousDestinations.map((d, i) => ({ ...d, label: `D${i + 1}`, xy: at(d.lat, d.lon) }));
  const concerns = history.locationsOfConcern.map((l, i) => ({
    ...l,
    label: `L${i + 1}`,
    xy: at(l.location.location.lat, l.location.location.lon),
  }));
  return (
    <section aria-labelledby="destinations" className="mcx-section">
      <h2 className="govuk-heading-m" id="destinations">
        Previous destinations and locations of concern
      </h2>
      <div className="mcx-map-grid">
        <figure className="mcx-map">
          <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="map-title map-desc" className="mcx-map__svg">
            <title id="map-title">Map of previous destinations and locations of concern</title>
            <desc id="map-desc">
              {destinations.length} previous destinations (D) and {concerns.length} locations of concern (L); the tables beside the map list
              the same places.
            </desc>
            <path d={outlinePath} className="mcx-map__land" />
            {concerns.map(
              (c) =>
                c.xy && (
                  <g key={c.label} className="mcx-map__concern" transform={`translate(${c.xy[0].toFixed(1)} ${c.xy[1].toFixed(1)})`}>
                    <rect x={-7} y={-7} width={14} height={14} transform="rotate(45)" />
                    <text x={10} y={16}>
                      {c.label}
                    </text>
                  </g>
                ),
            )}
            {destinations.map(
              (d) =>
                d.xy && (
                  <g key={d.label} className="mcx-map__destination" transform={`translate(${d.xy[0].toFixed(1)} ${d.xy[1].toFixed(1)})`}>
                    <circle r={7} />
                    <text x={10} y={-6}>
                      {d.label}
                    </text>
                  </g>
                ),
            )}
          </svg>
          <figcaption className="govuk-body-s">Outline: Natural Earth (public domain). Places are approximate.</figcaption>
        </figure>
        <div className="mcx-map-tables">
          <table className="govuk-table">
            <caption className="govuk-table__caption govuk-table__caption--s">Previous destinations (where the child was found)</caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                <th scope="col" className="govuk-table__header">
                  Map
                </th>
                <th scope="col" className="govuk-table__header">
                  Place
                </th>
                <th scope="col" className="govuk-table__header govuk-table__header--numeric">
                  Times found
                </th>
                <th scope="col" className="govuk-table__header">
                  Last found
                </th>
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {destinations.length === 0 && (
                <tr className="govuk-table__row">
                  <td className="govuk-table__cell" colSpan={4}>
                    None recorded.
                  </td>
                </tr>
              )}
              {destinations.map((d) => (
                <tr className="govuk-table__row" key={d.label}>
                  <td className="govuk-table__cell">{d.label}</td>
                  <td className="govuk-table__cell">
                    {[d.postcode, d.uprn ? `UPRN ${d.uprn}` : null].filter(Boolean).join(', ') || 'no address disclosed'} (
                    {words(d.placeKind)})
                  </td>
                  <td className="govuk-table__cell govuk-table__cell--numeric">{d.timesFound}</td>
                  <td className="govuk-table__cell">
                    {when(d.lastFoundAt)} ({[...new Set(d.visits.map((v) => forceName(v.owner)))].join(', ')})
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table className="govuk-table">
            <caption className="govuk-table__caption govuk-table__caption--s">Locations of concern near them</caption>
            <thead className="govuk-table__head">
              <tr className="govuk-table__row">
                <th scope="col" className="govuk-table__header">
                  Map
                </th>
                <th scope="col" className="govuk-table__header">
                  Held by
                </th>
                <th scope="col" className="govuk-table__header">
                  Concern
                </th>
                <th scope="col" className="govuk-table__header govuk-table__header--numeric">
                  Distance
                </th>
              </tr>
            </thead>
            <tbody className="govuk-table__body">
              {concerns.length === 0 && (
                <tr className="govuk-table__row">
                  <td className="govuk-table__cell" colSpan={4}>
                    None near the destinations.
                  </td>
                </tr>
              )}
              {concerns.map((c) => (
                <tr className="govuk-table__row" key={c.label}>
                  <td className="govuk-table__cell">{c.label}</td>
                  <td className="govuk-table__cell">
                    {forceName(c.location.owner)}, {c.location.ownerReference}
                    {c.location.location.postcode ? ` (${c.location.location.postcode})` : ''}
                  </td>
                  <td className="govuk-table__cell">
                    {c.location.concerns.map(words).join(', ')} · {words(c.location.placeKind)}
                  </td>
                  <td className="govuk-table__cell govuk-table__cell--numeric">{Math.round(c.distanceMetres)} m</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
