// Refunds: the receipt's number (its QR code) finds the sale; chosen lines and quantities go
// back, exactly once per Idempotency-Key.
import { api, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { t } from '/assets/js/i18n.js';
import { $, errorText, newKey, say, state, stationTime } from './common.js';

// --- refunds -----------------------------------------------------------------------------------

export function openRefund(number = '') {
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
  loadOwed();
}

// --- refunds owed (应退未退): a code refund its provider ended unpaid, paid back in cash ---------

/**
 * Lists what customers are still owed; each has its cash button. When the list cannot be read,
 * says so with a button to try again: an empty list must mean nobody is owed.
 */
export async function loadOwed() {
  let items;
  try {
    items = (await api('/api/v1/pos/refunds?owed=true')).items ?? [];
  } catch {
    const retry = element('button', { className: 'secondary', text: t('pos.owed_reload'), attributes: { type: 'button' } });
    retry.addEventListener('click', () => loadOwed());
    $('#owed').hidden = false;
    $('#owed-list').replaceChildren(element('li', {}, [element('span', { text: t('pos.owed_failed') }), retry]));
    return;
  }
  $('#owed').hidden = items.length === 0;
  $('#owed-list').replaceChildren(...items.map((refund) => {
    const button = element('button', { className: 'secondary', text: t('pos.owed_repay', { total: formatFen(refund.owed_fen) }), attributes: { type: 'button', 'data-owed': String(refund.id) } });
    button.addEventListener('click', () => repayOwed(refund, button));
    return element('li', {}, [
      element('span', { text: t('pos.owed_item', { number: refund.sale_number, method: t(`method.${refund.method}`), at: stationTime(refund.owed_at ?? refund.refunded_at, true) }) }),
      element('strong', { className: 'money', text: formatFen(refund.owed_fen) }),
      button,
    ]);
  }));
}

async function repayOwed(refund, button) {
  if (!confirm(t('pos.owed_confirm', { total: formatFen(refund.owed_fen), number: refund.sale_number }))) return;
  // One key per owed refund, kept until answered: a retry after a lost answer pays once.
  state.owedKeys ??= {};
  state.owedKeys[refund.id] ??= newKey();
  button.disabled = true;
  try {
    await api(`/api/v1/pos/refunds/${refund.id}/repay`, { method: 'POST', body: { method: 'cash' }, headers: { 'Idempotency-Key': state.owedKeys[refund.id] } });
    delete state.owedKeys[refund.id];
    say(t('pos.owed_done', { total: formatFen(refund.owed_fen) }), 'ok');
    $('#refund-error').textContent = '';
    await loadOwed();
  } catch (error) {
    $('#refund-error').textContent = error.status === 0 ? t('pos.needs_server') : errorText(error);
    if (error.status !== 0 && error.status < 500) delete state.owedKeys[refund.id];
    button.disabled = false;
  }
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

export async function findRefundSale(event) {
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

/** A quantity of the line as the dialog shows it: pieces bare, grams with "g". */
function amountOf(line, quantity) {
  return `${quantity}${line.unit === 'g' ? ' g' : ''}`;
}

function renderRefund() {
  const sale = state.refundSale;
  $('#refund-sale').hidden = false;
  $('#refund-info').textContent = t('pos.refund_info', {
    number: sale.number, total: formatFen(sale.total_fen), at: stationTime(sale.created_at, true),
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
    return element('tr', {}, [
      element('td', { text: line.name }),
      element('td', { className: 'num', text: amountOf(line, line.quantity) }),
      element('td', { className: 'num', text: amountOf(line, left) }),
      element('td', {}, [input]),
      element('td', {}, [restock]),
    ]);
  }));
  updateRefundTotal();
}

/**
 * What the chosen quantities give back, in proportion to each line's gross (the server
 * decides), and the lines whose typed quantity cannot be refunded (more than is left, not a
 * whole number): those are shown, never quietly cut down to what is left.
 */
function refundChoice() {
  const lines = [];
  const wrong = [];
  let estimate = 0;
  for (const line of state.refundSale?.lines ?? []) {
    const input = document.querySelector(`#refund-rows input[data-line="${line.id}"]`);
    if (!input) continue;
    const typed = input.value.trim() === '' ? 0 : Number(input.value);
    const left = refundable(line);
    const bad = !Number.isInteger(typed) || typed < 0 || typed > left;
    input.setAttribute('aria-invalid', String(bad));
    if (bad) {
      wrong.push({ name: line.name, left: amountOf(line, left) });
      continue;
    }
    if (typed === 0) continue;
    const restock = document.querySelector(`#refund-rows input[data-restock="${line.id}"]`).checked;
    lines.push({ line_id: line.id, quantity: typed, restock });
    estimate += Math.floor((line.gross_fen * typed) / line.quantity);
  }
  return { lines, estimate, wrong };
}

function updateRefundTotal() {
  const { lines, estimate, wrong } = refundChoice();
  $('#refund-total').textContent = formatFen(estimate);
  $('#refund-submit').disabled = lines.length === 0 || wrong.length > 0;
  // The dialog's error line says which quantity to correct (and is cleared once it is).
  if (wrong.length) {
    $('#refund-error').textContent = t('pos.refund_over', wrong[0]);
    state.refundWrongShown = true;
  } else if (state.refundWrongShown) {
    $('#refund-error').textContent = '';
    state.refundWrongShown = false;
  }
}

export async function submitRefund() {
  const { lines, wrong } = refundChoice();
  if (!state.refundSale || !lines.length || wrong.length) return updateRefundTotal();
  const body = { sale_id: state.refundSale.id, lines };
  const method = $('#refund-method').value;
  if (method) body.method = method;
  // Kept while the same refund is retried; any other choice (lines, 回库, method) is another.
  if (state.refundBody !== JSON.stringify(body)) state.refundKey = null;
  state.refundBody = JSON.stringify(body);
  state.refundKey ??= newKey();
  $('#refund-submit').disabled = true;
  try {
    const refund = await api('/api/v1/pos/refunds', { method: 'POST', body, headers: { 'Idempotency-Key': state.refundKey } });
    state.refundKey = null;
    const done = t('pos.refund_done', { total: formatFen(refund.total_fen), method: t(`method.${refund.method ?? method ?? 'cash'}`) });
    // A refund to a scanned code the provider accepted but has not finished yet.
    $('#refund-result').textContent = refund.provider_state === 'PROCESSING' ? `${done} ${t('pos.refund_processing')}` : done;
    $('#refund-error').textContent = '';
    state.refundSale = await api(`/api/v1/pos/sales/${state.refundSale.id}`).catch(() => state.refundSale);
    renderRefund();
    say(done, 'ok');
  } catch (error) {
    $('#refund-error').textContent = error.status === 0 ? t('pos.needs_server') : errorText(error);
    // Kept for the retry when the outcome is not known yet: no answer, 5xx, or the same refund
    // still being asked of the provider (409 payment_pending); any other refusal is final.
    if (error.status !== 0 && error.status < 500 && error.code !== 'payment_pending') state.refundKey = null;
    $('#refund-submit').disabled = false;
  }
}
