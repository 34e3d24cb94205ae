// The counter's cart as plain data and the arithmetic the server also does: line amounts in
// integer fen (a weighed line rounded half up once), discounts, 抹零, tenders and change, scale
// labels, and the body of POST /api/v1/pos/sales. No DOM, so node's test runner checks it too.

/** An empty cart: lines, a sale discount and the 抹零 mode ("none", "jiao", "yuan"). */
export function emptyCart() {
  return { lines: [], discount_fen: 0, rounding: 'none' };
}

/**
 * A line for `product` ({id, name, unit, price_fen, …}). `quantity` is pieces or grams; a scale
 * label adds `code` and, when the label prints it, `label_fen` (which then is the list amount).
 */
export function newLine(product, quantity, { code = null, label_fen = null } = {}) {
  return {
    product: {
      id: product.id,
      name: product.name,
      name_en: product.name_en ?? null,
      unit: product.unit,
      price_fen: product.price_fen,
      barcode: product.barcode ?? null,
      // A gift box keeps what is inside and from which villages, for the cart line to show.
      ...(product.kind === 'bundle' ? {
        kind: 'bundle',
        components: (product.components ?? []).map(({ product_id, name, name_en, quantity, village_name }) => (
          { product_id, name, name_en, quantity, village_name })),
      } : {}),
    },
    quantity,
    discount_fen: 0,
    code,
    label_fen,
  };
}

/** Price per kilogram × grams ÷ 1000, rounded half up to the fen (the server's line_total). */
export function weighedFen(perKgFen, grams) {
  return Math.floor((perKgFen * grams + 500) / 1000);
}

/** What a line costs before discounts: the label's amount, or price × quantity. */
export function lineListFen(line) {
  if (line.label_fen !== null && line.label_fen !== undefined) return line.label_fen;
  if (line.quantity === null || line.quantity === undefined) return 0;
  return line.product.unit === 'g'
    ? weighedFen(line.product.price_fen, line.quantity)
    : line.product.price_fen * line.quantity;
}

/** After the line's own discount. */
export function lineNetFen(line) {
  return lineListFen(line) - line.discount_fen;
}

/** 抹零 of `amount`: the jiao or yuan part dropped. */
export function roundingFen(amount, mode) {
  if (amount <= 0) return 0;
  if (mode === 'jiao') return amount % 10;
  if (mode === 'yuan') return amount % 100;
  return 0;
}

/**
 * The cart's money: subtotal (list), line discounts, the sale discount, 抹零 and the total the
 * customer pays, as the server computes them (sale discount and 抹零 after line discounts).
 */
export function cartTotals(cart) {
  let subtotal = 0;
  let lineDiscounts = 0;
  for (const line of cart.lines) {
    subtotal += lineListFen(line);
    lineDiscounts += line.discount_fen;
  }
  const afterLines = subtotal - lineDiscounts;
  const saleDiscount = Math.min(cart.discount_fen, Math.max(afterLines, 0));
  const rounding = roundingFen(afterLines - saleDiscount, cart.rounding);
  const total = afterLines - saleDiscount - rounding;
  return {
    subtotal_fen: subtotal,
    line_discount_fen: lineDiscounts,
    sale_discount_fen: saleDiscount,
    rounding_fen: rounding,
    discount_fen: lineDiscounts + saleDiscount + rounding,
    total_fen: total,
    items: cart.lines.length,
  };
}

export const tenderMethods = ['cash', 'wechat', 'alipay', 'card', 'other', 'code'];

/**
 * Whose 付款码 a scanned payment code is (the server's rule): WeChat 18 digits starting 10–15 →
 * 'wechat_code'; Alipay 16–24 digits starting 25–30 → 'alipay_code'; anything else → null.
 */
export function paymentCodeMethod(code) {
  if (!/^\d{16,24}$/.test(code)) return null;
  const prefix = Number(code.slice(0, 2));
  if (code.length === 18 && prefix >= 10 && prefix <= 15) return 'wechat_code';
  if (prefix >= 25 && prefix <= 30) return 'alipay_code';
  return null;
}

/**
 * What the tenders pay of `total`: non-cash amounts count as entered; cash pays what is left of
 * the total from what the customer handed over (`tendered_fen`), the rest is change.
 * Returns {paid_fen, remaining_fen, change_fen, tenders} with each tender's `amount_fen` set.
 */
export function settle(total, tenders) {
  let nonCash = 0;
  for (const tender of tenders) if (tender.method !== 'cash') nonCash += tender.amount_fen;
  let cashDue = Math.max(total - nonCash, 0);
  let change = 0;
  const settled = tenders.map((tender) => {
    if (tender.method !== 'cash') return { ...tender };
    const handed = tender.tendered_fen ?? tender.amount_fen;
    const amount = Math.min(handed, cashDue);
    cashDue -= amount;
    change += handed - amount;
    return { ...tender, amount_fen: amount, tendered_fen: handed };
  });
  const paid = settled.reduce((sum, tender) => sum + tender.amount_fen, 0);
  return { paid_fen: paid, remaining_fen: total - paid, change_fen: change, tenders: settled };
}

