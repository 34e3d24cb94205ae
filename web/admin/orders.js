// The station's online-order queue (cashier and admin): orders by state, printable pick list and
// packing slips, and the steps 开始拣货 / 备货完成 / 发货 / 交付 (pickup code) / 取消退款 / 退款. Each
// step answers the order; cash on pickup is taken into the cashier's open shift at handover.
import { api, ApiError, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { t, translatePage } from '/assets/js/i18n.js';
import { startStaffPage } from '/assets/js/staff.js';
import {
  errorText, formatTime, linesTable, orderText, quantityText, stateBadge, stateName, terminalStates, totalsList,
} from '/assets/js/order-view.js';
import { halfWidth } from '/assets/js/order-store.js';

// 'attention': the orders that need the staff (a late or mismatched payment, a refused refund, a
// trade never confirmed), whatever their state.
const tabs = ['attention', 'paid', 'confirmed', 'picking', 'ready', 'shipped', 'pending_payment', 'completed', 'cancelled', 'expired', 'refunded', ''];
const refreshMs = 20000;
const view = { state: 'paid', page: 1, pages: 1, orders: [], attention: 0, role: null };
let refreshTimer = null;

const $ = (selector) => document.querySelector(selector);

function showMessage(text) {
  $('#staff-message').textContent = text ?? '';
  $('#staff-message').hidden = !text;
}

function status(text) {
  $('#staff-status').textContent = text;
}

function drawTabs() {
  $('#state-tabs').replaceChildren(...tabs.map((state) => {
    const label = state === 'attention'
      ? t('staff_orders.needs_attention', { count: view.attention })
      : state ? stateName(state) : t('staff_orders.all');
    const tab = element('button', {
      className: `tab${state === view.state ? ' selected' : ''}${state === 'attention' && view.attention > 0 ? ' alert' : ''}`,
      text: label,
      attributes: { type: 'button', role: 'tab', 'aria-selected': String(state === view.state), 'data-state': state },
    });
    tab.addEventListener('click', () => {
      view.state = state;
      view.page = 1;
      drawTabs();
      load();
    });
    return tab;
  }));
}

/** POSTs a step and reloads the queue; errors go beside `slot` (a field) or at the top. */
/** Orders with a step on its way: a second click (a double click) sends nothing. (The buttons
 *  are not disabled meanwhile: a disabled button loses the focus, and the reload then redraws
 *  the card, open form and its message too.) */
const inFlight = new Set();

async function act(order, path, body, { slot, done }) {
  if (inFlight.has(order.number)) return;
  inFlight.add(order.number);
  try {
    await step(order, path, body, { slot, done });
  } finally {
    inFlight.delete(order.number);
  }
}

async function step(order, path, body, { slot, done }) {
  showMessage('');
  if (slot) slot.textContent = '';
  try {
    const updated = await api(`/api/v1/orders/${encodeURIComponent(order.number)}${path}`, { method: 'POST', body });
    const state = updated?.state ?? body?.to;
    if (path === '/cancel' && state && !['cancelled', 'refunded', 'expired'].includes(state)) {
      // 202: the provider has not finished the refund yet; the sweep cancels the order after it.
      // The card keeps its state (paid), so it is redrawn only once focus leaves it.
      document.activeElement?.blur?.();
      status(t('staff_orders.cancel_pending', { number: order.number }));
    } else {
      status(state ? t(done, { number: order.number, state: stateName(state) }) : t('staff_orders.updated', { number: order.number }));
      // Done: the open form is no longer needed; focus leaves the card so the reload redraws it
      // even when its state stays (a recorded note, a surplus payment sent back).
      document.activeElement?.blur?.();
    }
    await load();
  } catch (error) {
    let text = errorText(error);
    let extra = null;
    let where = slot;
    const paid = (order.paid_fen ?? 0) > (order.refunded_fen ?? 0);
    if (error instanceof ApiError && error.code === 'invalid_state' && paid && path === '/cancel') {
      text = error.message;
    } else if (error instanceof ApiError && error.code === 'payment_declined' && path === '/cancel') {
      // The provider refused the refund: the order stays paid and flagged; the message says so.
      // Focus leaves the card so that the redraw shows the flag (a focused card is kept as is).
      // The card is redrawn first and the message goes at the top, where the redraw keeps it.
      text = error.message;
      document.activeElement?.blur?.();
      await load();
      where = null;
    } else if (error instanceof ApiError && error.code === 'invalid_state' && path === '/surplus-returned') {
      // The surplus payment is no longer held (sent back meanwhile, or already recorded).
      const held = error.details?.state;
      text = t('staff_orders.surplus_not_held', { state: held ? surplusStateName(held) : '' });
      load();
    } else if (error instanceof ApiError && error.code === 'invalid_state') {
      text = t('staff_orders.invalid_state', { number: order.number });
      load();
    } else if (error instanceof ApiError && error.code === 'invalid' && path === '/surplus-returned' && error.details?.field === 'note') {
      text = t('staff_orders.surplus_note_invalid');
    } else if (error instanceof ApiError && error.code === 'invalid') {
      text = error.details.field === 'pickup_code' ? t('staff_orders.wrong_code') : `${t('field.invalid')}（${error.message}）`;
      // After 5 wrong codes in a row the handover is locked for 15 minutes (the server counts).
      if (error.details.field === 'pickup_code' && error.details.attempts_left !== undefined) {
        text += ' ' + t('staff_orders.attempts_left', { left: error.details.attempts_left });
      }
    } else if (error instanceof ApiError && error.code === 'too_many_attempts') {
      text = error.message;
    } else if (error instanceof ApiError && error.code === 'no_open_shift') {
      extra = element('a', { text: orderText('staff_orders.open_pos'), attributes: { href: '/pos/', id: 'open-pos' } });
    }
    const target = where ?? $('#staff-message');
    target.replaceChildren(element('span', { text }), ...(extra ? [' ', extra] : []));
    target.hidden = false;
  }
}

function button(text, className, onClick) {
  const node = element('button', { className, text, attributes: { type: 'button' } });
  node.addEventListener('click', onClick);
  return node;
}

/** A small inline form (ship, hand over, cancel) shown under the order's buttons. */
function inlineForm(order, fields, submitText, onSubmit, className = 'primary') {
  const error = element('p', { className: 'field-error' });
  const inputs = fields.map(({ name, label, attributes = {} }) => {
    const id = `${name}-${order.number}`;
    return [element('label', { text: label, attributes: { for: id } }),
            element('input', { attributes: { id, name, ...attributes } })];
  });
  const form = element('form', { className: 'inline-form', attributes: { novalidate: '' } }, [
    ...inputs.flat(), error,
    element('div', { className: 'form-actions' }, [
      element('button', { className, text: submitText, attributes: { type: 'submit' } }),
    ]),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(fields.map(({ name }) => [name, form.elements[name].value.trim()]));
    onSubmit(values, error);
  });
  return form;
}

/**
 * The refund dialog (退款): what was paid, refunded and is refundable (from the staff view of
 * the order), a quantity per line (and 货已退回 once the goods left), the delivery fee, the way
 * back (the provider, or cash from the caller's drawer) and a reason. One Idempotency-Key per
 * dialog, so a double click or a retry is one refund.
 */
async function openRefund(summary, open) {
  let order;
  try {
    order = await api(`/api/v1/orders/${encodeURIComponent(summary.number)}`);
  } catch (error) {
    showMessage(errorText(error));
    return;
  }
  const key = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  const gone = ['shipped', 'completed'].includes(order.state);
  const slot = element('p', { className: 'field-error', attributes: { role: 'alert' } });
  const rows = order.lines.map((line) => {
    const left = line.quantity - (line.refunded_quantity ?? 0);
    const id = `refund-${order.number}-${line.line_no}`;
    return element('div', { className: 'refund-line' }, [
      element('label', { text: orderText('refund.line', { name: line.name, quantity: quantityText(line.quantity, line.unit), refunded: quantityText(line.refunded_quantity ?? 0, line.unit) }), attributes: { for: id } }),
      element('input', { attributes: { id, name: `q${line.line_no}`, type: 'number', min: '0', max: String(left), value: '0', inputmode: 'numeric', 'data-line': String(line.line_no), ...(left <= 0 ? { disabled: '' } : {}) } }),
      ...(gone ? [element('label', { className: 'check' }, [element('input', { attributes: { type: 'checkbox', name: `r${line.line_no}` } }), orderText('refund.returned')])] : []),
    ]);
  });
  const feeLeft = order.delivery_fee_fen > 0 && !order.delivery_fee_refunded;
  const methodSelect = element('select', { attributes: { name: 'method', id: `refund-method-${order.number}` } }, [
    ...(order.payment_method !== 'cash_on_pickup' ? [element('option', { text: orderText('refund.original'), attributes: { value: 'original' } })] : []),
    element('option', { text: orderText('refund.cash'), attributes: { value: 'cash' } }),
  ]);
  const history = (order.refunds ?? []).map((r) => element('li', { text: orderText('refund.history', { no: r.out_refund_no, amount: formatFen(r.amount_fen), state: orderText(`refund.state.${r.state}`) }) + (r.failure ? `（${r.failure}）` : '') }));
  const form = element('form', { className: 'inline-form refund-form', attributes: { novalidate: '' } }, [
    element('h3', { text: orderText('refund.title') }),
    element('p', { text: orderText('refund.paid', { paid: formatFen(order.paid_fen), refunded: formatFen(order.refunded_fen), refundable: formatFen(order.refundable_fen ?? 0) }) }),
    ...(history.length ? [element('ul', { className: 'refund-history' }, history)] : []),
    ...rows,
    ...(feeLeft ? [element('label', { className: 'check' }, [element('input', { attributes: { type: 'checkbox', name: 'fee' } }), orderText('refund.fee', { fee: formatFen(order.delivery_fee_fen) })])] : []),
    element('label', { text: orderText('refund.method'), attributes: { for: `refund-method-${order.number}` } }), methodSelect,
    element('label', { text: orderText('refund.reason'), attributes: { for: `refund-reason-${order.number}` } }),
    element('input', { attributes: { id: `refund-reason-${order.number}`, name: 'reason', maxlength: '200' } }),
    slot,
    element('div', { className: 'form-actions' }, [element('button', { className: 'danger', text: orderText('refund.submit'), attributes: { type: 'submit' } })]),
  ]);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const lines = order.lines.map((line) => ({
      line_no: line.line_no,
      quantity: Number(form.elements[`q${line.line_no}`].value || 0),
      returned: Boolean(form.elements[`r${line.line_no}`]?.checked),
    })).filter((line) => line.quantity > 0);
    const fee = Boolean(form.elements.fee?.checked);
    if (!lines.length && !fee) {
      slot.textContent = orderText('refund.nothing');
      return;
    }
    slot.textContent = '';
    try {
      const answer = await api(`/api/v1/orders/${encodeURIComponent(order.number)}/refunds`, {
        method: 'POST',
        headers: { 'Idempotency-Key': key },
        body: { lines, delivery_fee: fee, method: form.elements.method.value, reason: form.elements.reason.value.trim() },
      });
      const r = answer.refund;
      const values = { number: order.number, amount: formatFen(r.amount_fen), failure: r.failure ?? '' };
      status(orderText(r.state === 'succeeded' ? 'refund.done' : r.state === 'processing' ? 'refund.processing' : 'refund.failed', values));
      await load();
    } catch (error) {
      const field = error instanceof ApiError ? error.details?.field : undefined;
      slot.textContent = field ? `${errorText(error)}（${field}）` : errorText(error);
    }
  });
  open(form);
}

