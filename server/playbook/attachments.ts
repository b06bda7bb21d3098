import type { ImageAttachment, LinkAttachment, TemplateAttachment } from './types';

/** More than this per template is a data error, not a message anyone wants to receive. */
export const MAX_ATTACHMENTS = 5;
const MAX_URL = 2048;
const MAX_TITLE = 128;
const MAX_DESC = 512;
const MAX_MEDIA_ID = 256;

/** An absolute http(s) URL without credentials, as the URL parser writes it; else undefined. */
export function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (!s || s.length > MAX_URL) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || !u.hostname) return undefined;
  // user:pass@host shows one host and opens another to a careless reader.
  if (u.username || u.password) return undefined;
  return u.href;
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return s ? s.slice(0, max) : undefined;
}

function link(o: Record<string, unknown>): LinkAttachment | null {
  const url = httpUrl(o.url);
  const title = text(o.title, MAX_TITLE);
  if (!url || !title) return null;
  const out: LinkAttachment = { type: 'link', title, url };
  const desc = text(o.desc, MAX_DESC);
  if (desc) out.desc = desc;
  const imgUrl = httpUrl(o.imgUrl);
  if (imgUrl) out.imgUrl = imgUrl;
  return out;
}

function image(o: Record<string, unknown>): ImageAttachment | null {
  const mediaId = typeof o.mediaId === 'string' && /^\S+$/.test(o.mediaId) ? o.mediaId : undefined;
  const imgUrl = httpUrl(o.imgUrl);
  if ((!mediaId || mediaId.length > MAX_MEDIA_ID) && !imgUrl) return null;
  const out: ImageAttachment = { type: 'image' };
  if (mediaId && mediaId.length <= MAX_MEDIA_ID) out.mediaId = mediaId;
  if (imgUrl) out.imgUrl = imgUrl;
  return out;
}

/**
 * `script_templates.attachments` as the sidebar may use it. The column is written by people and
 * tools outside this code, so anything unexpected (not JSON, not an array, unknown type, missing
 * title/url, a javascript: or data: URL) is dropped entry by entry rather than failing the card.
 * Accepts the raw TEXT (raw queries bypass the entity's transformer) or the parsed value.
 */
export function normaliseAttachments(raw: unknown): TemplateAttachment[] {
  let value = raw;
  if (typeof value === 'string') {
    if (!value.trim()) return [];
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return [];
    }
  }
  if (!Array.isArray(value)) return [];
  const out: TemplateAttachment[] = [];
  for (const entry of value) {
    if (out.length >= MAX_ATTACHMENTS) break;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const o = entry as Record<string, unknown>;
    const a = o.type === 'link' ? link(o) : o.type === 'image' ? image(o) : null;
    if (a) out.push(a);
  }
  return out;
}
