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