function surplusStateName(state) {
  const key = `staff_orders.surplus_state.${state}`;
  const text = t(key);
  return text === key ? state : text;
}

/**
 * The second payments of the order paid after it was (重复付款), one line each: being sent back,
 * refused by the provider (retried hourly), or sent back. A refused one that the admin has
 * refunded by hand in the provider's merchant console is recorded here with a note (站长 only;
 * the server answers a cashier 403 anyway).
 */
function surplusPayments(order) {
  const entries = order.surplus_payments ?? [];
  if (!entries.length) return [];
  return [element('ul', { className: 'surplus-payments' }, entries.map((entry) => {
    const values = {
      amount: formatFen(entry.amount_fen),
      provider: t(`method.${entry.provider}`),
      no: entry.out_trade_no,
      failure: entry.failure ?? '',
    };
    const refused = entry.state === 'surplus' && entry.failure != null;
    const key = entry.state === 'returned' ? 'staff_orders.surplus_returned'
      : refused ? 'staff_orders.surplus_refused' : 'staff_orders.surplus_returning';
    const item = element('li', {
      className: `surplus-payment${refused ? ' refused' : ''}`,
      attributes: { 'data-out-trade-no': entry.out_trade_no, 'data-state': entry.state },
    }, [element('span', { text: t(key, values) })]);
    if (refused && view.role === 'admin') {
      const area = element('div', { className: 'surplus-form' });
      item.append(' ', button(t('staff_orders.surplus_mark'), 'secondary', () => {
        const form = inlineForm(order, [
          { name: 'note', label: t('staff_orders.surplus_note', values), attributes: { required: '', maxlength: '150', autocomplete: 'off' } },
        ], t('staff_orders.surplus_confirm'), ({ note }, slot) => {
          if (!note) {
            slot.textContent = t('staff_orders.surplus_missing');
            return;
          }
          act(order, '/surplus-returned', { out_trade_no: entry.out_trade_no, note }, { slot, done: 'staff_orders.surplus_recorded' });
        });
        area.replaceChildren(form);
        form.querySelector('input')?.focus();
      }), area);
    } else if (refused) {
      item.append(element('span', { className: 'hint', text: ` ${t('staff_orders.surplus_admin_only')}` }));
    }
    return item;
  }))];
}

