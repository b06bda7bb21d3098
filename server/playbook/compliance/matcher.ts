import { type Normalised, normalise, normaliseWord, originalRange } from './normalize';
import type { SensitiveWordDef } from './words';

export interface WordHit {
  word: string;
  note: string;
  /** [start, end) in the original text (UTF-16 indices). */
  start: number;
  end: number;
  /** What the author wrote there, evasions included. */
  matched: string;
}

/**
 * A compiled word list: words keyed by normalised first character, so a text is scanned once and
 * each position tries only the words that can start there. Longest match wins at a position;
 * overlapping shorter words inside it are not reported again.
 */
export class WordMatcher {
  private readonly byFirst = new Map<string, { norm: string; def: SensitiveWordDef }[]>();
  readonly size: number;

  constructor(words: readonly SensitiveWordDef[]) {
    const seen = new Set<string>();
    for (const def of words) {
      const norm = normaliseWord(def.word);
      if (!norm || seen.has(norm)) continue;
      seen.add(norm);
      const first = norm[0];
      let list = this.byFirst.get(first);
      if (!list) {
        list = [];
        this.byFirst.set(first, list);
      }
      list.push({ norm, def });
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.norm.length - a.norm.length);
    this.size = seen.size;
  }

  find(original: string): WordHit[] {
    const n: Normalised = normalise(original);
    const hits: WordHit[] = [];
    let coveredUntil = 0;
    for (let i = 0; i < n.text.length; i++) {
      const list = this.byFirst.get(n.text[i]);
      if (!list) continue;
      for (const { norm, def } of list) {
        if (!n.text.startsWith(norm, i)) continue;
        const endN = i + norm.length;
        if (endN <= coveredUntil) break;
        const [start, end] = originalRange(n, original, i, endN);
        hits.push({ word: def.word, note: def.note, start, end, matched: original.slice(start, end) });
        coveredUntil = endN;
        break;
      }
    }
    return hits;
  }
}