/** Adds a tender; a second cash tender is merged into the first (one cash tender per sale). */
export function addTender(tenders, tender) {
  if (tender.method === 'cash') {
    const cash = tenders.find((existing) => existing.method === 'cash');
    if (cash) {
      const handed = (cash.tendered_fen ?? cash.amount_fen) + (tender.tendered_fen ?? tender.amount_fen);
      return tenders.map((existing) => (existing === cash
        ? { ...cash, amount_fen: handed, tendered_fen: handed } : existing));
    }
  }
  return [...tenders, tender];
}

/**
 * The body of POST /api/v1/pos/sales. Scanned labels go as `code` (the server prices them);
 * everything else by `product_id`. `offline` sales carry when they were rung up.
 */
export function saleBody(cart, tenders, { offline = false, rungAt = null } = {}) {
  const totals = cartTotals(cart);
  const body = {
    lines: cart.lines.map((line) => {
      const out = line.code ? { code: line.code } : { product_id: line.product.id };
      if (!line.code) out.quantity = line.quantity;  // a label's quantity is the label's
      out.discount_fen = line.discount_fen;
      // An offline sale is booked at the price this till showed (README "Offline till").
      if (offline && line.product.price_fen > 0) out.unit_price_fen = line.product.price_fen;
      return out;
    }),
    discount_fen: totals.sale_discount_fen,
    rounding: cart.rounding,
    tenders: settle(totals.total_fen, tenders).tenders.map((tender) => {
      const out = { method: tender.method, amount_fen: tender.amount_fen };
      if (tender.method === 'cash') out.tendered_fen = tender.tendered_fen;
      if (tender.reference) out.reference = tender.reference;
      if (tender.auth_code) out.auth_code = tender.auth_code;
      return out;
    }),
  };
  if (offline) {
    body.offline = true;
    body.rung_at = rungAt ?? new Date().toISOString();
  }
  return body;
}

// --- scale labels (条码秤) --------------------------------------------------------------------

/**
 * The station's default label layouts (README "Scale labels"): flag → fields after the 5-digit
 * PLU. 21: 13 digits amount; 22: 13 digits weight; 26: 18 digits amount then weight; 27: 18
 * digits weight then amount. The server is the judge; this lets the till show a price first.
 */
export const defaultLabelFormats = [
  { flag: '21', fields: ['amount'] },
  { flag: '22', fields: ['weight'] },
  { flag: '26', fields: ['amount', 'weight'] },
  { flag: '27', fields: ['weight', 'amount'] },
];

/** The EAN/GS1 check digit over `digits` (weights 3, 1, 3, … from the right). */
export function eanCheckDigit(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * Reads a scale label: {plu, amount_fen, grams} (either may be null), or null when `code` is not
 * one of the layouts. A label with a wrong check digit is {error: "check_digit"}.
 */
export function parseScaleLabel(code, formats = defaultLabelFormats) {
  if (!/^\d+$/.test(code)) return null;
  for (const format of formats) {
    if (code.length !== 8 + 5 * format.fields.length || !code.startsWith(format.flag)) continue;
    if (eanCheckDigit(code.slice(0, -1)) !== Number(code.at(-1))) return { error: 'check_digit' };
    const label = { plu: Number(code.slice(2, 7)), amount_fen: null, grams: null };
    format.fields.forEach((field, index) => {
      const value = Number(code.slice(7 + 5 * index, 12 + 5 * index));
      if (field === 'amount') label.amount_fen = value;
      else label.grams = value;
    });
    return label;
  }
  return null;
}

/** Builds a label (for tests and the demo): flag, PLU and the fields' values in order. */
export function makeScaleLabel(flag, plu, ...values) {
  const digits = flag + String(plu).padStart(5, '0') + values.map((v) => String(v).padStart(5, '0')).join('');
  return digits + eanCheckDigit(digits);
}

/** A valid EAN-13 product barcode (13 digits, right check digit). */
export function isEan13(code) {
  return /^\d{13}$/.test(code) && eanCheckDigit(code.slice(0, 12)) === Number(code[12]);
}

/**
 * A label as a cart line for `product` (found by PLU, or null when the till does not know it):
 * the amount printed is the list amount; with only a weight the amount is price × weight.
 */
export function labelLine(label, code, product) {
  const base = product ?? { id: null, name: null, unit: 'g', price_fen: 0 };
  let grams = label.grams;
  let amount = label.amount_fen;
  if (amount === null && product) amount = product.unit === 'g' ? weighedFen(product.price_fen, grams) : product.price_fen * grams;
  if (grams === null && product && product.price_fen > 0) {
    grams = product.unit === 'g' ? Math.floor((2000 * amount + product.price_fen) / (2 * product.price_fen)) : null;
  }
  return newLine(base, grams, { code, label_fen: amount });
}
