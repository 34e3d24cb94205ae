// Taking payment: split tenders with change, the sale through the outbox, the done screen and
// printing the receipt.
import { api, ApiError, fenToInput, formatFen, parseYuan } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { t } from '/assets/js/i18n.js';
import { addTender, cartTotals, emptyCart, paymentCodeMethod, saleBody, settle, tenderMethods } from '/assets/js/pos-cart.js';
import { enqueueSale, outboxItem, removeItem, updateItem } from '/assets/js/pos-store.js';
import { $, errorText, newKey, renderStatus, say, state, sync } from './common.js';
import { renderCart } from './cart.js';
import { currentRegister, needShift } from './shift.js';

// --- tender ------------------------------------------------------------------------------------

export function openTender() {
  if (!needShift()) return;
  if (!state.cart.lines.length) return say(t('pos.cart_is_empty'), 'error');
  state.tenders = [];
  state.tenderMethod = 'cash';
  $('#tender-error').textContent = '';
  renderTender();
  $('#tender-dialog').showModal();
  $('#tender-amount').focus();
}

export function renderTender() {
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
  $('#tender-reference-row').hidden = state.tenderMethod === 'cash' || state.tenderMethod === 'code';
  $('#tender-code-row').hidden = state.tenderMethod !== 'code';
  $('#tender-list').replaceChildren(...settled.tenders.map((tender) => element('li', {}, [
    element('span', { text: t(`method.${tender.method}`) }),
    element('span', { className: 'num', text: tender.method === 'cash' && tender.tendered_fen !== tender.amount_fen
      ? t('pos.cash_line', { tendered: formatFen(tender.tendered_fen), amount: formatFen(tender.amount_fen) })
      : formatFen(tender.amount_fen) }),
    ...(tender.reference ? [element('small', { text: tender.reference })] : []),
    ...(tender.auth_code ? [element('small', { text: maskCode(tender.auth_code) })] : []),
  ])));
}

/** The change if the cash being typed were handed over now: shown large while typing. */
export function previewChange(total) {
  const typed = state.tenderMethod === 'cash' ? parseYuan($('#tender-amount').value) : null;
  const tenders = typed ? addTender(state.tenders, { method: 'cash', amount_fen: typed, tendered_fen: typed }) : state.tenders;
  return settle(total, tenders).change_fen;
}

/** A payment code as the page may show it: the first and last four digits. */
function maskCode(code) {
  return code.length <= 8 ? '*'.repeat(code.length) : `${code.slice(0, 4)}${'*'.repeat(code.length - 8)}${code.slice(-4)}`;
}

export function chooseMethod(method) {
  if (method === 'code' && !state.online) return say(t('pos.code_needs_server'), 'error');
  state.tenderMethod = method;
  $('#tender-error').textContent = '';
  renderTender();
  // The scanner types the code and Enter: the amount left is what the code pays.
  const field = method === 'code' ? $('#tender-code') : $('#tender-amount');
  field.focus();
  field.select();
}

export async function submitTenderAmount(event) {
  event.preventDefault();
  if (state.submitting) return;
  const total = cartTotals(state.cart).total_fen;
  const remaining = settle(total, state.tenders).remaining_fen;
  const text = $('#tender-amount').value;
  const amount = text.trim() ? parseYuan(text) : remaining;
  let method = state.tenderMethod;
  const reference = $('#tender-reference').value.trim();
  const code = $('#tender-code').value.trim();
  if (method === 'code') {
    method = paymentCodeMethod(code);
    if (!method) {
      $('#tender-error').textContent = t('pos.payment_code_invalid');
      $('#tender-code').focus();
      $('#tender-code').select();
      return;
    }
    if (text.trim() && amount !== remaining) {
      $('#tender-error').textContent = t('pos.payment_code_last');
      return;
    }
  }
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
      : { method, amount_fen: amount, ...(reference ? { reference } : {}), ...(code && method.endsWith('_code') ? { auth_code: code } : {}) });
  }
  $('#tender-amount').value = '';
  $('#tender-reference').value = '';
  $('#tender-code').value = '';
  $('#tender-error').textContent = '';
  renderTender();
  if (settle(total, state.tenders).remaining_fen <= 0) await completeSale();
}

export function undoTender() {
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
    // A scanned code is charged by the provider: the customer may have to enter a password.
    const charging = body.tenders.some((tender) => tender.auth_code);
    $('#tender-waiting').hidden = !charging;
    if (charging) say(t('pos.waiting_password'), 'warn');
    sync.kick();
    const outcome = await waiting.finally(() => { $('#tender-waiting').hidden = true; });
    if (outcome.kind === 'done') {
      finishSale({ sale: outcome.sale, summary });
    } else if (outcome.kind === 'rejected') {
      await removeItem(item.seq);  // the cashier is still here: nothing was sold, fix and retry
      renderStatus();
      $('#tender-error').textContent = errorText(outcome.error);
      // What the customer handed over (cash, a card slip) stays on the screen; a scanned code
      // is used up either way, so only it goes, and the customer pays that part another way.
      state.tenders = state.tenders.filter((tender) => !tender.auth_code);
      say(errorText(outcome.error), 'error');  // no longer "waiting for the password"
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
  if (sale) {
    state.lastSale = { id: sale.id, number: sale.number };
    localStorage.setItem('yz_pos_last_sale', JSON.stringify(state.lastSale));
  }
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
export async function printReceipt(sale, { reprint = false } = {}) {
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
export async function printFrame(url) {
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

export async function reprintLast() {
  if (!state.lastSale) return say(t('pos.nothing_to_print'), 'error');
  if (!state.online) return say(t('pos.needs_server'), 'error');
  try {
    await printReceipt(state.lastSale, { reprint: true });
  } catch (error) {
    say(error.status === 0 || error instanceof TypeError ? t('pos.needs_server') : errorText(error), 'error');
  }
}
