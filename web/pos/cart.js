// The cart at the counter: the cached catalog, the scan / search box (barcodes, scale labels,
// 拼音), and the edits of lines and of the whole sale.
import { api, fenToInput, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { localName, t } from '/assets/js/i18n.js';
import {
  cartTotals, labelLine, lineListFen, newLine, parseScaleLabel,
} from '/assets/js/pos-cart.js';
import { ProductIndex } from '/assets/js/pos-search.js';
import { cachedCatalog, saveCatalog } from '/assets/js/pos-store.js';
import {
  $, ask, errorText, lineName, parseDiscount, parseWhole, quantityText, saveCart, say, setOnline,
  state, unitPriceText,
} from './common.js';
import { openTender } from './checkout.js';
import { openRefund } from './refund.js';

// --- catalog -----------------------------------------------------------------------------------

export async function loadCatalog() {
  const cached = await cachedCatalog().catch(() => []);
  if (cached.length) state.index = new ProductIndex(cached);
  try {
    const products = [];
    for (let page = 1; page <= 100; page++) {
      const answer = await api(`/api/v1/products?channel=counter&page_size=100&page=${page}`);
      products.push(...answer.items);
      if (!answer.items.length || products.length >= answer.total) break;
    }
    state.index = new ProductIndex(products);
    await saveCatalog(products);
    setOnline(true);
  } catch (error) {
    if (error.status === 0) setOnline(false);
    if (!state.index.size) say(t('pos.no_catalog'), 'error');
  }
}

// --- the cart --------------------------------------------------------------------------------

/** A gift box's contents on the counter: "内含 瑶前乌龙茶×1（瑶前村）、…". */
export function bundleContentsText(product) {
  const items = (product.components ?? []).map((c) => `${localName(c)}×${c.quantity}（${c.village_name}）`);
  return ` ${t('pos.bundle_contents', { items: items.join('、') })}`;
}

/** The villages a gift box's money goes to, for the search list. */
function bundleVillagesText(product) {
  const villages = [...new Set((product.components ?? []).map((c) => c.village_name))];
  return t('pos.bundle_villages', { villages: villages.join('、') });
}

export function renderCart() {
  const rows = state.cart.lines.map((line, index) => {
    const row = element('tr', { attributes: { 'data-index': String(index) } }, [
      element('td', { className: 'num', text: String(index + 1) }),
      element('td', { className: 'name' }, [
        element('span', { text: lineName(line) }),
        ...(line.code ? [element('small', { className: 'code', text: ` ${line.code}` })] : []),
        ...(line.product.kind === 'bundle' ? [element('small', { className: 'bundle-contents', text: bundleContentsText(line.product) })] : []),
      ]),
      element('td', { className: 'num', text: quantityText(line) }),
      element('td', { className: 'num', text: unitPriceText(line.product) }),
      element('td', { className: 'num', text: line.discount_fen ? `-${formatFen(line.discount_fen)}` : '' }),
      element('td', { className: 'num amount', text: formatFen(lineListFen(line) - line.discount_fen) }),
    ]);
    if (index === state.selected) row.classList.add('selected');
    row.addEventListener('click', () => {
      state.selected = index;
      renderCart();
      $('#scan').focus();
    });
    return row;
  });
  $('#cart-rows').replaceChildren(...rows);
  $('#cart-empty').hidden = rows.length > 0;
  $('#cart-rows .selected')?.scrollIntoView({ block: 'nearest' });
  renderTotals();
  saveCart();
}

function renderTotals() {
  const totals = cartTotals(state.cart);
  const pieces = state.cart.lines.reduce((sum, line) => sum + (line.product.unit === 'g' ? 1 : line.quantity ?? 0), 0);
  $('#t-items').textContent = String(pieces);
  $('#t-subtotal').textContent = formatFen(totals.subtotal_fen);
  $('#t-discount').textContent = formatFen(totals.line_discount_fen + totals.sale_discount_fen);
  $('#t-rounding').textContent = state.cart.rounding === 'none'
    ? t('pos.rounding_none') : `${formatFen(totals.rounding_fen)}（${t(`pos.rounding_${state.cart.rounding}`)}）`;
  $('#t-total').textContent = formatFen(totals.total_fen);
}

function selectedLine() {
  return state.cart.lines[state.selected] ?? null;
}

function pushLine(line) {
  // The same piece product scanned again adds to its line (not labels, not discounted lines).
  const same = line.product.unit !== 'g' && !line.code && state.cart.lines.findIndex(
    (existing) => existing.product.id === line.product.id && !existing.code && existing.discount_fen === 0);
  if (same !== false && same >= 0) {
    state.cart.lines[same].quantity += line.quantity;
    state.selected = same;
  } else {
    state.cart.lines.push(line);
    state.selected = state.cart.lines.length - 1;
  }
  renderCart();
  const added = state.cart.lines[state.selected];
  say(t('pos.added', { name: lineName(added), amount: formatFen(lineListFen(added)) }), 'ok');
}

async function addProduct(product, quantity = null) {
  if (product.unit === 'g' && quantity === null) {
    const grams = await askGrams(product);
    if (grams === null) return;
    quantity = grams;
  }
  pushLine(newLine(product, quantity ?? 1));
}

async function askGrams(product, current = null) {
  return ask({
    title: t('pos.weigh_title', { name: localName(product) }),
    label: t('pos.weigh_label'),
    hint: t('pos.weigh_hint', { price: unitPriceText(product) }),
    value: current === null ? '' : String(current),
    inputmode: 'numeric',
    parse: (text) => {
      const grams = parseWhole(text);
      return grams && grams > 0 && grams <= 100000 ? grams : { error: t('pos.weigh_invalid') };
    },
  });
}

/**
 * A scale label priced by the server (POST /api/v1/pos/quote): the line as it will be sold, null
 * when the server refuses the label (said to the cashier), undefined when it cannot be asked.
 */
async function quoteLabel(code) {
  try {
    const quote = await api('/api/v1/pos/quote', { method: 'POST', body: { lines: [{ code }] } });
    const sold = quote.lines[0];
    const line = newLine({ id: sold.product_id, name: sold.name, unit: sold.unit, price_fen: sold.unit_price_fen },
                         sold.quantity, { code, label_fen: sold.list_fen });
    const cached = state.index.entries.find((entry) => entry.product.id === sold.product_id)?.product;
    if (cached?.name_en) line.product.name_en = cached.name_en;
    return line;
  } catch (error) {
    if (error.status === 0) {
      setOnline(false);
      return undefined;
    }
    say(errorText(error), 'error');
    return null;
  }
}

/** A scanned code: a scale label (priced by the label) or a product barcode. */
async function addByCode(code, quantity) {
  const label = parseScaleLabel(code, state.labelFormats);
  if (label?.error) {
    say(t('pos.label_check_digit', { code }), 'error');
    return;
  }
  if (label && state.online) {
    const quoted = await quoteLabel(code);
    if (quoted !== undefined) {
      if (quoted) pushLine(quoted);
      return;
    }
  }
  if (label) {
    const product = state.index.byPlu(label.plu);
    const line = labelLine(label, code, product);
    line.plu = label.plu;
    if (line.label_fen === null) {
      say(t('pos.label_unknown', { plu: label.plu }), 'error');
      return;
    }
    pushLine(line);
    return;
  }
  let product = null;
  if (state.online) {
    try {
      product = await api(`/api/v1/products/by-barcode/${encodeURIComponent(code)}`);
      setOnline(true);
    } catch (error) {
      if (error.status === 404) {
        say(t('pos.not_found', { code }), 'error');
        return;
      }
      if (error.status === 0) setOnline(false);
      else if (error.status === 401) location.href = `/login.html?next=${encodeURIComponent(location.pathname)}`;
    }
  }
  product ??= state.index.byBarcode(code);
  if (!product) {
    say(t('pos.not_found', { code }), 'error');
    return;
  }
  await addProduct(product, quantity);
}

// --- the scan / search box -------------------------------------------------------------------

export function renderResults() {
  const list = $('#results');
  list.hidden = state.results.length === 0;
  list.replaceChildren(...state.results.map((product, index) => {
    const item = element('li', {
      className: index === state.resultIndex ? 'selected' : '',
      attributes: { role: 'option', 'aria-selected': String(index === state.resultIndex) },
    }, [
      element('span', { className: 'name', text: localName(product) }),
      element('span', { className: 'village', text: product.kind === 'bundle' ? bundleVillagesText(product) : product.village_name ?? '' }),
      element('span', { className: 'price', text: unitPriceText(product) }),
    ]);
    item.addEventListener('mousedown', (event) => {
      event.preventDefault();
      chooseResult(index);
    });
    return item;
  }));
}

export function clearSearch() {
  state.results = [];
  state.resultIndex = 0;
  renderResults();
}

async function chooseResult(index) {
  const product = state.results[index];
  const quantity = state.pendingQuantity ?? null;
  $('#scan').value = '';
  state.pendingQuantity = null;
  clearSearch();
  if (product) await addProduct(product, quantity);
  $('#scan').focus();
}

export function onScanInput() {
  const text = $('#scan').value;
  const query = text.replace(/^\d{1,4}\*/, '');
  if (/^\d*$/.test(query.trim()) || /^\d{8}-/.test(query)) {
    clearSearch();
    return;
  }
  state.results = state.index.search(query, 10);
  state.resultIndex = 0;
  renderResults();
}

export async function onScanSubmit(event) {
  event.preventDefault();
  const input = $('#scan');
  let text = input.value.trim();
  if (!text) {
    if (state.cart.lines.length) openTender();
    return;
  }
  let quantity = null;
  const multiplied = /^(\d{1,4})\*(.+)$/.exec(text);  // "3*" before a scan: three of it
  if (multiplied) {
    quantity = Number(multiplied[1]) || 1;
    text = multiplied[2].trim();
  }
  if (/^\d{8}-\d+-\d+$/.test(text)) {  // a receipt's QR code: its sale number
    input.value = '';
    openRefund(text);
    return;
  }
  if (/^\d{8,18}$/.test(text)) {
    input.value = '';
    clearSearch();
    await addByCode(text, quantity);
    return;
  }
  if (state.results.length) {
    state.pendingQuantity = quantity;
    await chooseResult(state.resultIndex);
  } else {
    say(t('pos.search_none', { q: text }), 'error');
  }
}

// --- line and sale edits ---------------------------------------------------------------------

export async function editQuantity() {
  const line = selectedLine();
  if (!line) return say(t('pos.select_line'), 'error');
  if (line.code) return say(t('pos.label_fixed'), 'error');
  if (line.product.unit === 'g') return editWeight();
  const quantity = await ask({
    title: t('pos.qty_title', { name: lineName(line) }), label: t('pos.qty_label'),
    value: String(line.quantity), inputmode: 'numeric',
    parse: (text) => {
      const value = parseWhole(text);
      return value !== null && value >= 0 && value <= 9999 ? value : { error: t('pos.qty_invalid') };
    },
  });
  if (quantity === null) return;
  if (quantity === 0) return removeLine();
  line.quantity = quantity;
  line.discount_fen = Math.min(line.discount_fen, lineListFen(line));
  renderCart();
}

export async function editWeight() {
  const line = selectedLine();
  if (!line) return say(t('pos.select_line'), 'error');
  if (line.code) return say(t('pos.label_fixed'), 'error');
  if (line.product.unit !== 'g') return say(t('pos.not_weighed'), 'error');
  const grams = await askGrams(line.product, line.quantity);
  if (grams === null) return;
  line.quantity = grams;
  line.discount_fen = Math.min(line.discount_fen, lineListFen(line));
  renderCart();
}

export async function editLineDiscount() {
  const line = selectedLine();
  if (!line) return say(t('pos.select_line'), 'error');
  const list = lineListFen(line);
  const discount = await ask({
    title: t('pos.line_discount_title', { name: lineName(line) }), label: t('pos.discount_label'),
    hint: t('pos.discount_hint', { amount: formatFen(list) }),
    value: line.discount_fen ? fenToInput(line.discount_fen) : '', inputmode: 'decimal',
    parse: (text) => {
      if (!text.trim()) return 0;
      const fen = parseDiscount(text, list);
      return fen !== null && fen <= list ? fen : { error: t('pos.discount_invalid') };
    },
  });
  if (discount === null) return;
  line.discount_fen = discount;
  renderCart();
}

export async function editSaleDiscount() {
  if (!state.cart.lines.length) return say(t('pos.cart_is_empty'), 'error');
  const totals = cartTotals(state.cart);
  const base = totals.subtotal_fen - totals.line_discount_fen;
  const discount = await ask({
    title: t('pos.sale_discount_title'), label: t('pos.discount_label'),
    hint: t('pos.discount_hint', { amount: formatFen(base) }),
    value: state.cart.discount_fen ? fenToInput(state.cart.discount_fen) : '', inputmode: 'decimal',
    parse: (text) => {
      if (!text.trim()) return 0;
      const fen = parseDiscount(text, base);
      return fen !== null && fen <= base ? fen : { error: t('pos.discount_invalid') };
    },
  });
  if (discount === null) return;
  state.cart.discount_fen = discount;
  renderCart();
}

export function cycleRounding() {
  const order = ['none', 'jiao', 'yuan'];
  state.cart.rounding = order[(order.indexOf(state.cart.rounding) + 1) % order.length];
  renderCart();
  say(t('pos.rounding_set', { mode: t(`pos.rounding_${state.cart.rounding}`) }));
}

export function removeLine() {
  if (!selectedLine()) return say(t('pos.select_line'), 'error');
  const [removed] = state.cart.lines.splice(state.selected, 1);
  state.selected = Math.min(state.selected, state.cart.lines.length - 1);
  renderCart();
  say(t('pos.removed', { name: lineName(removed) }));
}

export function moveSelection(step) {
  if (!state.cart.lines.length) return;
  const count = state.cart.lines.length;
  state.selected = state.selected < 0 ? (step > 0 ? 0 : count - 1) : (state.selected + step + count) % count;
  renderCart();
}
