import type { FakeCall, SentMessage } from './fake-types';

/**
 * How the sandbox page shows an app message the server sent: as a reader sees it in WeCom, not as
 * the API body. A textcard's description is WeCom's small HTML subset (div class gray / normal /
 * highlight, br): each block becomes a line of plain text; the page escapes every piece and never
 * puts the HTML itself on the page.
 */
export interface AppMessageView {
  /** textcard: its title; text: null. */
  title: string | null;
  /** The body as lines of plain text. */
  lines: string[];
  /** textcard: the link behind the card's button. */
  url: string | null;
  /** textcard: the button's text, when the request that sent it is still in the fake's log. */
  button: string | null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

/** A textcard description as lines of text: block ends and <br> break lines, other tags go. */
export function textcardLines(description: string): string[] {
  const text = description
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(div|p)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The button text of each textcard in the fake's request log, by what the fake stored as content. */
export function textcardButtons(calls: readonly FakeCall[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of calls) {
    if (c.api !== 'message/send' || c.errcode !== 0) continue;
    const card = (c.body as { textcard?: { title?: unknown; description?: unknown; btntxt?: unknown } } | null)
      ?.textcard;
    if (typeof card?.btntxt !== 'string' || !card.btntxt) continue;
    out.set(`${card.title}\n${card.description}`, card.btntxt);
  }
  return out;
}

export function appMessageView(m: SentMessage, buttons: ReadonlyMap<string, string> = new Map()): AppMessageView {
  if (m.msgtype !== 'textcard') {
    return { title: null, lines: m.content.split('\n'), url: null, button: null };
  }
  // The fake stores a textcard as its title, a newline, then the description.
  const cut = m.content.indexOf('\n');
  const title = cut < 0 ? m.content : m.content.slice(0, cut);
  const description = cut < 0 ? '' : m.content.slice(cut + 1);
  return {
    title,
    lines: textcardLines(description),
    url: m.url ?? null,
    button: buttons.get(m.content) ?? null,
  };
}
