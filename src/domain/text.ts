/** Folds Vietnamese text for diacritic-insensitive search: "Đảng ủy phường" → "dang uy phuong". */
export function foldVietnamese(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The key two unit names are compared by to find duplicates (issue 19 §1): without diacritics,
 * case and spacing, so "UBND xã Quỳnh Lưu", "ubnd xa quynh luu" and "UBND  xã QuỳnhLưu" are one name.
 */
export function nameKey(name: string): string {
  return foldVietnamese(name).replace(/ /g, '');
}

/**
 * The search key of a document's number and notation (issue 19 §3): "12/QĐ-VPCP" → "12/qd-vpcp",
 * the same fold as nameKey, so "qd-vpcp" finds "QĐ-VPCP". Undefined when the document has neither.
 */
export function numberKey(codeNumber?: string, codeNotation?: string): string | undefined {
  if (!codeNumber && !codeNotation) return undefined;
  return nameKey(`${codeNumber ?? ''}/${codeNotation ?? ''}`);
}

/** Escapes a string for use inside a regular expression (MongoDB $regex). */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The anchored pattern a typed number/notation is matched with against numberKey: with a slash,
 * a prefix of "number/notation" ("12/qd" finds 12/QĐ-VPCP); without one, the whole number ("12")
 * or part of the notation ("vpcp"). Everything typed is escaped; null when nothing is left to search.
 */
export function numberKeyPattern(typed: string): string | null {
  const key = nameKey(typed);
  if (!key) return null;
  if (key.includes('/')) return `^${escapeRegex(key)}`;
  const k = escapeRegex(key);
  return `^${k}/|^[^/]*/.*${k}`;
}
