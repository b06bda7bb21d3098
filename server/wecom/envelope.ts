import { CallbackRejection } from './crypto';

/**
 * Reads the outer callback envelope `<xml><ToUserName/><Encrypt/><AgentID/></xml>` without a
 * general XML parser: the ack path only needs `Encrypt`, and a general parser costs more than
 * decrypting (see DEPENDENCIES.md). It still refuses DOCTYPE/ENTITY declarations and any other
 * markup declaration, so nothing entity-bearing is ever stored. The decrypted event is parsed
 * fully (and hardened again) by the worker.
 */
export function readEncrypt(body: string): string {
  let i = 0;
  const n = body.length;
  while (i < n && isSpace(body.charCodeAt(i))) i++;
  if (body.startsWith('\uFEFF', i)) i++;
  if (body.startsWith('<?xml', i)) {
    const end = body.indexOf('?>', i);
    if (end === -1) throw new CallbackRejection('bad_request', 'malformed XML declaration');
    i = end + 2;
  }
  // Any "<!" that is not a CDATA section is a DOCTYPE, ENTITY or comment: refuse all of them.
  for (let p = body.indexOf('<!', i); p !== -1; p = body.indexOf('<!', p + 2)) {
    if (!body.startsWith('<![CDATA[', p)) {
      throw new CallbackRejection('bad_request', 'XML with DOCTYPE, entity or comment declarations is refused');
    }
    const close = body.indexOf(']]>', p + 9);
    if (close === -1) throw new CallbackRejection('bad_request', 'unterminated CDATA section');
    p = close + 1;
  }
  while (i < n && isSpace(body.charCodeAt(i))) i++;
  if (!body.startsWith('<xml>', i)) throw new CallbackRejection('bad_request', 'envelope root element must be <xml>');
  const tail = body.trimEnd();
  if (!tail.endsWith('</xml>')) throw new CallbackRejection('bad_request', 'envelope is not closed by </xml>');

  const open = body.indexOf('<Encrypt>', i);
  if (open === -1) throw new CallbackRejection('bad_request', 'envelope has no Encrypt element');
  if (body.indexOf('<Encrypt>', open + 9) !== -1)
    throw new CallbackRejection('bad_request', 'more than one Encrypt element');
  let start = open + 9;
  let value: string;
  if (body.startsWith('<![CDATA[', start)) {
    start += 9;
    const end = body.indexOf(']]>', start);
    if (end === -1 || !body.startsWith('</Encrypt>', end + 3)) {
      throw new CallbackRejection('bad_request', 'malformed Encrypt element');
    }
    value = body.slice(start, end);
  } else {
    const end = body.indexOf('</Encrypt>', start);
    if (end === -1) throw new CallbackRejection('bad_request', 'malformed Encrypt element');
    value = body.slice(start, end).trim();
    if (value.includes('<')) throw new CallbackRejection('bad_request', 'malformed Encrypt element');
  }
  if (value.length === 0) throw new CallbackRejection('bad_request', 'Encrypt is empty');
  return value;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
