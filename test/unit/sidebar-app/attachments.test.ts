// Template attachments: the server's normalisation of script_templates.attachments and the
// sidebar's mapping onto sendChatMessage / the clipboard (pure, no I/O).

import { httpUrl, MAX_ATTACHMENTS, normaliseAttachments } from '../../../server/playbook';
import { linkDomain } from '../../../sidebar-app/src/components/format';
import { copyTextOf, planAttachments } from '../../../sidebar-app/src/composables/attachments';
import { template } from './fakes';

describe('normaliseAttachments (server)', () => {
  it('keeps well-formed links and images, in order, with only the known fields', () => {
    const raw = [
      {
        type: 'link',
        title: ' 理财产品介绍 ',
        url: 'https://bank.example/wealth',
        desc: '稳健理财',
        imgUrl: 'https://bank.example/a.png',
        extra: 'dropped',
      },
      { type: 'image', mediaId: 'MEDIA_1', imgUrl: 'http://bank.example/b.jpg' },
      { type: 'image', imgUrl: 'https://bank.example/c.jpg' },
      { type: 'image', mediaId: 'MEDIA_2' },
    ];
    expect(normaliseAttachments(raw)).toEqual([
      {
        type: 'link',
        title: '理财产品介绍',
        url: 'https://bank.example/wealth',
        desc: '稳健理财',
        imgUrl: 'https://bank.example/a.png',
      },
      { type: 'image', mediaId: 'MEDIA_1', imgUrl: 'http://bank.example/b.jpg' },
      { type: 'image', imgUrl: 'https://bank.example/c.jpg' },
      { type: 'image', mediaId: 'MEDIA_2' },
    ]);
  });

  it('reads the raw JSON text of the column the same way', () => {
    const link = { type: 'link', title: '介绍', url: 'https://bank.example/p' };
    expect(normaliseAttachments(JSON.stringify([link]))).toEqual([link]);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['text that is not JSON', '[{"type":'],
    ['an object instead of an array', { type: 'link', title: 't', url: 'https://bank.example/' }],
    ['JSON of a number', '42'],
  ])('gives [] for %s', (_label, raw) => {
    expect(normaliseAttachments(raw)).toEqual([]);
  });

  it('drops malformed entries one by one and keeps the rest', () => {
    const good = { type: 'link', title: '好的', url: 'https://bank.example/ok' };
    const raw = [
      null,
      'https://bank.example/',
      [good],
      { type: 'video', mediaId: 'M' },
      { title: '无类型', url: 'https://bank.example/' },
      { type: 'link', url: 'https://bank.example/no-title' },
      { type: 'link', title: '   ', url: 'https://bank.example/blank-title' },
      { type: 'link', title: '无链接' },
      { type: 'link', title: 'js', url: 'javascript:alert(1)' },
      { type: 'link', title: 'data', url: 'data:text/html,<b>x</b>' },
      { type: 'link', title: 'ftp', url: 'ftp://bank.example/file' },
      { type: 'link', title: 'relative', url: '/wealth' },
      { type: 'link', title: 'creds', url: 'https://user:pw@evil.example/' },
      { type: 'link', title: 'number', url: 42 },
      { type: 'image' },
      { type: 'image', mediaId: '' },
      { type: 'image', mediaId: 'has space' },
      { type: 'image', imgUrl: 'javascript:alert(1)' },
      good,
    ];
    expect(normaliseAttachments(raw)).toEqual([good]);
  });

  it('drops a bad optional field but keeps the attachment', () => {
    expect(
      normaliseAttachments([
        { type: 'link', title: 't', url: 'https://bank.example/', imgUrl: 'javascript:x', desc: 7 },
        { type: 'image', mediaId: 'M1', imgUrl: 'file:///etc/passwd' },
      ]),
    ).toEqual([
      { type: 'link', title: 't', url: 'https://bank.example/' },
      { type: 'image', mediaId: 'M1' },
    ]);
  });

  it('caps the number of attachments and the length of texts', () => {
    const many = Array.from({ length: MAX_ATTACHMENTS + 3 }, (_, i) => ({ type: 'image', mediaId: `M${i}` }));
    expect(normaliseAttachments(many)).toHaveLength(MAX_ATTACHMENTS);
    const [long] = normaliseAttachments([{ type: 'link', title: '长'.repeat(500), url: 'https://bank.example/' }]);
    expect(long.type === 'link' && long.title.length).toBe(128);
  });

  it('httpUrl writes the URL the way the parser does (host lower-case, spaces encoded)', () => {
    expect(httpUrl(' https://Bank.Example/理财?a=1 b ')).toBe('https://bank.example/%E7%90%86%E8%B4%A2?a=1%20b');
    expect(httpUrl('https://bank.example')).toBe('https://bank.example/');
    expect(httpUrl(`https://bank.example/${'x'.repeat(3000)}`)).toBeUndefined();
  });
});

describe('attachments in the sidebar', () => {
  const link = { type: 'link' as const, title: '理财产品介绍', url: 'https://bank.example/wealth' };

  it('maps links to news and images with a media id to image; counts images to send by hand', () => {
    const plan = planAttachments([
      link,
      {
        type: 'link',
        title: '带图',
        url: 'https://bank.example/p',
        desc: '摘要',
        imgUrl: 'https://bank.example/i.png',
      },
      { type: 'image', mediaId: 'MEDIA_1', imgUrl: 'https://bank.example/t.png' },
      { type: 'image', imgUrl: 'https://bank.example/only-preview.png' },
    ]);
    expect(plan.messages.map((m) => m.message)).toEqual([
      { msgtype: 'news', news: { link: 'https://bank.example/wealth', title: '理财产品介绍', desc: '', imgUrl: '' } },
      {
        msgtype: 'news',
        news: { link: 'https://bank.example/p', title: '带图', desc: '摘要', imgUrl: 'https://bank.example/i.png' },
      },
      { msgtype: 'image', image: { mediaid: 'MEDIA_1' } },
    ]);
    expect(plan.messages.map((m) => m.label)).toEqual(['链接“理财产品介绍”', '链接“带图”', '图片']);
    expect(plan.manual).toBe(1);
  });

  it('copy text: the content, then one line per link (images are not copyable)', () => {
    expect(copyTextOf(template({ content: '您好' }))).toBe('您好');
    expect(
      copyTextOf(
        template({ content: '您好', attachments: [link, { type: 'image', mediaId: 'M' }, { ...link, title: '二' }] }),
      ),
    ).toBe('您好\n理财产品介绍 https://bank.example/wealth\n二 https://bank.example/wealth');
  });

  it('shows the domain of a link', () => {
    expect(linkDomain('https://bank.example/wealth?x=1')).toBe('bank.example');
    expect(linkDomain('not a url')).toBe('');
  });
});
