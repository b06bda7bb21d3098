import { DB_TARGETS } from '../../helpers/db';
import { type SidebarTestApp, startSidebarApp } from './helpers';

type Tpl = { title: string; attachments: unknown[] };
const byTitle = (list: Tpl[], title: string) => list.find((x) => x.title === title);

describe.each(DB_TARGETS)('template attachments in the sidebar API on %s', (target) => {
  let t: SidebarTestApp;
  let lilei: string;
  const link = {
    type: 'link',
    title: '理财产品介绍',
    url: 'https://bank.example/wealth',
    desc: '稳健理财',
    imgUrl: 'https://bank.example/wealth.png',
  };
  const image = { type: 'image', mediaId: 'MEDIA_1' };

  beforeAll(async () => {
    t = await startSidebarApp(target);
    lilei = await t.login('lilei');
    const set = (title: string, value: string | null) =>
      t.db.query('UPDATE script_templates SET attachments = ? WHERE title = ?', [value, title]);
    // Well-formed entries mixed with ones the sidebar must never see.
    await set(
      '代发首次问候',
      JSON.stringify([
        link,
        { type: 'link', title: '脚本', url: 'javascript:alert(1)' },
        { type: 'video', mediaId: 'X' },
        image,
        { type: 'image' },
      ]),
    );
    await set('基金定投介绍', '{not json');
  });
  afterAll(async () => t.close());

  it('the card returns each template’s normalised attachments ([] when none or unreadable)', async () => {
    const res = await t.get('/api/sidebar/customers/wmA', lilei);
    expect(res.statusCode).toBe(200);
    const templates: Tpl[] = res.json().templates;
    expect(byTitle(templates, '代发首次问候')?.attachments).toEqual([link, image]);
    expect(byTitle(templates, '基金定投介绍')?.attachments).toEqual([]);
    expect(byTitle(templates, '通用问候')?.attachments).toEqual([]);
    expect(res.body).not.toContain('javascript:');
  });

  it('/templates returns them too', async () => {
    const res = await t.get(`/api/sidebar/templates?q=${encodeURIComponent('代发')}&externalUserId=wmA`, lilei);
    expect(res.statusCode).toBe(200);
    const templates: Tpl[] = res.json().templates;
    expect(byTitle(templates, '代发首次问候')?.attachments).toEqual([link, image]);
  });

  it('sending the text and the link into the sandbox chat is recorded with msgtype and payload', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/sandbox/api/jssdk/context',
      payload: { entry: 'single_chat_tools', externalUserId: 'wmA' },
    });
    const send = (payload: object) => t.app.inject({ method: 'POST', url: '/sandbox/api/jssdk/send', payload });
    const news = { link: link.url, title: link.title, desc: link.desc, imgUrl: link.imgUrl };
    for (const m of [
      { msgtype: 'text', text: { content: '您好' } },
      { msgtype: 'news', news },
      { msgtype: 'image', image: { mediaid: 'MEDIA_1' } },
    ]) {
      expect((await send({ ...m, userid: 'lilei' })).json()).toEqual({ errMsg: 'sendChatMessage:ok' });
    }
    expect((await send({ msgtype: 'news', news: { title: '无链接' } })).statusCode).toBe(400);
    expect((await send({ msgtype: 'image', image: {} })).statusCode).toBe(400);
    const sent = (await t.app.inject('/sandbox/api/jssdk/sent')).json().sent;
    expect(sent.slice(-3)).toEqual([
      expect.objectContaining({ msgtype: 'text', text: { content: '您好' }, externalUserId: 'wmA', userid: 'lilei' }),
      expect.objectContaining({ msgtype: 'news', news, externalUserId: 'wmA', userid: 'lilei' }),
      expect.objectContaining({ msgtype: 'image', image: { mediaid: 'MEDIA_1' }, externalUserId: 'wmA' }),
    ]);
  });
});
