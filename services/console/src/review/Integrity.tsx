import { useState } from 'react';

import { ApiError, type Api } from '../api';
import { ConsoleAuditCheckpointDocument, ConsoleAuditIntegrityDocument, ConsoleAuditStatusDocument } from '../operations';
import { forceName, when } from '../words';
import { Command } from './Command';
import { Loading, Refusal, useLoad } from './load';
import { ScrollRegion } from './ScrollRegion';

/** How long ago, in words: "4 minutes ago". */
function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} seconds ago`;
  if (s < 5400) return `${Math.round(s / 60)} minutes ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} hours ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** Offers a file to save, from memory (an object URL revoked at once): nothing is stored by the page. */
function download(name: string, file: Blob) {
  const url = URL.createObjectURL(file);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const STATUS_WORDS: Record<string, string> = {
  ok: 'Verified: every entry is covered by a valid signed checkpoint',
  unverified: 'Intact so far: the newest entries are not yet covered by a signed checkpoint',
  failed: 'BROKEN: the chain does not verify',
};

export function Integrity({ api, role }: { api: Api; role: string | null }) {
  const integrity = useLoad(() => api.query(ConsoleAuditIntegrityDocument, {}), [api]);
  const status = useLoad(() => api.query(ConsoleAuditStatusDocument, {}), [api]);
  // Where the last action's note shows: beside the buttons at the top, or beside the receipts' buttons.
  const [action, setAction] = useState<{ error: ApiError | null; note: string | null; at: 'top' | 'receipts' }>({
    error: null,
    note: null,
    at: 'top',
  });
  const r = integrity.data?.auditIntegrity;
  const s = status.data?.auditStatus;
  const node = s?.node ?? 'node';
  // After a rotation of the audit key the export needs the retired keys too.
  const rotated = (s?.publicKeyPem.match(/BEGIN PUBLIC KEY/g) ?? []).length > 1;
  const failed = r?.status === 'failed';

  const run = async (what: () => Promise<string>, at: 'top' | 'receipts' = 'top') => {
    setAction({ error: null, note: null, at });
    try {
      setAction({ error: null, note: await what(), at });
    } catch (err) {
      setAction({ error: err instanceof ApiError ? err : new ApiError(undefined), note: null, at });
    }
  };
  const exportLog = () =>
    run(async () => {
      // Streamed by the node (GET /audit/export), never built whole there: a long log fits.
      download(`audit-${node}.jsonl`, await api.download('/audit/export'));
      return `The export was downloaded as audit-${node}.jsonl. The export is recorded in the audit log.`;
    });
  const receiptsFrom = (peer: string) =>
    run(async () => {
      const name = `receipts-${peer}-held-by-${node}.jsonl`;
      download(name, await api.download(`/audit/receipts?from=${encodeURIComponent(peer)}`));
      return `The receipts ${forceName(peer)} gave this node were downloaded as ${name}. Send them to its auditors. The download is recorded in the audit log.`;
    }, 'receipts');
  // The forces whose receipts this node holds among the newest (its own to itself witness nothing, and are never shown).
  const peers = [...new Set((s?.witnesses ?? []).map((w) => w.peer))].sort();
  const checkpoint = () =>
    run(async () => {
      const { auditCheckpoint } = await api.mutate(ConsoleAuditCheckpointDocument, {});
      status.reload();
      integrity.reload();
      return auditCheckpoint
        ? `A checkpoint of the first ${auditCheckpoint.size} entries was signed.`
        : 'Nothing was appended since the last checkpoint.';
    });

  return (
    <>
      <h1 className="govuk-heading-l" tabIndex={-1}>
        Integrity of the audit log
      </h1>
      <Refusal error={integrity.error ?? status.error ?? action.error} role={role} />
      <Loading loading={integrity.loading} />
      {r && (
        <div className={`mcx-integrity mcx-integrity--${r.status}`} role="region" aria-labelledby="integrity-title">
          <h2 className="govuk-heading-m" id="integrity-title">
            {STATUS_WORDS[r.status] ?? r.status}
          </h2>
          {failed && (
            <p className="govuk-body govuk-!-font-weight-bold">
              First bad entry: {r.firstBadSeq} ({r.firstBadReason}). No checkpoint will be signed until the log is restored.
            </p>
          )}
          <p className="govuk-body">
            {r.entries} entries; verified through entry {r.verifiedThrough}; {r.unverifiedAfter} after it unverified; {r.checkpointsChecked}{' '}
            checkpoints checked.
          </p>
        </div>
      )}
      <div className="govuk-button-group">
        <button type="button" className="govuk-button" onClick={integrity.reload}>
          Verify now
        </button>
        <button type="button" className="govuk-button govuk-button--secondary" onClick={() => void checkpoint()}>
          Sign a checkpoint now
        </button>
        <button type="button" className="govuk-button govuk-button--secondary" onClick={() => void exportLog()}>
          Download the export (JSON Lines)
        </button>
      </div>
      <p className="govuk-body" role="status">
        {action.at === 'top' ? action.note : null}
      </p>
      {s && (
        <>
          <h2 className="govuk-heading-m">Last signed checkpoint</h2>
          <p className="govuk-body mcx-break">
            {s.lastCheckpoint
              ? `The first ${s.lastCheckpoint.size} of ${s.entries} entries, signed ${when(s.lastCheckpoint.signedAt)} (${age(s.lastCheckpoint.signedAt)}); head hash ${s.lastCheckpoint.headHash}.`
              : `No checkpoint has been signed yet (${s.entries} entries).`}
          </p>
          <h2 className="govuk-heading-m">Verify an export offline</h2>
          <p className="govuk-body mcx-break">
            Save the export and {rotated ? 'these public keys (the current one first, key id ' : 'this public key (key id '}
            {s.kid}), then run, on any computer with the MCX command line:
          </p>
          <Command label="The command" command={`mcx audit verify audit-${node}.jsonl --public-key audit-${node}.pub.pem`} />
          <p className="govuk-body">
            Keep every export you verify. Check each new one against the last one kept: it then fails if an entry or checkpoint the older
            one held has been removed or changed since, which one file alone cannot show.
          </p>
          <Command
            label="The command against the last export kept"
            command={`mcx audit verify audit-${node}.jsonl --public-key audit-${node}.pub.pem --previous audit-${node}-last-kept.jsonl`}
          />
          <pre className="mcx-code" tabIndex={0} aria-label="The audit public key (PEM)">
            <code>{s.publicKeyPem}</code>
          </pre>
          <button
            type="button"
            className="govuk-button govuk-button--secondary"
            onClick={() => download(`audit-${node}.pub.pem`, new Blob([s.publicKeyPem], { type: 'application/x-pem-file' }))}
          >
            {rotated ? 'Download the public keys' : 'Download the public key'}
          </button>
          <h2 className="govuk-heading-m">Witnesses</h2>
          <p className="govuk-body">
            Receipts other forces signed for this node's federated reads. Each quotes that force's latest signed checkpoint, so each log is
            held to account by the others.
          </p>
          {s.witnesses.length === 0 ? (
            <p className="govuk-body">No receipt is held yet.</p>
          ) : (
            <ScrollRegion label="The newest receipts held">
              <table className="govuk-table">
                <caption className="govuk-table__caption govuk-table__caption--s">The newest receipts held</caption>
                <thead className="govuk-table__head">
                  <tr className="govuk-table__row">
                    {['Force', 'Their entry', 'Our entry', 'Their checkpoint', 'Received'].map((h) => (
                      <th scope="col" className="govuk-table__header" key={h}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody className="govuk-table__body">
                  {s.witnesses.map((w) => (
                    <tr className="govuk-table__row" key={`${w.peer}-${w.peerEntryId}`}>
                      <td className="govuk-table__cell">{forceName(w.peer)}</td>
                      <td className="govuk-table__cell">{w.peerEntryId}</td>
                      <td className="govuk-table__cell">{w.ourSeq ?? '-'}</td>
                      <td className="govuk-table__cell">
                        {w.checkpointSize === null ? 'none yet' : `${w.checkpointSize} entries, ${when(w.checkpointAt)}`}
                      </td>
                      <td className="govuk-table__cell">{when(w.at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
          {peers.length > 0 && (
            <>
              <h3 className="govuk-heading-s">Check each other's logs</h3>
              <p className="govuk-body">
                Send each force's auditors the receipts their node gave this one, with this node's public key: this node seals the file, so
                a receipt left out on the way shows. They check their own export against them: it then fails if an entry or checkpoint a
                receipt witnesses has been removed or changed, even where no older export was kept.
              </p>
              <div className="govuk-button-group">
                {peers.map((peer) => (
                  <button key={peer} type="button" className="govuk-button govuk-button--secondary" onClick={() => void receiptsFrom(peer)}>
                    Download the receipts from {forceName(peer)}
                  </button>
                ))}
              </div>
              <p className="govuk-body" role="status">
                {action.at === 'receipts' ? action.note : null}
              </p>
              <Command
                label="The command the other force runs with its receipts"
                command={`mcx audit verify audit-${peers[0]}.jsonl --public-key audit-${peers[0]}.pub.pem --receipts receipts-${peers[0]}-held-by-${node}.jsonl --holder-key ${node}=audit-${node}.pub.pem`}
              />
              <p className="govuk-body">
                Ask them for the receipts their node holds from this one and for their node's public key, then download the export, and
                check it against them:
              </p>
              <Command
                label="The command with another force's receipts"
                command={`mcx audit verify audit-${node}.jsonl --public-key audit-${node}.pub.pem --receipts receipts-${node}-held-by-${peers[0]}.jsonl --holder-key ${peers[0]}=audit-${peers[0]}.pub.pem`}
              />
            </>
          )}
        </>
      )}
    </>
  );
}