/** The buttons for what may happen next to `order`, and the place their forms open. */
function actions(order) {
  const extra = element('div', { className: 'order-extra' });
  const open = (form) => {
    extra.replaceChildren(form);
    form.querySelector('input')?.focus();
  };
  const list = [];
  if (order.state === 'paid' || order.state === 'confirmed') {
    list.push(button(t('staff_orders.start_picking'), 'primary', () => act(order, '/transition', { to: 'picking' }, { done: 'staff_orders.moved' })));
  }
  if (order.state === 'picking' && order.fulfilment === 'pickup') {
    list.push(button(t('staff_orders.mark_ready'), 'primary', () => act(order, '/transition', { to: 'ready' }, { done: 'staff_orders.moved' })));
  }
  if (order.state === 'picking' && order.fulfilment === 'delivery') {
    list.push(button(t('staff_orders.ship'), 'primary', () => open(inlineForm(order, [
      { name: 'carrier', label: t('order.carrier'), attributes: { required: '', maxlength: '40' } },
      { name: 'waybill', label: t('order.waybill'), attributes: { required: '', maxlength: '40', inputmode: 'latin' } },
    ], t('staff_orders.ship_confirm'), ({ carrier, waybill }, slot) => {
      if (!carrier || !waybill) {
        slot.textContent = t('staff_orders.ship_missing');
        return;
      }
      act(order, '/transition', { to: 'shipped', carrier, waybill }, { slot, done: 'staff_orders.moved' });
    }))));
  }
  if (order.state === 'ready') {
    list.push(button(t('staff_orders.hand_over'), 'primary', () => {
      const form = inlineForm(order, [
        { name: 'pickup_code', label: t('staff_orders.ask_code'), attributes: { inputmode: 'numeric', maxlength: '6', autocomplete: 'off', pattern: '[0-9]{6}' } },
      ], t('staff_orders.hand_over_confirm'), ({ pickup_code: typed }, slot) => {
        const code = halfWidth(typed).replace(/\s/g, '');  // full-width digits, spaces between
        if (!/^\d{6}$/.test(code)) {
          slot.textContent = t('staff_orders.code_shape');
          return;
        }
        act(order, '/transition', { to: 'completed', pickup_code: code }, { slot, done: 'staff_orders.moved' });
      });
      if (order.payment_method === 'cash_on_pickup') {
        // The cash goes into the caller's open shift: without one, say so before the customer is
        // asked for money (the counter page opens beside this one, so the form stays).
        const notice = element('p', { className: 'notice', text: t('staff_orders.collect_cash', { total: formatFen(order.total_fen) }) });
        form.prepend(notice);
        api('/api/v1/pos/shifts/current').catch((error) => {
          if (error.status !== 404) return;
          notice.replaceChildren(
            element('span', { text: t('staff_orders.collect_cash_no_shift', { total: formatFen(order.total_fen) }) }), ' ',
            element('a', { text: orderText('staff_orders.open_pos'), attributes: { href: '/pos/', target: '_blank', rel: 'noopener' } }));
        });
      }
      open(form);
    }));
  }
  if (order.state === 'shipped') {
    list.push(button(t('staff_orders.delivered'), 'primary', () => act(order, '/transition', { to: 'completed' }, { done: 'staff_orders.moved' })));
  }
  if (!terminalStates.includes(order.state)) {
    const paid = ['paid', 'picking', 'ready', 'shipped'].includes(order.state) && order.payment_method !== 'cash_on_pickup';
    list.push(button(paid ? t('staff_orders.cancel_refund') : t('staff_orders.cancel'), 'secondary danger-outline', () => {
      const confirm = element('div', { className: 'confirm-box' }, [
        element('p', { text: paid ? t('staff_orders.cancel_refund_confirm', { total: formatFen(order.total_fen - (order.refunded_fen ?? 0)) }) : t('staff_orders.cancel_confirm') }),
      ]);
      const slot = element('p', { className: 'field-error' });
      confirm.append(button(paid ? t('staff_orders.cancel_refund') : t('staff_orders.cancel'), 'danger',
        () => act(order, '/cancel', undefined, { slot, done: 'staff_orders.moved' })), slot);
      open(confirm);
    }));
  }
  if ((order.paid_fen ?? 0) > (order.refunded_fen ?? 0)) {
    list.push(button(orderText('refund.open'), 'secondary', () => openRefund(order, open)));
  }
  if (order.attention) {
    list.push(button(t('staff_orders.resolve'), 'secondary', () => open(inlineForm(order, [
      { name: 'note', label: t('staff_orders.resolve_note'), attributes: { required: '', maxlength: '150', autocomplete: 'off' } },
    ], t('staff_orders.resolve_confirm'), ({ note }, slot) => {
      if (!note) {
        slot.textContent = t('staff_orders.resolve_missing');
        return;
      }
      act(order, '/attention/resolve', { attention: order.attention, note }, { slot, done: 'staff_orders.resolved' });
    }))));
  }
  list.push(button(t('staff_orders.print_slip'), 'secondary', () => printSlips([order])));
  return [element('div', { className: 'order-actions' }, list), extra];
}

