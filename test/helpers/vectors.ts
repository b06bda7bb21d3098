import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Vector {
  name: string;
  kind: 'url-verify' | 'event' | 'message' | 'reply' | 'crypto-only' | 'jsapi-signature' | 'negative';
  token: string;
  encodingAesKey: string;
  receiveId: string;
  timestamp: string;
  nonce: string;
  msgSignature: string;
  encrypt: string;
  plaintext: string;
  randomHex?: string;
  query?: string;
  body?: string;
  envelope?: string;
  fields?: Record<string, string>;
  expect?: string;
  rejectAs?: 'bad_signature' | 'foreign_corp' | 'bad_request';
  decryptedReceiveId?: string;
  jsapiTicket?: string;
  url?: string;
  signature?: string;
}

/** The shared vectors live beside the repo (../shared); CI clones the repo with shared/ next to it. */
export function loadVectors(): Vector[] {
  const candidates = [
    process.env.WECOM_VECTORS,
    join(__dirname, '../../../shared/wecom/vectors.json'),
    join(__dirname, '../../shared/wecom/vectors.json'),
  ].filter(Boolean) as string[];
  for (const file of candidates) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')).vectors;
    } catch {
      /* try the next location */
    }
  }
  throw new Error(`vectors.json not found (looked in ${candidates.join(', ')}); set WECOM_VECTORS`);
}
