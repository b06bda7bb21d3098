import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';
import type { SandboxState } from './state';

const ENTRIES = ['single_chat_tools', 'group_chat_tools', 'normal'] as const;

/**
 * The JS-SDK mock the sidebar uses in demo mode (contract shared with the sidebar engineer):
 * the "current chat" is chosen on the sandbox page, sendChatMessage calls are recorded.
 * Registered under /sandbox/api beside the fake's /cgi-bin routes.
 */
export async function jssdkMockRoutes(app: FastifyInstance, state: SandboxState): Promise<void> {
  app.get('/jssdk/context', async () => state.context);

  app.put('/jssdk/context', async (req) => {
    const b = (req.body ?? {}) as { entry?: unknown; externalUserId?: unknown; chatId?: unknown };
    if (!ENTRIES.includes(b.entry as (typeof ENTRIES)[number])) {
      throw new AppError('bad_request', 400, `entry must be one of ${ENTRIES.join(', ')}`);
    }
    const entry = b.entry as (typeof ENTRIES)[number];
    state.context = {
      entry,
      ...(entry === 'single_chat_tools' && typeof b.externalUserId === 'string' && b.externalUserId
        ? { externalUserId: b.externalUserId }
        : {}),
      ...(entry === 'group_chat_tools' && typeof b.chatId === 'string' && b.chatId ? { chatId: b.chatId } : {}),
    };
    return state.context;
  });

  app.post('/jssdk/send', async (req) => {
    const b = (req.body ?? {}) as {
      msgtype?: unknown;
      text?: { content?: unknown };
      news?: { link?: unknown; title?: unknown; desc?: unknown; imgUrl?: unknown };
      image?: { mediaid?: unknown };
      externalUserId?: unknown;
      userid?: unknown;
    };
    if (typeof b.msgtype !== 'string' || !b.msgtype) throw new AppError('bad_request', 400, 'msgtype is required');
    if (b.msgtype === 'text' && (typeof b.text?.content !== 'string' || !b.text.content)) {
      throw new AppError('bad_request', 400, 'text.content is required for msgtype text');
    }
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const news = b.msgtype === 'news' ? b.news : undefined;
    if (b.msgtype === 'news' && (!str(news?.link) || !str(news?.title))) {
      throw new AppError('bad_request', 400, 'news.link and news.title are required for msgtype news');
    }
    const mediaid = b.msgtype === 'image' ? str(b.image?.mediaid) : undefined;
    if (b.msgtype === 'image' && !mediaid) {
      throw new AppError('bad_request', 400, 'image.mediaid is required for msgtype image');
    }
    if (state.context.entry === 'normal') {
      // What the real client answers outside a chat toolbar.
      return { errMsg: 'sendChatMessage:fail no permission' };
    }
    state.sent.push({
      at: app.now(),
      msgtype: b.msgtype,
      text: b.msgtype === 'text' ? { content: String(b.text?.content) } : undefined,
      news: news
        ? {
            link: String(news.link),
            title: String(news.title),
            ...(str(news.desc) ? { desc: str(news.desc) } : {}),
            ...(str(news.imgUrl) ? { imgUrl: str(news.imgUrl) } : {}),
          }
        : undefined,
      image: mediaid ? { mediaid } : undefined,
      externalUserId: typeof b.externalUserId === 'string' ? b.externalUserId : state.context.externalUserId,
      chatId: state.context.chatId,
      userid: typeof b.userid === 'string' ? b.userid : state.currentManager,
    });
    if (state.sent.length > 500) state.sent.splice(0, state.sent.length - 500);
    return { errMsg: 'sendChatMessage:ok' };
  });

  app.get('/jssdk/sent', async () => ({ sent: state.sent }));
}
