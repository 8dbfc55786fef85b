import type { ConsoleAuditEntriesQuery } from '../operations';
import { forceName, PURPOSE_WORDS, when, words } from '../words';
import { ScrollRegion } from './ScrollRegion';

export type Entry = ConsoleAuditEntriesQuery['auditEntries']['entries'][number];
type Row = Pick<Entry, 'seq' | 'at' | 'action' | 'actor' | 'requestingNode' | 'purpose' | 'caseRef' | 'operation' | 'outcome'>;

const COLUMNS = ['Entry', 'Time', 'Action', 'Actor', 'Requested through', 'Purpose', 'Case reference', 'Outcome'];

/** Who read, for whom and why: one row per entry. Only ids and codes: an entry holds no record content. */
export function EntryTable(props: { caption: string; entries: Row[]; onOpen?: (seq: number) => void; highlight?: number[] }) {
  return (
    <ScrollRegion label={props.caption}>
      <table className="govuk-table mcx-entries">
        <caption className="govuk-table__caption govuk-table__caption--m">{props.caption}</caption>
        <thead className="govuk-table__head">
          <tr className="govuk-table__row">
            {COLUMNS.map((h) => (
              <th scope="col" className="govuk-table__header" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="govuk-table__body">
          {props.entries.map((e) => (
            <tr key={e.seq} className={`govuk-table__row${props.highlight?.includes(e.seq) ? ' mcx-entries__flagged' : ''}`}>
              <td className="govuk-table__cell">
                {props.onOpen ? (
                  <button type="button" className="mcx-link-button" onClick={() => props.onOpen!(e.seq)}>
                    <span className="govuk-visually-hidden">Open entry </span>
                    {e.seq}
                  </button>
                ) : (
                  e.seq
                )}
              </td>
              <td className="govuk-table__cell">{when(e.at)}</td>
              <td className="govuk-table__cell">
                {words(e.action)}
                <br />
                <span className="govuk-hint mcx-small">{e.operation}</span>
              </td>
              <td className="govuk-table__cell">
                {e.actor.subject}
                <br />
                <span className="mcx-small">
                  {forceName(e.actor.force)} ({e.actor.force}), {e.actor.orgKind}
                </span>
              </td>
              <td className="govuk-table__cell">{e.requestingNode ? `${forceName(e.requestingNode)} node` : 'This node'}</td>
              <td className="govuk-table__cell">{e.purpose ? (PURPOSE_WORDS[e.purpose] ?? e.purpose) : 'None given'}</td>
              <td className="govuk-table__cell">{e.caseRef ?? 'None given'}</td>
              <td className="govuk-table__cell">{words(e.outcome)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
