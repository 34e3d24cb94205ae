// What every part of the counter page shares: its state, the outbox sender, messages, the
// number prompt, and the online state shown in the status bar.
import { ApiError, formatFen, parseYuan } from '/assets/js/api.js';
import { language, localName, t } from '/assets/js/i18n.js';
import { emptyCart } from '/assets/js/pos-cart.js';
import { ProductIndex } from '/assets/js/pos-search.js';
import { SaleSync } from '/assets/js/pos-sync.js';

/** The page's one element for `selector`. */
export const $ = (selector) => document.querySelector(selector);

export const state = {
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
  lastSale: lastSaleSaved(),  // the last sale the server confirmed, for 补打: {id, number}
  doneSale: null,     // what the done dialog shows
  refundSale: null,
  refundKey: null,
  refundBody: null,  // what refundKey was sent with
  cashKey: null,     // the Idempotency-Key of a cash movement whose outcome is not known yet
  cashBody: null,    // what cashKey was sent with
  online: true,
};

export const sync = new SaleSync();

// --- small helpers ---------------------------------------------------------------------------

/** A UUID for an Idempotency-Key; crypto.randomUUID needs a secure context, a LAN till may not be one. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A time as the station reads it (Asia/Shanghai, like the receipts), whatever the till's zone. */
export function stationTime(iso, withDate = false) {
  const options = withDate ? {} : { hour: '2-digit', minute: '2-digit', second: '2-digit' };
  return new Date(iso).toLocaleString(language() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai', ...options });
}

function lastSaleSaved() {
  try {
    return JSON.parse(localStorage.getItem('yz_pos_last_sale') ?? 'null');
  } catch {
    return null;
  }
}

function restoreCart() {
  try {
    const saved = JSON.parse(localStorage.getItem('yz_pos_cart') ?? 'null');
    if (saved && Array.isArray(saved.lines)) return saved;
  } catch { /* a damaged saved cart starts empty */ }
  return emptyCart();
}

export function saveCart() {
  localStorage.setItem('yz_pos_cart', JSON.stringify(state.cart));
}

export function lineName(line) {
  if (line.product.name) return localName(line.product);
  return t('pos.label_item', { plu: line.plu ?? '?' });
}

/** "3" for pieces, "1.250 kg" or "350 g" for grams. */
export function quantityText(line) {
  if (line.quantity === null || line.quantity === undefined) return '—';
  if (line.product.unit !== 'g') return String(line.quantity);
  return line.quantity >= 1000 ? `${(line.quantity / 1000).toFixed(3)} kg` : `${line.quantity} g`;
}

export function unitPriceText(product) {
  if (!product.price_fen) return '—';
  return product.unit === 'g' ? `${formatFen(product.price_fen)}/kg` : formatFen(product.price_fen);
}

/** The cashier's words for an API error: Chinese first, the server's detail after. */
export function errorText(error) {
  if (!(error instanceof ApiError) && !error?.code) return t('error.generic');
  const details = error.details ?? {};
  // More than the chosen way of paying back took of the sale: say how much it still may.
  const key = error.code === 'refund_exceeds_sale' && details.refundable_fen !== undefined
    ? 'pos.error.refund_exceeds_method' : `pos.error.${error.code}`;
  // Words for what the server names by id: the product as the cart shows it, with its unit.
  const product = (state.cart?.lines ?? []).find((line) => String(line.product?.id) === String(details.product_id))?.product;
  const available = details.available === undefined ? ''
    : product?.unit === 'g' ? `${details.available} g` : String(details.available);
  // A refusal of what was typed or scanned: the server's message names it ("unknown code …"),
  // which says more than our "please check".
  if ((error.code === 'invalid' || error.code === 'not_found') && error.message) return error.message;
  const text = t(key, {
    refundable: details.refundable_fen !== undefined ? formatFen(Number(details.refundable_fen)) : '',
    available, product: details.name ?? product?.name ?? details.product_id ?? '',
    label: details.label_fen !== undefined ? formatFen(details.label_fen) : '',
    computed: details.computed_fen !== undefined ? formatFen(details.computed_fen) : '',
    limit: details.limit_fen !== undefined ? formatFen(details.limit_fen) : '',
  });
  if (text !== key) return text;
  // No words of our own for it: the server's message (Chinese first) says what happened; "try
  // again" would be wrong for a refusal such as a declined payment code.
  return error.message || t('error.generic');
}

export function say(text, kind = 'info') {
  const message = $('#pos-message');
  message.textContent = text;
  message.dataset.kind = kind;
}

/** Whole numbers typed by a person; null if not one. */
export function parseWhole(text) {
  const trimmed = (text ?? '').trim();
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : null;
}

/** "12.5" yuan or "10%" of `base`: fen, or null. */
export function parseDiscount(text, base) {
  const percent = /^\s*(\d{1,2}(?:\.\d)?)\s*%\s*$/.exec(text ?? '');
  if (percent) return Math.floor((base * Number(percent[1])) / 100);
  return parseYuan(text);
}

// --- online state and the status bar ------------------------------------------------------

export function setOnline(online) {
  if (state.online === online) return;
  state.online = online;
  renderStatus();
  if (online) sync.kick();
}

let pinging = null;
/** While offline, ask /healthz every few seconds; the first answer sends the queue. */
export function watchConnection() {
  if (pinging) return;
  pinging = setInterval(async () => {
    if (state.online) return;
    try {
      const response = await fetch('/healthz', { cache: 'no-store' });
      if (response.ok) setOnline(true);
    } catch { /* still offline */ }
  }, 3000);
}

export async function renderStatus() {
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

// --- the prompt dialog -----------------------------------------------------------------------

/**
 * Asks for one value (two with `second`): resolves to parse(text) (or [value, text2]), or null
 * when the cashier presses Esc. `parse` returns {error} to keep the dialog open.
 */
export function ask({ title, label, hint = '', value = '', inputmode = 'text', parse, second = null }) {
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
