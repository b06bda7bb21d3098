import type { Attachment, Template } from '../services/types';
import type { ChatMessage } from '../wecom/adapter';

export interface AttachmentPlan {
  /** sendChatMessage calls after the text, in the template's order. */
  messages: { message: ChatMessage; label: string }[];
  /** Images without a WeCom media id: shown on the card, sent by hand. */
  manual: number;
}

/** What 发送 puts into the chat after the text. Labels are Chinese, for the toast. */
export function planAttachments(list: readonly Attachment[]): AttachmentPlan {
  const plan: AttachmentPlan = { messages: [], manual: 0 };
  for (const a of list) {
    if (a.type === 'link') {
      plan.messages.push({
        message: { msgtype: 'news', news: { link: a.url, title: a.title, desc: a.desc ?? '', imgUrl: a.imgUrl ?? '' } },
        label: `链接“${a.title}”`,
      });
    } else if (a.mediaId) {
      plan.messages.push({ message: { msgtype: 'image', image: { mediaid: a.mediaId } }, label: '图片' });
    } else {
      plan.manual++;
    }
  }
  return plan;
}

/** 复制: the text, then one line per link so the customer still gets the pages. */
export function copyTextOf(template: Pick<Template, 'text' | 'attachments'>): string {
  const links = template.attachments.flatMap((a) => (a.type === 'link' ? [`${a.title} ${a.url}`] : []));
  return links.length ? `${template.text}\n${links.join('\n')}` : template.text;
}
