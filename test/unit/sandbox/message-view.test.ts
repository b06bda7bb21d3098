// The sandbox page shows an app message as a manager reads it: a textcard's HTML subset becomes
// lines of plain text (pure, no I/O).

import { escapeHtml } from '../../../server/lib/html';
import type { FakeCall, SentMessage } from '../../../server/sandbox/fake-types';
import { appMessageView, textcardButtons, textcardLines } from '../../../server/sandbox/message-view';
import { textcard } from '../../../server/wecom/app-message';

const SOP_DESCRIPTION =
  '<div class="gray">2026年12月3日</div><div class="normal">请在企业微信「客户群群发」中确认发送到您的客户群</div>' +
  `<div class="highlight">${escapeHtml('周末<理财沙龙> & "下午茶"')}</div>`;

/** What the fake stores for a textcard it accepted: the title, a newline, the description. */
const stored = (title: string, description: string, url = 'https://bank.example/sidebar/'): SentMessage => ({
  at: 1,
  touser: 'hz_chenjing',
  content: `${title}\n${description}`,
  msgid: 'm1',
  msgtype: 'textcard',
  url,
});

const sendCall = (body: unknown, errcode = 0): FakeCall => ({
  seq: 1,
  at: 1,
  method: 'POST',
  path: '/cgi-bin/message/send',
  api: 'message/send',
  query: {},
  body,
  errcode,
  errmsg: errcode ? 'failed' : 'ok',
});

describe('textcardLines', () => {
  it('turns each div into a line and decodes what the sender escaped', () => {
    expect(textcardLines(SOP_DESCRIPTION)).toEqual([
      '2026年12月3日',
      '请在企业微信「客户群群发」中确认发送到您的客户群',
      '周末<理财沙龙> & "下午茶"',
    ]);
  });

  it('breaks at <br>, drops other tags and empty lines, keeps unknown entities as written', () => {
    expect(textcardLines('第一行<br>第二行<br/><span>第三</span>行<div></div>&copy; &#36;5 &#x4e2d;')).toEqual([
      '第一行',
      '第二行',
      '第三行',
      '&copy; $5 中',
    ]);
    expect(textcardLines('没有标签的说明')).toEqual(['没有标签的说明']);
  });
});

describe('appMessageView', () => {
  it('a textcard: title, the description as lines, the link and its button text', () => {
    const sent = textcard({
      touser: 'hz_chenjing',
      agentId: 1000002,
      title: '总行SOP：每周财富沙龙',
      description: SOP_DESCRIPTION,
      url: 'https://bank.example/sidebar/',
      btntxt: '知道了',
    });
    if (sent.msgtype !== 'textcard') throw new Error('textcard() built another message type');
    const m = stored(sent.textcard.title, sent.textcard.description);
    const view = appMessageView(m, textcardButtons([sendCall(sent)]));
    expect(view).toEqual({
      title: '总行SOP：每周财富沙龙',
      lines: ['2026年12月3日', '请在企业微信「客户群群发」中确认发送到您的客户群', '周末<理财沙龙> & "下午茶"'],
      url: 'https://bank.example/sidebar/',
      button: '知道了',
    });
  });

  it('a textcard whose request left the log (or failed): no button text', () => {
    const m = stored('今日待办', '<div class="gray">王强，今天有 3 项待办</div>');
    const failed = sendCall(
      { textcard: { title: '今日待办', description: '<div class="gray">王强，今天有 3 项待办</div>', btntxt: '查看' } },
      81013,
    );
    expect(appMessageView(m, textcardButtons([failed]))).toEqual({
      title: '今日待办',
      lines: ['王强，今天有 3 项待办'],
      url: 'https://bank.example/sidebar/',
      button: null,
    });
  });

  it('a text message: its lines as they are, HTML-looking text included', () => {
    const m: SentMessage = {
      at: 1,
      touser: 'hz_chenjing',
      content: '新客户提醒\n<b>不是卡片</b>',
      msgid: 'm2',
      msgtype: 'text',
    };
    expect(appMessageView(m)).toEqual({
      title: null,
      lines: ['新客户提醒', '<b>不是卡片</b>'],
      url: null,
      button: null,
    });
  });
});