function orderCard(order) {
  const payment = order.payment_method === 'cash_on_pickup' ? t('checkout.cash_on_pickup') : t(`method.${order.payment_method}`);
  const where = order.fulfilment === 'delivery'
    ? `${t('checkout.delivery')}：${order.address?.area ?? ''} ${order.address?.detail ?? ''}`
    : t('checkout.pickup');
  return element('article', { className: 'card staff-order', attributes: { 'data-number': order.number } }, [
    element('header', { className: 'staff-order-head' }, [
      element('h2', { text: order.number }), stateBadge(order.state),
      element('span', { className: 'hint', text: formatTime(order.created_at) }),
    ]),
    element('p', { text: `${order.contact?.name ?? ''} · ${order.contact?.phone ?? ''} · ${where} · ${payment}` }),
    ...(order.carrier ? [element('p', { text: `${t('order.carrier')}：${order.carrier} · ${t('order.waybill')}：${order.waybill ?? ''}` })] : []),
    ...(order.note ? [element('p', { className: 'notice', text: `${t('order.note')}：${order.note}` })] : []),
    ...(order.attention ? [element('p', { className: 'form-error attention', text: orderText('staff_orders.attention', { text: order.attention }) })] : []),
    ...surplusPayments(order),
    linesTable(order),
    totalsList(order),
    ...actions(order),
  ]);
}

