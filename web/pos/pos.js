// The counter (收银台), keyboard first: a scanner types digits + Enter; F-keys do the rest and are
// shown on screen. Sales go through an outbox in IndexedDB with their Idempotency-Key, so when
// the server is unreachable the counter sells on from the cached catalog and the queued sales
// are sent later, exactly once, in order.
import { api, ApiError, currentUser, fenToInput, formatFen, parseYuan } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { installLanguageSwitch, language, localName, t, translatePage } from '/assets/js/i18n.js';
import {
  addTender, cartTotals, emptyCart, labelLine, lineListFen, newLine, parseScaleLabel, saleBody,
  settle, tenderMethods,
} from '/assets/js/pos-cart.js';
import { ProductIndex } from '/assets/js/pos-search.js';
import {
  cachedCatalog, enqueueSale, getMeta, outboxItem, outboxItems, removeItem, saveCatalog, setMeta,
  syncedSales, updateItem,
} from '/assets/js/pos-store.js';
import { SaleSync } from '/assets/js/pos-sync.js';

const $ = (selector) => document.querySelector(selector);

const state = {
  user: null,
  shift: null,
  registers: [],
  cart: restoreCart(),
  selected: -1,
  results: [],
  resultIndex: 0,
  index: new ProductIndex(),
  tenders: [],
  tenderMethod: 'cash',
  submitting: false,
  lastSale: null,     // the last sale the server confirmed: {id, number}
  doneSale: null,     // what the done dialog shows
  refundSale: null,
  refundKey: null,
  online: true,
};

const sync = new SaleSync();

// --- small helpers ---------------------------------------------------------------------------

/** A UUID for an Idempotency-Key; crypto.randomUUID needs a secure context, a LAN till may not be one. */
function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function restoreCart() {
  try {
    const saved = JSON.parse(localStorage.getItem('yz_pos_cart') ?? 'null');
    if (saved && Array.isArray(saved.lines)) return saved;
  } catch { /* a damaged saved cart starts empty */ }
  return emptyCart();
}

function saveCart() {
  localStorage.setItem('yz_pos_cart', JSON.stringify(state.cart));
}

function lineName(line) {
  if (line.product.name) return localName(line.product);
  return t('pos.label_item', { plu: line.plu ?? '?' });
}

/** "3" for pieces, "1.250 kg" or "350 g" for grams. */
function quantityText(line) {
  if (line.quantity === null || line.quantity === undefined) return '—';
  if (line.product.unit !== 'g') return String(line.quantity);
  return line.quantity >= 1000 ? `${(line.quantity / 1000).toFixed(3)} kg` : `${line.quantity} g`;
}

function unitPriceText(product) {
  if (!product.price_fen) return '—';
  return product.unit === 'g' ? `${formatFen(product.price_fen)}/kg` : formatFen(product.price_fen);
}

/** The cashier's words for an API error: Chinese first, the server's detail after. */
function errorText(error) {
  if (!(error instanceof ApiError) && !error?.code) return t('error.generic');
  const details = error.details ?? {};
  const key = `pos.error.${error.code}`;
  const text = t(key, {
    available: details.available ?? '', product: details.name ?? details.product_id ?? '',
    label: details.label_fen !== undefined ? formatFen(details.label_fen) : '',
    computed: details.computed_fen !== undefined ? formatFen(details.computed_fen) : '',
    limit: details.limit_fen !== undefined ? formatFen(details.limit_fen) : '',
  });
  const known = text !== key;
  return known ? text : `${t('error.generic')}（${error.message ?? error.code}）`;
}

function say(text, kind = 'info') {
  const message = $('#pos-message');
  message.textContent = text;
  message.dataset.kind = kind;
}

/** Whole numbers typed by a person; null if not one. */
function parseWhole(text) {
  const trimmed = (text ?? '').trim();
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : null;
}

/** "12.5" yuan or "10%" of `base`: fen, or null. */
function parseDiscount(text, base) {
  const percent = /^\s*(\d{1,2}(?:\.\d)?)\s*%\s*$/.exec(text ?? '');
  if (percent) return Math.floor((base * Number(percent[1])) / 100);
  return parseYuan(text);
}

// --- the frame: who is signed in, language, online state --------------------------------------

