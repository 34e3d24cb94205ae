// Held carts (挂单) and the outbox dialog: sales waiting for the server, refused ones kept for
// the cashier, and the recently uploaded ones for a reprint.
import { api, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { t } from '/assets/js/i18n.js';
import { cartTotals, emptyCart } from '/assets/js/pos-cart.js';
import {
  getMeta, outboxItems, removeItem, setMeta, syncedSales, updateItem,
} from '/assets/js/pos-store.js';
import {
  $, ask, errorText, lineName, renderStatus, say, state, stationTime, sync,
} from './common.js';
import { renderCart } from './cart.js';
import { needShift } from './shift.js';
import { printReceipt } from './checkout.js';

// --- held carts (挂单) ------------------------------------------------------------------------

export async function holdCart() {
  if (!state.cart.lines.length) return say(t('pos.cart_is_empty'), 'error');
  if (!needShift()) return;
  const label = await ask({
    title: t('pos.hold_title'), label: t('pos.hold_label'), value: '',
    parse: (text) => text.trim().slice(0, 40),
  });
  if (label === null) return;
  const held = label || cartLabel();  // before the cart is emptied
  try {
    await api('/api/v1/pos/held-carts', { method: 'POST', body: { label: held, cart: state.cart } });
    state.cart = emptyCart();
    state.selected = -1;
    renderCart();
    say(t('pos.held', { label: held }), 'ok');
  } catch (error) {
    say(error.status === 0 ? t('pos.needs_server') : errorText(error), 'error');
  }
}

function cartLabel() {
  const first = state.cart.lines[0];
  const total = formatFen(cartTotals(state.cart).total_fen);
  return `${first ? lineName(first) : ''} ${total}`.trim();
}

export async function openHeld() {
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
        element('small', { text: `${held.cashier?.username ?? held.cashier ?? ''} ${held.created_at ? stationTime(held.created_at) : ''}` }),
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

export async function openQueue() {
  await renderQueue();
  if (!$('#queue-dialog').open) $('#queue-dialog').showModal();
}

export async function renderQueue() {
  const items = await outboxItems();
  $('#queue-list').replaceChildren(...(items.length ? items.map((item) => {
    const children = [
      element('span', { className: 'num', text: `#${item.seq}` }),
      element('span', { text: stationTime(item.body.rung_at ?? item.created_at) }),
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
