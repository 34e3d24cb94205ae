// Finds products at the counter by barcode, SKU, name (Chinese or English) or 拼音: initials
// (tgy → 铁观音), whole syllables (tieguanyin) or a mix. The readings come from pinyin-pro
// (pinned in web/package-lock.json, loaded as /assets/vendor/pinyin-pro/index.js, which sets
// globalThis.pinyinPro), never from a hand-typed table.

function library() {
  return globalThis.pinyinPro ?? null;
}

const readingOptions = { toneType: 'none', type: 'array', nonZh: 'removed', v: true };

/** A product with what it is searched by: lower-case names, pinyin initials and syllables. */
export function indexProduct(product) {
  const pinyin = library()?.pinyin;
  const name = product.name ?? '';
  return {
    product,
    name: name.toLowerCase(),
    english: (product.name_en ?? '').toLowerCase(),
    initials: pinyin ? pinyin(name, { ...readingOptions, pattern: 'first' }).join('') : '',
    syllables: pinyin ? pinyin(name, readingOptions).join('') : '',
    codes: [product.barcode, product.sku, product.plu === null || product.plu === undefined ? null : String(product.plu)]
      .filter(Boolean).map((code) => String(code).toLowerCase()),
  };
}

/** How well `entry` answers `query` (lower-case, trimmed): higher is better, 0 is no match. */
function score(entry, query) {
  if (entry.codes.includes(query)) return 100;
  if (entry.name.startsWith(query)) return 90;
  if (entry.name.includes(query)) return 80;
  if (/^[a-z]+$/.test(query)) {
    if (entry.initials.startsWith(query)) return 75;
    if (entry.initials.includes(query)) return 70;
    if (entry.syllables.startsWith(query)) return 65;
    if (entry.syllables.includes(query)) return 60;
    if (query.length >= 2 && library()?.match?.(entry.product.name ?? '', query)) return 50;
    if (entry.english.includes(query)) return 45;
    return 0;
  }
  if (entry.english.includes(query)) return 45;
  if (entry.codes.some((code) => code.startsWith(query))) return 40;
  return 0;
}

/** The counter's searchable catalog. */
export class ProductIndex {
  constructor(products = []) {
    this.entries = products.filter((product) => product.active !== false).map(indexProduct);
  }

  get size() {
    return this.entries.length;
  }

  /** Up to `limit` products for what the cashier typed, best first (ties by name). */
  search(text, limit = 12) {
    const query = (text ?? '').trim().toLowerCase().replace(/\s+/g, '');
    if (!query) return [];
    return this.entries
      .map((entry) => ({ entry, score: score(entry, query) }))
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score || a.entry.name.localeCompare(b.entry.name, 'zh-CN'))
      .slice(0, limit)
      .map((hit) => hit.entry.product);
  }

  byBarcode(code) {
    return this.entries.find((entry) => entry.product.barcode === code)?.product ?? null;
  }

  byPlu(plu) {
    return this.entries.find((entry) => Number(entry.product.plu) === plu)?.product ?? null;
  }
}
