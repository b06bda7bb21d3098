import { CallbackRejection } from '../../../server/wecom/crypto';
import { readEncrypt } from '../../../server/wecom/envelope';
import { parseEventXml, XmlRejection } from '../../../server/wecom/xml';

const XXE = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>&xxe;</ToUserName><MsgType>text</MsgType></xml>`;
const BILLION = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><ToUserName>&lol2;</ToUserName><MsgType>text</MsgType></xml>`;

describe('event XML parser (worker side)', () => {
  it('refuses DOCTYPE and entity declarations before parsing', () => {
    expect(() => parseEventXml(XXE)).toThrow(XmlRejection);
    expect(() => parseEventXml(BILLION)).toThrow(/DOCTYPE or entity/);
    expect(() => parseEventXml('<xml><!ENTITY a "b"><MsgType>x</MsgType></xml>')).toThrow(XmlRejection);
  });

  it('refuses malformed XML and a wrong root', () => {
    expect(() => parseEventXml('<xml><ToUserName>a</ToUserName><MsgType>text</xml>')).toThrow(/malformed/);
    expect(() => parseEventXml('<root><ToUserName>a</ToUserName><MsgType>t</MsgType></root>')).toThrow(/root/);
    expect(() => parseEventXml('not xml at all')).toThrow(XmlRejection);
  });

  it('keeps ids as strings, accepts CDATA and bare text, concatenates split CDATA', () => {
    const e = parseEventXml(
      '<xml><ToUserName><![CDATA[ww1]]></ToUserName><MsgType>text</MsgType><MsgId>7465823019476123911</MsgId>' +
        '<CreateTime>1795140061</CreateTime><Content><![CDATA[a]]]]><![CDATA[>b]]></Content><Unknown>kept</Unknown></xml>',
    );
    expect(e.MsgId).toBe('7465823019476123911');
    expect(e.CreateTime).toBe('1795140061');
    expect(e.Content).toBe('a]]>b');
    expect(e.Unknown).toBe('kept');
  });

  it('turns repeated <Item> children into a list, even a single one', () => {
    const one = parseEventXml(
      '<xml><ToUserName>a</ToUserName><MsgType>event</MsgType><MemChangeList><Item>wm1</Item></MemChangeList></xml>',
    );
    expect(one.MemChangeList).toEqual({ Item: ['wm1'] });
    const two = parseEventXml(
      '<xml><ToUserName>a</ToUserName><MsgType>event</MsgType><MemChangeList><Item>wm1</Item><Item>wm2</Item></MemChangeList></xml>',
    );
    expect(two.MemChangeList).toEqual({ Item: ['wm1', 'wm2'] });
  });

  it('decodes only the predefined entities', () => {
    const e = parseEventXml(
      '<xml><ToUserName>a</ToUserName><MsgType>text</MsgType><Content>1 &lt; 2 &amp; 3</Content></xml>',
    );
    expect(e.Content).toBe('1 < 2 & 3');
  });
});

describe('envelope reader (ack side, no general parser)', () => {
  const ok =
    '<xml><ToUserName><![CDATA[ww1]]></ToUserName><Encrypt><![CDATA[QUJD]]></Encrypt><AgentID>1</AgentID></xml>';
  const code = (body: string) => {
    try {
      readEncrypt(body);
      return 'accepted';
    } catch (e) {
      expect(e).toBeInstanceOf(CallbackRejection);
      return (e as CallbackRejection).code;
    }
  };

  it('reads Encrypt from CDATA or bare text, with an XML declaration, newlines and any element order', () => {
    expect(readEncrypt(ok)).toBe('QUJD');
    expect(
      readEncrypt(
        '<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n<AgentID>1</AgentID>\n<Encrypt>QUJD</Encrypt>\n</xml>\n',
      ),
    ).toBe('QUJD');
  });

  it('refuses DOCTYPE, ENTITY and comments anywhere', () => {
    expect(code(`<!DOCTYPE xml [<!ENTITY e "x">]>${ok}`)).toBe('bad_request');
    expect(code(ok.replace('<AgentID>', '<!ENTITY e "x"><AgentID>'))).toBe('bad_request');
    expect(code(ok.replace('<AgentID>', '<!-- c --><AgentID>'))).toBe('bad_request');
  });

  it('refuses a missing, empty, duplicated or malformed Encrypt and a wrong root', () => {
    expect(code('<xml><ToUserName>a</ToUserName></xml>')).toBe('bad_request');
    expect(code('<xml><Encrypt></Encrypt></xml>')).toBe('bad_request');
    expect(code('<xml><Encrypt>QUJD</Encrypt><Encrypt>QUJD</Encrypt></xml>')).toBe('bad_request');
    expect(code('<xml><Encrypt><![CDATA[QUJD</Encrypt></xml>')).toBe('bad_request');
    expect(code('<doc><Encrypt>QUJD</Encrypt></doc>')).toBe('bad_request');
    expect(code('<xml><Encrypt>QUJD</Encrypt>')).toBe('bad_request');
    expect(code('{"encrypt":"QUJD"}')).toBe('bad_request');
  });
});
