/**
 * Text normalisation for the sensitive-word check, keeping the way back to the original text:
 * `map[i]` is the index in the original string of the normalised character i, so a finding points
 * at what the author wrote. Evasions seen through:
 *   full-width forms (ＡＢＣ１２３，) → NFKC; zero-width and other invisible characters, spaces,
 *   punctuation and symbols inserted between characters → dropped; traditional forms → simplified
 *   (a small map covering the characters of the word lists); Latin letters → lower case.
 */

/** Traditional → simplified for the characters that occur in the sensitive words and disclaimers. */
const TRADITIONAL: Record<string, string> = {
  險: '险',
  證: '证',
  穩: '稳',
  賺: '赚',
  賠: '赔',
  無: '无',
  剛: '刚',
  兌: '兑',
  價: '价',
  額: '额',
  實: '实',
  現: '现',
  資: '资',
  產: '产',
  財: '财',
  經: '经',
  營: '营',
  擔: '担',
  專: '专',
  門: '门',
  獨: '独',
  級: '级',
  對: '对',
  絕: '绝',
  虧: '亏',
  損: '损',
  賬: '账',
  戶: '户',
  樣: '样',
  當: '当',
  於: '于',
  與: '与',
  過: '过',
  業: '业',
  績: '绩',
  來: '来',
  選: '选',
  擇: '择',
  謹: '谨',
  須: '须',
  風: '风',
  覆: '复',
  復: '复',
  錢: '钱',
  銀: '银',
  蓋: '盖',
  預: '预',
  確: '确',
  穫: '获',
  獲: '获',
  潤: '润',
  紅: '红',
  買: '买',
  賣: '卖',
  貸: '贷',
  億: '亿',
  萬: '万',
  頂: '顶',
  極: '极',
  儲: '储',
  說: '说',
  書: '书',
  託: '托',
  總: '总',
  進: '进',
  優: '优',
  勢: '势',
  長: '长',
  會: '会',
  從: '从',
  虛: '虚',
  頭: '头',
};

/** Invisible characters people paste between letters to slip past a filter. */
const INVISIBLE_RANGES: [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
];
const isInvisible = (ch: string) => {
  const cp = ch.codePointAt(0) ?? 0;
  return INVISIBLE_RANGES.some(([a, b]) => cp >= a && cp <= b);
};
/** Separators: whitespace, punctuation and symbols (％ and ＋ included: they are never part of a match). */
const SEPARATOR = /[\s\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}]/u;

export interface Normalised {
  text: string;
  /** Original index (UTF-16) of each normalised character. */
  map: number[];
}

export function normaliseChar(ch: string): string {
  let c = ch.normalize('NFKC');
  if (c.length > 0 && TRADITIONAL[c]) c = TRADITIONAL[c];
  return c.toLowerCase();
}

export function normalise(original: string): Normalised {
  let text = '';
  const map: number[] = [];
  let i = 0;
  for (const ch of original) {
    const at = i;
    i += ch.length;
    if (isInvisible(ch)) continue;
    const n = normaliseChar(ch);
    for (const c of n) {
      if (SEPARATOR.test(c) || isInvisible(c)) continue;
      text += c;
      for (let k = 0; k < c.length; k++) map.push(at);
    }
  }
  return { text, map };
}

/** The normalised form of a word from a list (separators inside a listed word are dropped too). */
export function normaliseWord(word: string): string {
  return normalise(word).text;
}

/** End index (exclusive) in the original text of the normalised range [start, end). */
export function originalRange(n: Normalised, original: string, start: number, end: number): [number, number] {
  const from = n.map[start];
  const lastAt = n.map[end - 1];
  const cp = original.codePointAt(lastAt) ?? 0;
  return [from, lastAt + (cp > 0xffff ? 2 : 1)];
}