function drawQueue() {
  const queue = $('#order-queue');
  queue.replaceChildren(...(view.orders.length ? view.orders.map(orderCard)
    : [element('p', { className: 'hint', text: t('staff_orders.none') })]));
  const pager = $('#queue-pager');
  const go = (page, key) => button(t(key), 'secondary', () => {
    view.page = page;
    load();
  });
  pager.replaceChildren(
    ...(view.page > 1 ? [go(view.page - 1, 'list.prev')] : []),
    element('span', { text: t('list.page', { page: view.page, pages: view.pages }) }),
    ...(view.page < view.pages ? [go(view.page + 1, 'list.next')] : []));
}

async function load() {
  clearTimeout(refreshTimer);
  const query = new URLSearchParams({ page: String(view.page) });
  if (view.state === 'attention') query.set('attention', 'true');
  else if (view.state) query.set('state', view.state);
  // The tabs of work to do list who has waited longest first; the others, the latest first.
  if (['attention', 'paid', 'confirmed', 'picking', 'ready', 'shipped'].includes(view.state)) query.set('sort', 'oldest');
  try {
    const [answer, waiting] = await Promise.all([
      api(`/api/v1/orders?${query}`),
      view.state === 'attention' ? null : api('/api/v1/orders?attention=true&page_size=1'),
    ]);
    view.orders = answer.items ?? [];
    view.pages = Math.max(1, answer.pages ?? 1);
    const attention = (waiting ?? answer).total ?? 0;
    if (attention !== view.attention) {
      view.attention = attention;
      drawTabs();
    }
    showMessage('');
    // Keep an open form (a code being typed) unless the list changed under it.
    const open = document.activeElement?.closest('.staff-order');
    const same = open && view.orders.some((o) => o.number === open.dataset.number && o.state === open.querySelector('.state-badge')?.dataset.state);
    if (!same) drawQueue();
  } catch (error) {
    showMessage(error.status === 404 ? t('order.error.not_open') : errorText(error));
  }
  refreshTimer = setTimeout(load, refreshMs);
}