function buildTopbar() {
  $('#topbar').replaceChildren(
    element('a', { className: 'brand', attributes: { href: '/', 'data-i18n': 'station.name' } }),
    element('strong', { className: 'pos-title', attributes: { 'data-i18n': 'page.pos' } }),
    element('nav', {}, [
      element('span', { attributes: { id: 'who' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'lang-switch', 'data-i18n': 'lang.switch' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'logout', 'data-i18n': 'nav.logout' } }),
    ]));
  translatePage();
  installLanguageSwitch($('#lang-switch'), renderAll);
  $('#logout').addEventListener('click', async () => {
    const { waiting, rejected } = await sync.counts();
    if ((waiting || rejected) && !confirm(t('pos.logout_queue', { count: waiting + rejected }))) return;
    await api('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
    await setMeta('user', null);
    location.href = '/login.html';
  });
}

/** The signed-in cashier; offline, the one this till last saw (sales then wait for the server). */
async function signedInUser() {
  try {
    const user = await currentUser();
    if (user && ['admin', 'cashier'].includes(user.role)) {
      await setMeta('user', user);
      return user;
    }
  } catch (error) {
    if (error.status === 0) {
      setOnline(false);
      const cached = await getMeta('user');
      if (cached) return cached;
    }
  }
  location.href = `/login.html?next=${encodeURIComponent(location.pathname)}`;
  return null;
}

function setOnline(online) {
  if (state.online === online) return;
  state.online = online;
  renderStatus();
  if (online) sync.kick();
}

let pinging = null;
/** While offline, ask /healthz every few seconds; the first answer sends the queue. */
function watchConnection() {
  if (pinging) return;
  pinging = setInterval(async () => {
    if (state.online) return;
    try {
      const response = await fetch('/healthz', { cache: 'no-store' });
      if (response.ok) setOnline(true);
    } catch { /* still offline */ }
  }, 3000);
}

async function renderStatus() {
  const net = $('#net-status');
  net.dataset.state = state.online ? 'online' : 'offline';
  net.textContent = t(state.online ? 'pos.online' : 'pos.offline');
  const shift = state.shift;
  $('#shift-info').textContent = shift
    ? t('pos.shift_info', { register: shift.register?.name ?? shift.register ?? '', id: shift.id, cashier: shift.cashier?.username ?? shift.cashier ?? state.user?.username ?? '' })
    : t('pos.no_shift');
  const { waiting, rejected } = await sync.counts();
  const badge = $('#queue-badge');
  badge.hidden = waiting + rejected === 0;
  badge.dataset.count = String(waiting);
  badge.dataset.rejected = String(rejected);
  badge.classList.toggle('has-rejected', rejected > 0);
  badge.textContent = rejected
    ? t('pos.queue_badge_rejected', { count: waiting, rejected })
    : t('pos.queue_badge', { count: waiting });
}

// --- catalog -----------------------------------------------------------------------------------

async function loadCatalog() {
  const cached = await cachedCatalog().catch(() => []);
  if (cached.length) state.index = new ProductIndex(cached);
  try {
    const products = [];
    for (let page = 1; page <= 100; page++) {
      const answer = await api(`/api/v1/products?page_size=100&page=${page}`);
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

function renderCart() {
  const rows = state.cart.lines.map((line, index) => {
    const row = element('tr', { attributes: { 'data-index': String(index) } }, [
      element('td', { className: 'num', text: String(index + 1) }),
      element('td', { className: 'name' }, [
        element('span', { text: lineName(line) }),
        ...(line.code ? [element('small', { className: 'code', text: ` ${line.code}` })] : []),
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

function renderResults() {
  const list = $('#results');
  list.hidden = state.results.length === 0;
  list.replaceChildren(...state.results.map((product, index) => {
    const item = element('li', {
      className: index === state.resultIndex ? 'selected' : '',
      attributes: { role: 'option', 'aria-selected': String(index === state.resultIndex) },
    }, [
      element('span', { className: 'name', text: localName(product) }),
      element('span', { className: 'village', text: product.village_name ?? '' }),
      element('span', { className: 'price', text: unitPriceText(product) }),
    ]);
    item.addEventListener('mousedown', (event) => {
      event.preventDefault();
      chooseResult(index);
    });
    return item;
  }));
}

function clearSearch() {
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

function onScanInput() {
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

async function onScanSubmit(event) {
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

async function editQuantity() {
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

async function editWeight() {
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

async function editLineDiscount() {
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

async function editSaleDiscount() {
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

function cycleRounding() {
  const order = ['none', 'jiao', 'yuan'];
  state.cart.rounding = order[(order.indexOf(state.cart.rounding) + 1) % order.length];
  renderCart();
  say(t('pos.rounding_set', { mode: t(`pos.rounding_${state.cart.rounding}`) }));
}

function removeLine() {
  if (!selectedLine()) return say(t('pos.select_line'), 'error');
  const [removed] = state.cart.lines.splice(state.selected, 1);
  state.selected = Math.min(state.selected, state.cart.lines.length - 1);
  renderCart();
  say(t('pos.removed', { name: lineName(removed) }));
}

function moveSelection(step) {
  if (!state.cart.lines.length) return;
  const count = state.cart.lines.length;
  state.selected = state.selected < 0 ? (step > 0 ? 0 : count - 1) : (state.selected + step + count) % count;
  renderCart();
}

// --- the prompt dialog -----------------------------------------------------------------------

/**
 * Asks for one value (two with `second`): resolves to parse(text) (or [value, text2]), or null
 * when the cashier presses Esc. `parse` returns {error} to keep the dialog open.
 */
function ask({ title, label, hint = '', value = '', inputmode = 'text', parse, second = null }) {
  const dialog = $('#prompt-dialog');
  const input = $('#prompt-input');
  $('#prompt-title').textContent = title;
  $('#prompt-label').textContent = label;
  $('#prompt-hint').textContent = hint;
  $('#prompt-error').textContent = '';
  input.value = value;
  input.inputMode = inputmode;
  $('#prompt-second').hidden = !second;
  if (second) {
    $('#prompt-label2').textContent = second.label;
    $('#prompt-input2').value = second.value ?? '';
  }
  return new Promise((resolve) => {
    const form = $('#prompt-form');
    const finish = (result) => {
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(result);
      $('#scan').focus();
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const parsed = parse(input.value);
      if (parsed && typeof parsed === 'object' && 'error' in parsed) {
        $('#prompt-error').textContent = parsed.error;
        input.select();
        return;
      }
      if (second) {
        const text2 = $('#prompt-input2').value.trim();
        if (second.required && !text2) {
          $('#prompt-error').textContent = second.required;
          $('#prompt-input2').focus();
          return;
        }
        finish([parsed, text2]);
      } else {
        finish(parsed);
      }
    };
    const onClose = () => finish(null);
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

// --- shifts ----------------------------------------------------------------------------------

async function loadShift() {
  try {
    state.shift = await api('/api/v1/pos/shifts/current');
    await setMeta('shift', state.shift);
    setOnline(true);
  } catch (error) {
    if (error.status === 404) {
      state.shift = null;
      await setMeta('shift', null);
    } else if (error.status === 0) {
      setOnline(false);
      state.shift = (await getMeta('shift')) ?? null;
    } else {
      say(errorText(error), 'error');
    }
  }
  renderStatus();
}

/** The station's tills: names for the shift dialog, and which has a receipt printer. */
async function loadRegisters() {
  try {
    state.registers = (await api('/api/v1/pos/registers')).items ?? [];
    await setMeta('registers', state.registers);
  } catch {
    state.registers = (await getMeta('registers')) ?? [];
  }
}

function currentRegister() {
  const shift = state.shift;
  if (!shift) return null;
  return state.registers.find((register) => register.id === shift.register_id || register.name === shift.register) ?? null;
}

async function openShiftDialog() {
  const dialog = $('#shift-dialog');
  await loadRegisters();
  $('#register-list').replaceChildren(...state.registers.map((register) =>
    element('option', { attributes: { value: register.name } })));
  $('#shift-register').value = localStorage.getItem('yz_pos_register') ?? '柜台1';
  $('#shift-error').textContent = '';
  if (!dialog.open) dialog.showModal();
  $('#shift-float').focus();
  $('#shift-float').select();
}

async function submitShift(event) {
  event.preventDefault();
  const register = $('#shift-register').value.trim();
  const float = parseYuan($('#shift-float').value);
  if (!register) return void ($('#shift-error').textContent = t('pos.register_required'));
  if (float === null) return void ($('#shift-error').textContent = t('field.price_invalid'));
  try {
    state.shift = await api('/api/v1/pos/shifts', { method: 'POST', body: { register, float_fen: float } });
    localStorage.setItem('yz_pos_register', register);
    await setMeta('shift', state.shift);
    $('#shift-dialog').close();
    renderStatus();
    say(t('pos.shift_opened', { register }), 'ok');
    $('#scan').focus();
  } catch (error) {
    if (error.code === 'shift_open') {
      await loadShift();
      if (state.shift) {
        $('#shift-dialog').close();
        return;
      }
    }
    $('#shift-error').textContent = error.status === 0 ? t('pos.needs_server') : errorText(error);
  }
}

function needShift() {
  if (state.shift) return true;
  if (state.online) openShiftDialog();
  else say(t('pos.needs_server'), 'error');
  return false;
}

async function cashMovement() {
  if (!needShift()) return;
  if (!state.online) return say(t('pos.needs_server'), 'error');
  const answer = await ask({
    title: t('pos.cash_title'), label: t('pos.cash_label'), hint: t('pos.cash_hint'), inputmode: 'decimal',
    parse: (text) => {
      const negative = /^\s*-/.test(text);
      const fen = parseYuan(text.replace(/^\s*-/, ''));
      return fen ? (negative ? -fen : fen) : { error: t('field.price_invalid') };
    },
    second: { label: t('pos.cash_reason'), required: t('pos.cash_reason_required') },
  });
  if (!answer) return;
  const [amount, reason] = answer;
  try {
    await api(`/api/v1/pos/shifts/${state.shift.id}/cash`, { method: 'POST', body: { amount_fen: amount, reason } });
    say(t('pos.cash_done', { amount: formatFen(amount) }), 'ok');
  } catch (error) {
    say(errorText(error), 'error');
  }
}

function reportRows(report) {
  const rows = [
    [t('pos.report_sales'), String(report.sales_count ?? 0)],
    [t('pos.report_gross'), formatFen(report.gross_fen ?? 0)],
    [t('pos.report_discount'), formatFen(report.discount_fen ?? 0)],
    [t('pos.report_refunds'), formatFen(report.refund_fen ?? report.refunds_fen ?? 0)],
  ];
  for (const method of report.by_method ?? []) {
    rows.push([`${t(`method.${method.method}`)}`, formatFen(method.amount_fen ?? method.net_fen ?? 0)]);
  }
  if (report.float_fen !== undefined) rows.push([t('pos.float_short'), formatFen(report.float_fen)]);
  rows.push([t('pos.report_expected_cash'), formatFen(report.expected_cash_fen ?? 0)]);
  if (report.counted_cash_fen !== undefined && report.counted_cash_fen !== null) {
    rows.push([t('pos.report_counted_cash'), formatFen(report.counted_cash_fen)]);
    const difference = report.difference_fen ?? 0;
    rows.push([t(difference > 0 ? 'pos.report_over' : difference < 0 ? 'pos.report_short' : 'pos.report_difference'),
               formatFen(difference)]);
  }
  return rows;
}

function showReport(kind, report) {
  const shift = report.shift ?? state.shift ?? {};
  const body = $('#report-body');
  body.replaceChildren(
    element('h2', { text: t(kind === 'z' ? 'pos.z_title' : 'pos.x_title') }),
    element('p', { className: 'hint', text: t('pos.shift_info', { register: shift.register?.name ?? shift.register ?? '', id: shift.id ?? '', cashier: shift.cashier?.username ?? shift.cashier ?? '' }) }),
    element('table', { className: 'data-table report-table', attributes: { id: `report-${kind}` } }, [
      element('tbody', {}, reportRows(report).map(([name, value]) =>
        element('tr', {}, [element('th', { text: name }), element('td', { className: 'num', text: value })]))),
    ]));
  $('#report-dialog').dataset.kind = kind;
  $('#report-dialog').dataset.shiftId = String(shift.id ?? '');
  $('#report-dialog').showModal();
}

async function xReport() {
  if (!needShift()) return;
  try {
    showReport('x', await api(`/api/v1/pos/shifts/${state.shift.id}/report`));
  } catch (error) {
    say(error.status === 0 ? t('pos.needs_server') : errorText(error), 'error');
  }
}

async function closeShift() {
  if (!needShift()) return;
  if (!state.online) return say(t('pos.needs_server'), 'error');
  const { waiting } = await sync.counts();
  if (waiting) return say(t('pos.close_queue', { count: waiting }), 'error');
  if (state.cart.lines.length) return say(t('pos.close_cart'), 'error');
  const counted = await ask({
    title: t('pos.z_title'), label: t('pos.counted_label'), hint: t('pos.counted_hint'), inputmode: 'decimal',
    parse: (text) => parseYuan(text) ?? { error: t('field.price_invalid') },
  });
  if (counted === null) return;
  try {
    const report = await api(`/api/v1/pos/shifts/${state.shift.id}/close`, { method: 'POST', body: { counted_cash_fen: counted } });
    showReport('z', { ...report, shift: report.shift ?? state.shift });
    state.shift = null;
    await setMeta('shift', null);
    renderStatus();
    $('#report-dialog').addEventListener('close', () => openShiftDialog(), { once: true });
  } catch (error) {
    say(errorText(error), 'error');
  }
}

/** The server's printable X/Z report (58 or 80 mm, as the register prints) in the print frame. */
function printReport() {
  const id = $('#report-dialog').dataset.shiftId;
  if (!id) return;
  printFrame(`/api/v1/pos/shifts/${id}/report/print`);
}

// --- tender ------------------------------------------------------------------------------------

function openTender() {
  if (!needShift()) return;
  if (!state.cart.lines.length) return say(t('pos.cart_is_empty'), 'error');
  state.tenders = [];
  state.tenderMethod = 'cash';
  $('#tender-error').textContent = '';
  renderTender();
  $('#tender-dialog').showModal();
  $('#tender-amount').focus();
}

function renderTender() {
  const total = cartTotals(state.cart).total_fen;
  const settled = settle(total, state.tenders);
  $('#tender-total').textContent = formatFen(total);
  $('#tender-remaining').textContent = formatFen(Math.max(settled.remaining_fen, 0));
  $('#tender-change').textContent = formatFen(previewChange(total));
  $('#tender-methods').replaceChildren(...tenderMethods.map((method, index) => {
    const button = element('button', {
      className: `method${method === state.tenderMethod ? ' selected' : ''}`,
      attributes: { type: 'button', role: 'radio', 'aria-checked': String(method === state.tenderMethod), 'data-method': method },
    }, [element('kbd', { text: `F${index + 1}` }), ` ${t(`method.${method}`)}`]);
    button.addEventListener('click', () => chooseMethod(method));
    return button;
  }));
  $('#tender-amount-label').textContent = t(state.tenderMethod === 'cash' ? 'pos.cash_tendered' : 'pos.tender_amount',
                                            { method: t(`method.${state.tenderMethod}`) });
  $('#tender-amount').placeholder = fenToInput(Math.max(settled.remaining_fen, 0));
  $('#tender-reference-row').hidden = state.tenderMethod === 'cash';
  $('#tender-list').replaceChildren(...settled.tenders.map((tender) => element('li', {}, [
    element('span', { text: t(`method.${tender.method}`) }),
    element('span', { className: 'num', text: tender.method === 'cash' && tender.tendered_fen !== tender.amount_fen
      ? t('pos.cash_line', { tendered: formatFen(tender.tendered_fen), amount: formatFen(tender.amount_fen) })
      : formatFen(tender.amount_fen) }),
    ...(tender.reference ? [element('small', { text: tender.reference })] : []),
  ])));
}

/** The change if the cash being typed were handed over now: shown large while typing. */
function previewChange(total) {
  const typed = state.tenderMethod === 'cash' ? parseYuan($('#tender-amount').value) : null;
  const tenders = typed ? addTender(state.tenders, { method: 'cash', amount_fen: typed, tendered_fen: typed }) : state.tenders;
  return settle(total, tenders).change_fen;
}

function chooseMethod(method) {
  state.tenderMethod = method;
  $('#tender-error').textContent = '';
  renderTender();
  $('#tender-amount').focus();
  $('#tender-amount').select();
}

async function submitTenderAmount(event) {
  event.preventDefault();
  if (state.submitting) return;
  const total = cartTotals(state.cart).total_fen;
  const remaining = settle(total, state.tenders).remaining_fen;
  const text = $('#tender-amount').value;
  const amount = text.trim() ? parseYuan(text) : remaining;
  const method = state.tenderMethod;
  const reference = $('#tender-reference').value.trim();
  if (amount === null || (amount <= 0 && remaining > 0)) {
    $('#tender-error').textContent = t('field.price_invalid');
    return;
  }
  if (remaining > 0) {
    if (method !== 'cash' && amount > remaining) {
      $('#tender-error').textContent = t('pos.tender_too_much', { amount: formatFen(remaining) });
      return;
    }
    if (method === 'other' && !reference) {
      $('#tender-error').textContent = t('pos.reference_required');
      $('#tender-reference').focus();
      return;
    }
    state.tenders = addTender(state.tenders, method === 'cash'
      ? { method, amount_fen: amount, tendered_fen: amount }
      : { method, amount_fen: amount, ...(reference ? { reference } : {}) });
  }
  $('#tender-amount').value = '';
  $('#tender-reference').value = '';
  $('#tender-error').textContent = '';
  renderTender();
  if (settle(total, state.tenders).remaining_fen <= 0) await completeSale();
}

function undoTender() {
  state.tenders = state.tenders.slice(0, -1);
  renderTender();
  $('#tender-amount').focus();
}

/**
 * The sale goes into the outbox first (with its key and a body that never changes), then to the
 * server. An answer ends it; no answer means the server may or may not have it, so it stays
 * queued and the counter goes on: the retry with the same key cannot make a second sale.
 */
async function completeSale() {
  if (state.submitting) return;
  state.submitting = true;
  const totals = cartTotals(state.cart);
  const settled = settle(totals.total_fen, state.tenders);
  const offline = !state.online;
  const body = saleBody(state.cart, state.tenders, { offline });
  const summary = { cart: state.cart, change_fen: settled.change_fen, tenders: settled.tenders };
  try {
    const item = await enqueueSale({ key: newKey(), body, total_fen: totals.total_fen, handed_over: offline });
    item.summary = summary;
    await updateItem(item);
    renderStatus();
    if (offline) {
      finishSale({ item, summary });
      sync.kick();
      return;
    }
    const waiting = sync.outcomeOf(item.seq);
    sync.kick();
    const outcome = await waiting;
    if (outcome.kind === 'done') {
      finishSale({ sale: outcome.sale, summary });
    } else if (outcome.kind === 'rejected') {
      await removeItem(item.seq);  // the cashier is still here: nothing was sold, fix and retry
      renderStatus();
      $('#tender-error').textContent = errorText(outcome.error);
      state.tenders = [];
      renderTender();
    } else {
      const stored = await outboxItem(item.seq);
      if (stored) {
        stored.handed_over = true;
        await updateItem(stored);
      }
      finishSale({ item, summary });
    }
  } finally {
    state.submitting = false;
  }
}

/** The sale is done at the counter (confirmed, or queued): show the change, clear the cart. */
function finishSale({ sale = null, item = null, summary }) {
  $('#tender-dialog').close();
  state.doneSale = sale;
  if (sale) state.lastSale = { id: sale.id, number: sale.number };
  const change = sale?.change_fen ?? summary.change_fen;
  $('#done-title').textContent = t(sale ? 'pos.done_title' : 'pos.done_offline_title');
  $('#done-change').textContent = formatFen(change);
  $('#done-number').textContent = sale ? t('pos.sale_number', { number: sale.number }) : t('pos.queued_number', { seq: item.seq });
  $('#done-note').textContent = sale ? '' : t('pos.done_offline_note');
  $('#done-print').disabled = !sale;
  const lines = sale?.lines ?? [];
  $('#done-lines').replaceChildren(...lines.map((line) => element('li', {}, [
    element('span', { text: line.name }),
    element('span', { className: 'num', text: line.unit === 'g' ? `${line.quantity} g` : `× ${line.quantity}` }),
    element('span', { className: 'num', text: formatFen(line.gross_fen) }),
  ])));
  state.cart = emptyCart();
  state.selected = -1;
  state.tenders = [];
  renderCart();
  say(sale ? t('pos.sale_done', { number: sale.number, total: formatFen(sale.total_fen) })
           : t('pos.sale_queued'), sale ? 'ok' : 'warn');
  $('#done-dialog').showModal();
}

// --- printing --------------------------------------------------------------------------------

/** The register's receipt printer when it has one, else the receipt page in a print frame. */
async function printReceipt(sale, { reprint = false } = {}) {
  if (!sale) return;
  if (currentRegister()?.printer) {
    try {
      await api(`/api/v1/pos/sales/${sale.id}/print`, { method: 'POST', body: reprint ? { reprint: true } : {} });
      say(t('pos.printed', { number: sale.number }), 'ok');
      return;
    } catch (error) {
      say(errorText(error), 'error');
    }
  }
  await printFrame(`/api/v1/pos/sales/${sale.id}/receipt${reprint ? '?reprint=1' : ''}`);
  say(t('pos.printed', { number: sale.number }), 'ok');
}

/**
 * Prints a printable page of the server through the hidden frame. The server forbids framing its
 * responses (frame-ancestors 'none'), so the page is fetched and shown as the frame's srcdoc,
 * which keeps the counter's window, and the scanner's keys, where they are.
 */
async function printFrame(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
  if (!response.ok) throw new ApiError(response.status, 'internal', response.statusText);
  const html = await response.text();
  const frame = $('#print-frame');
  const focused = document.activeElement;
  await new Promise((resolve) => {
    frame.onload = resolve;
    frame.srcdoc = html;
  });
  frame.dataset.url = url;
  frame.contentWindow.focus();
  frame.contentWindow.print();
  // Keys (the scanner's too) belong to the counter again, not to the printed page.
  window.focus();
  const dialog = document.querySelector('dialog[open]');
  (focused && focused !== document.body && focused.isConnected ? focused : dialog ?? $('#scan')).focus();
}

async function reprintLast() {
  if (!state.lastSale) return say(t('pos.nothing_to_print'), 'error');
  await printReceipt(state.lastSale, { reprint: true });
}

// --- refunds -----------------------------------------------------------------------------------

function openRefund(number = '') {
  if (!state.online) return say(t('pos.needs_server'), 'error');
  state.refundSale = null;
  state.refundKey = null;
  $('#refund-number').value = number;
  $('#refund-sale').hidden = true;
  $('#refund-error').textContent = '';
  $('#refund-result').textContent = '';
  $('#refund-submit').disabled = true;
  $('#refund-dialog').showModal();
  $('#refund-number').focus();
  if (number) findRefundSale();
}

async function saleByNumber(number) {
  try {
    return await api(`/api/v1/pos/sales/by-number/${encodeURIComponent(number)}`);
  } catch (error) {
    if (error.status !== 404 && error.status !== 405) throw error;
    const answer = await api(`/api/v1/pos/sales?number=${encodeURIComponent(number)}`);
    const found = (answer.items ?? []).find((sale) => sale.number === number);
    if (!found) throw error;
    return found.lines ? found : api(`/api/v1/pos/sales/${found.id}`);
  }
}

async function findRefundSale(event) {
  event?.preventDefault();
  const number = $('#refund-number').value.trim();
  if (!number) return;
  $('#refund-error').textContent = '';
  $('#refund-result').textContent = '';
  try {
    state.refundSale = await saleByNumber(number);
    state.refundKey = null;
    renderRefund();
    $('#refund-rows input[type=number]')?.focus();
  } catch (error) {
    $('#refund-sale').hidden = true;
    $('#refund-error').textContent = error.status === 404 ? t('pos.refund_not_found', { number }) : errorText(error);
    $('#refund-number').select();
  }
}

function refundable(line) {
  return line.quantity - (line.refunded_quantity ?? 0);
}

function renderRefund() {
  const sale = state.refundSale;
  $('#refund-sale').hidden = false;
  $('#refund-info').textContent = t('pos.refund_info', {
    number: sale.number, total: formatFen(sale.total_fen), at: new Date(sale.created_at).toLocaleString(language() === 'en' ? 'en-GB' : 'zh-CN'),
  });
  $('#refund-rows').replaceChildren(...sale.lines.map((line) => {
    const left = refundable(line);
    const input = element('input', { attributes: { type: 'number', min: '0', max: String(left), step: '1', value: '0', 'data-line': String(line.id), 'aria-label': `${line.name} ${t('pos.refund_qty')}` } });
    input.disabled = left <= 0;
    input.addEventListener('input', () => {
      state.refundKey = null;  // another choice is another refund
      updateRefundTotal();
    });
    const restock = element('input', { attributes: { type: 'checkbox', 'data-restock': String(line.id), 'aria-label': t('pos.refund_restock') } });
    restock.checked = true;
    const unit = line.unit === 'g' ? ' g' : '';
    return element('tr', {}, [
      element('td', { text: line.name }),
      element('td', { className: 'num', text: `${line.quantity}${unit}` }),
      element('td', { className: 'num', text: `${left}${unit}` }),
      element('td', {}, [input]),
      element('td', {}, [restock]),
    ]);
  }));
  updateRefundTotal();
}

/** What the chosen quantities give back, in proportion to each line's gross (the server decides). */
function refundChoice() {
  const lines = [];
  let estimate = 0;
  for (const line of state.refundSale?.lines ?? []) {
    const input = document.querySelector(`#refund-rows input[data-line="${line.id}"]`);
    const quantity = Math.min(Number(input?.value) || 0, refundable(line));
    if (quantity <= 0) continue;
    const restock = document.querySelector(`#refund-rows input[data-restock="${line.id}"]`).checked;
    lines.push({ line_id: line.id, quantity, restock });
    estimate += Math.floor((line.gross_fen * quantity) / line.quantity);
  }
  return { lines, estimate };
}

function updateRefundTotal() {
  const { lines, estimate } = refundChoice();
  $('#refund-total').textContent = formatFen(estimate);
  $('#refund-submit').disabled = lines.length === 0;
}

async function submitRefund() {
  const { lines } = refundChoice();
  if (!state.refundSale || !lines.length) return;
  const body = { sale_id: state.refundSale.id, lines };
  const method = $('#refund-method').value;
  if (method) body.method = method;
  state.refundKey ??= newKey();  // kept while the same refund is retried
  $('#refund-submit').disabled = true;
  try {
    const refund = await api('/api/v1/pos/refunds', { method: 'POST', body, headers: { 'Idempotency-Key': state.refundKey } });
    state.refundKey = null;
    $('#refund-result').textContent = t('pos.refund_done', { total: formatFen(refund.total_fen), method: t(`method.${refund.method ?? method ?? 'cash'}`) });
    $('#refund-error').textContent = '';
    state.refundSale = await api(`/api/v1/pos/sales/${state.refundSale.id}`).catch(() => state.refundSale);
    renderRefund();
    say(t('pos.refund_done', { total: formatFen(refund.total_fen), method: t(`method.${refund.method ?? method ?? 'cash'}`) }), 'ok');
  } catch (error) {
    $('#refund-error').textContent = error.status === 0 ? t('pos.needs_server') : errorText(error);
    if (error.status !== 0 && error.status < 500) state.refundKey = null;
    $('#refund-submit').disabled = false;
  }
}

// --- held carts (挂单) ------------------------------------------------------------------------

async function holdCart() {
  if (!state.cart.lines.length) return say(t('pos.cart_is_empty'), 'error');
  if (!needShift()) return;
  const label = await ask({
    title: t('pos.hold_title'), label: t('pos.hold_label'), value: '',
    parse: (text) => text.trim().slice(0, 40),
  });
  if (label === null) return;
  try {
    await api('/api/v1/pos/held-carts', { method: 'POST', body: { label: label || cartLabel(), cart: state.cart } });
    state.cart = emptyCart();
    state.selected = -1;
    renderCart();
    say(t('pos.held', { label: label || cartLabel() }), 'ok');
  } catch (error) {
    say(error.status === 0 ? t('pos.needs_server') : errorText(error), 'error');
  }
}

function cartLabel() {
  const first = state.cart.lines[0];
  const total = formatFen(cartTotals(state.cart).total_fen);
  return `${first ? lineName(first) : ''} ${total}`.trim();
}

async function openHeld() {
  if (!state.online) return say(t('pos.needs_server'), 'error');
  if (state.cart.lines.length) return say(t('pos.resume_cart_busy'), 'error');
  $('#held-error').textContent = '';
  try {
    const answer = await api('/api/v1/pos/held-carts');
    const carts = answer.items ?? answer;
    $('#held-empty').hidden = carts.length > 0;
    $('#held-list').replaceChildren(...carts.map((held, index) => {
      const button = element('button', { className: 'held-item', attributes: { type: 'button', 'data-id': String(held.id) } }, [
        element('kbd', { text: String(index + 1) }),
        element('span', { text: held.label || `#${held.id}` }),
        element('small', { text: `${held.cashier?.username ?? held.cashier ?? ''} ${held.created_at ? new Date(held.created_at).toLocaleTimeString(language() === 'en' ? 'en-GB' : 'zh-CN') : ''}` }),
      ]);
      button.addEventListener('click', () => resumeHeld(held.id));
      return element('li', {}, [button]);
    }));
    $('#held-dialog').showModal();
    $('#held-list button')?.focus();
  } catch (error) {
    say(error.status === 0 ? t('pos.needs_server') : errorText(error), 'error');
  }
}

async function resumeHeld(id) {
  try {
    const held = await api(`/api/v1/pos/held-carts/${id}/resume`, { method: 'POST' });
    const cart = typeof held.cart === 'string' ? JSON.parse(held.cart) : held.cart;
    state.cart = { ...emptyCart(), ...cart };
    state.selected = state.cart.lines.length - 1;
    $('#held-dialog').close();
    renderCart();
    say(t('pos.resumed', { label: held.label ?? '' }), 'ok');
  } catch (error) {
    $('#held-error').textContent = errorText(error);
  }
}

// --- the outbox dialog -----------------------------------------------------------------------

async function openQueue() {
  await renderQueue();
  if (!$('#queue-dialog').open) $('#queue-dialog').showModal();
}

async function renderQueue() {
  const items = await outboxItems();
  $('#queue-list').replaceChildren(...(items.length ? items.map((item) => {
    const children = [
      element('span', { className: 'num', text: `#${item.seq}` }),
      element('span', { text: new Date(item.body.rung_at ?? item.created_at).toLocaleTimeString(language() === 'en' ? 'en-GB' : 'zh-CN') }),
      element('span', { className: 'num', text: formatFen(item.total_fen) }),
      element('span', { className: `state state-${item.state}`, text: t(`pos.queue_${item.state}`) }),
    ];
    if (item.error) children.push(element('span', { className: 'error', text: errorText(item.error) }));
    if (item.state === 'rejected') {
      const retry = element('button', { className: 'secondary', text: t('pos.queue_retry'), attributes: { type: 'button' } });
      retry.addEventListener('click', async () => {
        item.state = 'waiting';
        await updateItem(item);
        await sync.kick();
        renderQueue();
        renderStatus();
      });
      const discard = element('button', { className: 'secondary danger', text: t('pos.queue_discard'), attributes: { type: 'button' } });
      discard.addEventListener('click', async () => {
        if (!confirm(t('pos.queue_discard_confirm', { seq: item.seq, total: formatFen(item.total_fen) }))) return;
        const discarded = (await getMeta('discarded')) ?? [];
        discarded.push({ ...item, discarded_at: new Date().toISOString(), by: state.user?.username });
        await setMeta('discarded', discarded);
        await removeItem(item.seq);
        renderQueue();
        renderStatus();
      });
      children.push(retry, discard);
    }
    return element('li', { attributes: { 'data-seq': String(item.seq), 'data-state': item.state } }, children);
  }) : [element('li', { className: 'hint', text: t('pos.queue_empty') })]));
  const synced = (await syncedSales()).sort((a, b) => (b.synced_at ?? '').localeCompare(a.synced_at ?? '')).slice(0, 10);
  $('#synced-list').replaceChildren(...synced.map((entry) => {
    const print = element('button', { className: 'link-button', text: t('pos.print'), attributes: { type: 'button' } });
    print.addEventListener('click', () => printReceipt({ id: entry.sale_id, number: entry.number }, { reprint: true }));
    return element('li', {}, [
      element('span', { text: entry.number ?? '' }),
      element('span', { className: 'num', text: formatFen(entry.total_fen ?? 0) }),
      element('span', { text: entry.offline ? t('pos.offline_sale') : '' }),
      print,
    ]);
  }));
}

// --- keys --------------------------------------------------------------------------------------

/** Every action with its key; the buttons on screen are made from this list. */
const actions = [
  { key: 'F1', label: 'pos.key_search', run: () => { $('#scan').focus(); $('#scan').select(); } },
  { key: 'F2', label: 'pos.key_qty', run: editQuantity },
  { key: 'F3', label: 'pos.key_weigh', run: editWeight },
  { key: 'F4', label: 'pos.key_line_discount', run: editLineDiscount },
  { key: 'F5', label: 'pos.key_sale_discount', run: editSaleDiscount },
  { key: 'F6', label: 'pos.key_rounding', run: cycleRounding },
  { key: 'F7', label: 'pos.key_hold', run: holdCart },
  { key: 'F8', label: 'pos.key_resume', run: openHeld },
  { key: 'F9', label: 'pos.key_refund', run: () => openRefund() },
  { key: 'F10', label: 'pos.key_pay', run: openTender, primary: true },
  { key: 'Delete', label: 'pos.key_delete', run: removeLine },
  { key: 'Shift+F2', label: 'pos.key_cash', run: cashMovement },
  { key: 'Shift+F3', label: 'pos.key_x', run: xReport },
  { key: 'Shift+F4', label: 'pos.key_z', run: closeShift },
  { key: 'Shift+F5', label: 'pos.key_reprint', run: reprintLast },
  { key: 'Shift+F6', label: 'pos.key_queue', run: openQueue },
];

function keyName(event) {
  return `${event.shiftKey && event.key !== 'Shift' ? 'Shift+' : ''}${event.key}`;
}

function keyLabel(key) {
  return key.replace('Shift+', '⇧').replace('Delete', 'Del');
}

function renderKeys() {
  $('#fkeys').replaceChildren(...actions.map((action) => {
    const button = element('button', {
      className: `fkey${action.primary ? ' primary' : ''}`,
      attributes: { type: 'button', 'data-key': action.key },
    }, [element('kbd', { text: keyLabel(action.key) }), element('span', { text: t(action.label) })]);
    button.addEventListener('click', () => action.run());
    return button;
  }));
}

function onKeyDown(event) {
  const name = keyName(event);
  const dialog = document.querySelector('dialog[open]');
  if (dialog) return dialogKey(dialog, name, event);
  if (/^(Shift\+)?F\d+$/.test(name)) event.preventDefault();  // no browser help, find or reload
  const action = actions.find((candidate) => candidate.key === name);
  const inScan = document.activeElement === $('#scan');
  if (action && (name !== 'Delete' || !inScan || !$('#scan').value)) {
    event.preventDefault();
    action.run();
    return;
  }
  if (name === 'ArrowDown' || name === 'ArrowUp') {
    event.preventDefault();
    const step = name === 'ArrowDown' ? 1 : -1;
    if (state.results.length) {
      state.resultIndex = (state.resultIndex + step + state.results.length) % state.results.length;
      renderResults();
    } else {
      moveSelection(step);
    }
    return;
  }
  if (name === 'Escape') {
    $('#scan').value = '';
    clearSearch();
    return;
  }
  // A scanner types wherever the focus is: send printable keys to the scan box.
  if (!inScan && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey
      && !(document.activeElement instanceof HTMLInputElement)) {
    $('#scan').focus();
  }
}

function dialogKey(dialog, name, event) {
  if (/^(Shift\+)?F\d+$/.test(name)) event.preventDefault();
  if (dialog.id === 'tender-dialog') {
    const index = ['F1', 'F2', 'F3', 'F4', 'F5'].indexOf(name);
    if (index >= 0) chooseMethod(tenderMethods[index]);
    else if (name === 'Delete') {
      event.preventDefault();
      undoTender();
    } else if (name === 'F10') $('#tender-form').requestSubmit();
  } else if (dialog.id === 'done-dialog') {
    if (name === 'F2') printReceipt(state.doneSale);
    else if (name === 'Enter') {
      event.preventDefault();
      dialog.close();
    }
  } else if (dialog.id === 'refund-dialog') {
    if (name === 'F10') submitRefund();
  } else if (dialog.id === 'report-dialog') {
    if (name === 'F2') printReport();
    else if (name === 'Enter') {
      event.preventDefault();
      dialog.close();
    }
  } else if (dialog.id === 'held-dialog') {
    const digit = /^[1-9]$/.test(event.key) ? Number(event.key) : 0;
    const buttons = dialog.querySelectorAll('.held-item');
    if (digit && buttons[digit - 1]) buttons[digit - 1].click();
  } else if (dialog.id === 'shift-dialog' && name === 'Escape') {
    event.preventDefault();  // no selling without a shift
  }
}

// --- start -------------------------------------------------------------------------------------

function renderAll() {
  translatePage();
  renderKeys();
  renderCart();
  renderResults();
  renderStatus();
  if ($('#tender-dialog').open) renderTender();
  const who = $('#who');
  if (who && state.user) who.textContent = t('page.signed_in_as', { username: state.user.username, role: t(`role.${state.user.role}`) });
}

function wire() {
  $('#scan-form').addEventListener('submit', onScanSubmit);
  $('#scan').addEventListener('input', onScanInput);
  $('#shift-form').addEventListener('submit', submitShift);
  $('#tender-form').addEventListener('submit', submitTenderAmount);
  $('#tender-amount').addEventListener('input', () => {
    $('#tender-change').textContent = formatFen(previewChange(cartTotals(state.cart).total_fen));
  });
  $('#tender-undo').addEventListener('click', undoTender);
  $('#done-print').addEventListener('click', () => printReceipt(state.doneSale));
  $('#refund-find').addEventListener('submit', findRefundSale);
  $('#refund-submit').addEventListener('click', submitRefund);
  $('#report-print').addEventListener('click', printReport);
  $('#queue-badge').addEventListener('click', openQueue);
  $('#queue-retry').addEventListener('click', async () => {
    await sync.kick();
    renderQueue();
  });
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close());
  }
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.id !== 'prompt-dialog') dialog.addEventListener('close', () => $('#scan').focus());
  }
  $('#shift-dialog').addEventListener('cancel', (event) => event.preventDefault());
  document.addEventListener('keydown', onKeyDown);

  sync.addEventListener('change', () => {
    renderStatus();
    if ($('#queue-dialog').open) renderQueue();
  });
  sync.addEventListener('online', () => setOnline(true));
  sync.addEventListener('offline', () => setOnline(false));
  sync.addEventListener('synced', (event) => {
    const { item, sale } = event.detail;
    if (item.handed_over) say(t('pos.synced', { seq: item.seq, number: sale?.number ?? '' }), 'ok');
  });
  sync.addEventListener('rejected', (event) => {
    if (event.detail.item.handed_over) say(t('pos.queue_rejected_note', { seq: event.detail.item.seq }), 'error');
  });
  sync.addEventListener('signed_out', () => say(t('pos.signed_out'), 'error'));
  window.addEventListener('online', () => sync.kick());
  watchConnection();
}

async function start() {
  buildTopbar();
  renderKeys();
  wire();
  state.user = await signedInUser();
  if (!state.user) return;
  renderAll();
  renderCart();
  await Promise.all([loadCatalog(), loadShift(), loadRegisters()]);
  sync.kick();
  if (!state.shift && state.online) openShiftDialog();
  $('#scan').focus();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/pos/sw.js', { scope: '/pos/' }).catch(() => {});
  }
  document.body.dataset.ready = 'true';
}

start();
