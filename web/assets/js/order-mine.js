// "My orders": the orders placed in this browser (number and tracking token kept locally, no
// account), each with its latest state asked of the server.
import { api, formatFen } from './api.js';
import { element } from './catalog-view.js';
import { t } from './i18n.js';
import { forgetOrder, loadMyOrders, rememberOrder } from './order-store.js';
import { formatTime, renderStoreFrame, stateBadge } from './order-view.js';

const list = document.querySelector('#my-orders');

function item(entry) {
  const href = `/order.html?no=${encodeURIComponent(entry.number)}&t=${encodeURIComponent(entry.token)}`;
  const forget = element('button', { className: 'link-button', text: t('orders.forget'), attributes: { type: 'button' } });
  forget.addEventListener('click', () => {
    forgetOrder(entry.number);
    draw();
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
