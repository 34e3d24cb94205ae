// "My orders": the orders placed in this browser (number and tracking token kept locally, no
// account), each with its latest state asked of the server.
import { api, formatFen } from './api.js';
import { element } from './catalog-view.js';
import { t } from './i18n.js';
import { forgetOrder, loadMyOrders, rememberOrder } from './order-store.js';
import { formatTime, renderStoreFrame, stateBadge, terminalStates } from './order-view.js';

const list = document.querySelector('#my-orders');

function item(entry) {
  const href = `/order.html?no=${encodeURIComponent(entry.number)}&t=${encodeURIComponent(entry.token)}`;
  const forget = element('button', { className: 'link-button my-order-forget', text: t('orders.forget'), attributes: { type: 'button' } });
  // This list is the customer's only way back to an open order (its pickup code): one still open
  // asks a second tap, within a few seconds, before it goes.
  let armed = null;
  forget.addEventListener('click', () => {
    if (terminalStates.includes(entry.state) || armed) {
      clearTimeout(armed);
      forgetOrder(entry.number);
      draw();
      return;
    }
    forget.textContent = t('orders.forget_confirm');
    forget.classList.add('armed');
    armed = setTimeout(() => {
      armed = null;
      forget.textContent = t('orders.forget');
      forget.classList.remove('armed');
    }, 5000);
  });
  return element('li', { className: 'my-order card' }, [
    element('a', { className: 'my-order-link', attributes: { href } }, [
      element('span', { className: 'my-order-number', text: entry.number }),
      stateBadge(entry.state),
      element('span', { className: 'my-order-summary', text: entry.summary ?? '' }),
      element('span', { className: 'hint', text: formatTime(entry.created_at) }),
      element('strong', { className: 'price', text: formatFen(entry.total_fen ?? 0) }),
    ]),
    forget,
  ]);
}

function draw() {
  const orders = loadMyOrders();
  list.replaceChildren(...orders.map(item));
  document.querySelector('#orders-empty').hidden = orders.length > 0;
}

/** Asks for each order's state again (the few a phone holds), then draws. */
async function refresh() {
  await Promise.all(loadMyOrders().slice(0, 30).map(async (entry) => {
    try {
      const order = await api(`/api/v1/orders/${encodeURIComponent(entry.number)}?token=${encodeURIComponent(entry.token)}`);
      rememberOrder(order, entry.token);
    } catch {
      // keep what we knew; the order page says what is wrong
    }
  }));
  draw();
}

renderStoreFrame(draw);
draw();
refresh();
