import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions, safeUrl } from '../../../server/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: pino(loggerOptions('info'), stream), lines };
}

describe('log redaction', () => {
  it('censors secrets, tokens, phone numbers and names at the top level and one level down', () => {
    const { log, lines } = capture();
    log.info(
      {
        access_token: 'TOKEN-123',
        secret: 'S3CRET',
        phone: '13800138000',
        name: '张三丰',
        detail: { mobile: '13900139000', customerName: '李四', ticket: 'TICKET-9' },
        req: { headers: { cookie: 'sb_session=abc' } },
        echostr: 'ECHO',
        encrypt: 'ENCRYPTED',
        payload: '<xml>…</xml>',
        externalUserid: 'wm123',
      },
      'event',
    );
    const out = lines.join('');
    for (const leaked of [
      'TOKEN-123',
      'S3CRET',
      '13800138000',
      '张三丰',
      '13900139000',
      '李四',
      'TICKET-9',
      'sb_session=abc',
      'ECHO',
      'ENCRYPTED',
      '<xml>',
    ]) {
      expect(out).not.toContain(leaked);
    }
    expect(out).toContain('wm123');
    expect(out).toContain('[redacted]');
  });

  it('cuts query strings (signatures, echostr, tokens) from logged URLs', () => {
    expect(safeUrl('/wecom/callback?msg_signature=a&echostr=b')).toBe('/wecom/callback?…');
    const { log, lines } = capture();
    log.info({ req: { method: 'GET', url: '/cgi-bin/user/get?access_token=SECRET_TOKEN', id: '1' } }, 'request');
    expect(lines.join('')).not.toContain('SECRET_TOKEN');
  });
});
