import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { WecomEvent, XmlObject } from './events';

export class XmlRejection extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRejection';
  }
}

const DECLARATION = /<!(?!\[CDATA\[)/;

/** Refuses DOCTYPE / ENTITY (and any other `<!` declaration except CDATA) before any parser sees the text. */
export function assertNoDeclarations(xml: string): void {
  if (DECLARATION.test(xml)) throw new XmlRejection('XML with DOCTYPE or entity declarations is refused');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  // Every value stays a string: MsgId and some CreateTime values exceed 2^53.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Only the five predefined entities and numeric references; declarations are refused above.
  processEntities: true,
  htmlEntities: false,
  isArray: (name) => name === 'Item',
});

/**
 * Parses a decrypted WeCom event (hardened): no declarations, must be well-formed, root <xml>,
 * CDATA and bare text alike, split CDATA concatenated, unknown elements kept, repeated children as lists.
 */
export function parseEventXml(xml: string): WecomEvent {
  assertNoDeclarations(xml);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new XmlRejection(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = parser.parse(xml) as { xml?: XmlObject | string };
  if (!doc || typeof doc.xml !== 'object' || doc.xml === null || Array.isArray(doc.xml)) {
    throw new XmlRejection('root element must be <xml>');
  }
  const e = doc.xml as Record<string, unknown>;
  for (const k of ['ToUserName', 'MsgType'] as const) {
    if (typeof e[k] !== 'string') throw new XmlRejection(`missing ${k}`);
  }
  return e as unknown as WecomEvent;
}
