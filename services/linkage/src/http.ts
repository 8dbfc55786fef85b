import type { IncomingMessage, ServerResponse } from 'node:http';

import { LinkageServiceErrorCode, type HttpErrorCode } from './errors.js';

/** The largest request body the service reads: 64 KiB, far above any allowed batch. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An expected refusal: a status, a stable code and a fixed message that never repeats input. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Writes `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}

const tooLarge = () =>
  new HttpError(413, LinkageServiceErrorCode.PAYLOAD_TOO_LARGE, `the request body exceeds ${MAX_BODY_BYTES} bytes`, {
    connection: 'close',
  });

/** Reads a JSON body of at most `limit` bytes; 413 beyond it, 400 if it is not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  // Events rather than for-await: leaving a for-await early destroys the socket, and then
  // the 413 could not be sent.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    // A client that goes away mid-body must not leave this promise pending.
    req.once('close', () => reject(new HttpError(400, LinkageServiceErrorCode.BAD_REQUEST, 'the request body was cut short')));
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, LinkageServiceErrorCode.BAD_REQUEST, 'the request body is not JSON');
  }
}

/** The bearer token of the Authorization header, or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? '');
  return match?.[1] ?? null;
}
