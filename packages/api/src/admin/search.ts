/** An ILIKE pattern matching `search` anywhere, its wildcards escaped; null for "no filter". */
export function containsPattern(search: string): string | null {
  return search === "" ? null : `%${search.replace(/[\\%_]/g, "\\$&")}%`;
}