// --- printing --------------------------------------------------------------------------------

function printNow(className, content) {
  const area = $('#print-area');
  area.className = `print-area ${className}`;
  area.replaceChildren(...content);
  window.print();
}

/** Every order of a state, page by page (at most 100 a page). */
async function allOrders(state) {
  const orders = [];
  for (let page = 1; ; page += 1) {
    const answer = await api(`/api/v1/orders?state=${state}&page_size=100&page=${page}`);
    orders.push(...(answer.items ?? []));
    if (page >= (answer.pages ?? 1)) return orders;
  }
}

/** One sheet for the picker: every product to fetch for every order still to pick (paid, cash on
 *  pickup confirmed, being picked), whichever tab is open, oldest order first. */
async function printPickList() {
  let orders;
  try {
    orders = (await Promise.all(['paid', 'confirmed', 'picking'].map(allOrders))).flat()
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  } catch (error) {
    showMessage(errorText(error));
    return;
  }
  if (!orders.length) {
    status(t('staff_orders.nothing_to_pick'));
    return;
  }
  const byProduct = new Map();
  for (const order of orders) {
    for (const line of order.lines) {
      const entry = byProduct.get(line.product_id) ?? { line, quantity: 0, orders: [] };
      entry.quantity += line.quantity;
      entry.orders.push(`${order.number} × ${quantityText(line.unit, line.quantity)}`);
      byProduct.set(line.product_id, entry);
    }
  }
  const rows = [...byProduct.values()].sort((a, b) =>
    `${a.line.village_name}${a.line.name}`.localeCompare(`${b.line.village_name}${b.line.name}`, 'zh-CN'));
  printNow('pick-list', [
    element('h1', { text: `${t('staff_orders.pick_list')} · ${formatTime(new Date().toISOString())}` }),
    element('p', { text: t('staff_orders.pick_count', { orders: orders.length, products: rows.length }) }),
    element('table', {}, [
      element('thead', {}, [element('tr', {}, [
        element('th', { text: '✓' }), element('th', { text: t('order.col_item') }), element('th', { text: t('product.village') }),
        element('th', { className: 'num', text: t('order.col_qty') }), element('th', { text: t('staff_orders.for_orders') }),
      ])]),
      element('tbody', {}, rows.map(({ line, quantity, orders: numbers }) => element('tr', {}, [
        element('td', { className: 'tick', text: '□' }), element('td', { text: line.name }), element('td', { text: line.village_name ?? '' }),
        element('td', { className: 'num', text: quantityText(line.unit, quantity) }), element('td', { text: numbers.join('；') }),
      ]))),
    ]),
  ]);
}

/** A packing slip per order, each on its own page: what is in the bag and for whom. */
function printSlips(orders) {
  printNow('packing-slips', orders.map((order) => element('div', { className: 'slip' }, [
    element('h1', { text: `${t('station.name')} · ${t('staff_orders.packing_slip')}` }),
    element('dl', {}, [
      element('dt', { text: t('order.number') }), element('dd', { text: order.number }),
      element('dt', { text: t('staff_orders.customer') }), element('dd', { text: `${order.contact?.name ?? ''} ${order.contact?.phone ?? ''}` }),
      element('dt', { text: t('checkout.fulfilment') }),
      element('dd', { text: order.fulfilment === 'delivery' ? `${t('checkout.delivery')}：${order.address?.area ?? ''} ${order.address?.detail ?? ''}` : t('checkout.pickup') }),
      element('dt', { text: t('checkout.payment') }),
      element('dd', { text: order.payment_method === 'cash_on_pickup' ? t('staff_orders.cash_due_slip', { total: formatFen(order.total_fen) }) : `${t(`method.${order.payment_method}`)} · ${stateName(order.state)}` }),
      ...(order.note ? [element('dt', { text: t('order.note') }), element('dd', { text: order.note })] : []),
    ]),
    linesTable(order),
    totalsList(order),
    element('p', { className: 'signature', text: t('staff_orders.packed_by') }),
  ])));
}

$('#refresh').addEventListener('click', load);
$('#print-pick-list').addEventListener('click', printPickList);

const user = await startStaffPage(['cashier', 'admin'], () => {
  translatePage();
  drawTabs();
  drawQueue();
});
if (user) {
  view.role = user.role;
  translatePage();
  drawTabs();
  load();
}
