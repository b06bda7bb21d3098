/** `list` in consecutive slices of at most `size` (IN-lists and multi-row statements stay under driver limits). */
export function* chunks<T>(list: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}
