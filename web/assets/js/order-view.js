// Pieces the order pages share: the storefront frame with the cart, state names and the step
// bar, order lines, times, quantities and the errors shown beside a field.
import { ApiError, formatFen } from './api.js';
import { element, perJinFen } from './catalog-view.js';
import { installLanguageSwitch, language, t, translatePage } from './i18n.js';
import { cartCount, quantityLimits } from './order-store.js';

/**
 * Texts the order pages needed once the server served the orders API (starting the payment
 * apart from checkout, WeChat's in-app browser, shifts for cash on pickup); they belong in
 * i18n.js's dictionary, which these pages do not own, and move there when it is next edited.
 */
const orderTexts = {
  zh: {
    'pay.starting': '正在发起付款…',
    'pay.start_failed': '暂时无法发起付款：{reason}',
    'pay.retry': '重新发起付款',
    'pay.switch': '改用{provider}付款',
    'pay.in_wechat': '在微信里暂不能直接付款：请长按下面的二维码，选“识别图中二维码”付款；或点右上角“⋯”选“在浏览器打开”。',
    'pay.sign_in_failed': '微信授权没有成功：请长按下面的二维码，选“识别图中二维码”付款。',
    'pay.alipay_in_wechat': '微信里打不开支付宝：请点右上角“⋯”选“在浏览器打开”，或截图后用支付宝扫一扫。',
    'checkout.delivery_needs_online': '送货上门需要在线付款（微信或支付宝）。',
    'checkout.delivery_off': '本站暂未开通在线付款，送货上门暂停，请选择到驿站自提。',
    'order.error.no_open_shift': '到店付款要收进您当班的钱箱：请先在收银台页面开班，再交付。',
    'order.error.idempotency_key_required': '页面版本过旧，请刷新后再提交。',
    'staff_orders.open_pos': '去收银台开班',
    'staff_orders.attention': '需要处理：{text}',
    'refund.open': '退款',
    'refund.title': '订单退款',
    'refund.paid': '已付 {paid} · 已退 {refunded} · 可退 {refundable}',
    'refund.line': '{name}（共 {quantity}，已退 {refunded}）',
    'refund.returned': '货已退回（回库存）',
    'refund.fee': '退配送费 {fee}',
    'refund.method': '退款方式',
    'refund.original': '原路退回',
    'refund.cash': '现金（从本班钱箱）',
    'refund.reason': '原因',
    'refund.submit': '确认退款',
    'refund.nothing': '请填写要退的数量或勾选配送费',
    'refund.done': '{number} 已退款 {amount}',
    'refund.processing': '{number} 退款 {amount} 处理中，结果稍后自动更新',
    'refund.failed': '{number} 退款失败：{failure}',
    'refund.history': '{no} · {amount} · {state}',
    'refund.state.processing': '处理中',
    'refund.state.succeeded': '已退款',
    'refund.state.failed': '失败',
  },
  en: {
    'pay.starting': 'Starting the payment…',
    'pay.start_failed': 'The payment could not be started: {reason}',
    'pay.retry': 'Try again',
    'pay.switch': 'Pay with {provider} instead',
    'pay.in_wechat': 'Paying inside WeChat is not available yet: press and hold the QR below and choose “Scan QR code in image”, or choose “Open in browser” from the ⋯ menu.',
    'pay.sign_in_failed': 'The WeChat sign-in did not go through: press and hold the QR below and choose “Scan QR code in image”.',
    'pay.alipay_in_wechat': 'Alipay does not open inside WeChat: choose “Open in browser” from the ⋯ menu, or save the QR and scan it with Alipay.',
    'checkout.delivery_needs_online': 'Delivery needs online payment (WeChat Pay or Alipay).',
    'checkout.delivery_off': 'Online payment is not open here, so delivery is paused: please pick up at the station.',
    'order.error.no_open_shift': 'Cash on pickup goes into your own drawer: open a shift on the counter page first, then hand over.',
    'order.error.idempotency_key_required': 'This page is out of date; reload it and order again.',
    'staff_orders.open_pos': 'Open a shift at the counter',
    'staff_orders.attention': 'Needs attention: {text}',
    'refund.open': 'Refund',
    'refund.title': 'Refund the order',
    'refund.paid': 'Paid {paid} · refunded {refunded} · refundable {refundable}',
    'refund.line': '{name} (of {quantity}, {refunded} refunded)',
    'refund.returned': 'Brought back (into stock)',
    'refund.fee': 'Refund the delivery fee {fee}',
    'refund.method': 'Refund by',
    'refund.original': 'The way it was paid',
    'refund.cash': 'Cash (from this shift’s drawer)',
    'refund.reason': 'Reason',
    'refund.submit': 'Refund',
    'refund.nothing': 'Enter a quantity to refund or tick the delivery fee',
    'refund.done': '{number}: refunded {amount}',
    'refund.processing': '{number}: refund of {amount} in progress; it updates by itself',
    'refund.failed': '{number}: the refund failed: {failure}',
    'refund.history': '{no} · {amount} · {state}',
    'refund.state.processing': 'in progress',
    'refund.state.succeeded': 'refunded',
    'refund.state.failed': 'failed',
  },
};

/** The text for `key` from the order pages' own texts, else from the shared dictionary. */
export function orderText(key, values = {}) {
  const own = orderTexts[language()][key] ?? orderTexts.zh[key];
  if (own === undefined) return t(key, values);
  return own.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** States after which nothing more happens to an order (the tracking page stops asking). */
export const terminalStates = ['completed', 'cancelled', 'expired', 'refunded'];

export function stateName(state) {
  return t(`order.state.${state}`);
}

/** A state as a coloured badge. */
export function stateBadge(state) {
  return element('span', { className: `state-badge state-${state}`, text: stateName(state), attributes: { 'data-state': state } });
}

/** The steps an order goes through, by how it is paid and delivered. */
export function stepsOf(order) {
  const last = order.fulfilment === 'delivery' ? 'shipped' : 'ready';
  return order.payment_method === 'cash_on_pickup'
    ? ['confirmed', 'picking', 'ready', 'completed']
    : ['pending_payment', 'paid', 'picking', last, 'completed'];
}

/**
 * The step bar: steps reached are done, the current one is marked; a cancelled, expired or
 * refunded order shows how far it came, then its end.
 */
export function stepBar(order) {
  const steps = stepsOf(order);
  const reached = new Set((order.history ?? []).map((h) => h.state));
  reached.add(order.state);
  const at = new Map((order.history ?? []).map((h) => [h.state, h.at]));
  let current = steps.indexOf(order.state);
  if (current < 0) current = Math.max(-1, ...steps.map((s, i) => (reached.has(s) ? i : -1)));
  const items = steps.map((step, i) => {
    const status = i < current || (i === current && step === 'completed') ? 'done' : i === current ? 'current' : 'todo';
    return element('li', { className: `step ${status}`, attributes: i === current ? { 'aria-current': 'step' } : {} }, [
      element('span', { className: 'step-dot', text: status === 'done' ? '✓' : String(i + 1) }),
      element('span', { className: 'step-name', text: stateName(step) }),
      ...(at.has(step) ? [element('span', { className: 'step-time', text: formatTime(at.get(step), { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }) })] : []),
    ]);
  });
  if (!steps.includes(order.state)) {
    items.push(element('li', { className: 'step ended', attributes: { 'aria-current': 'step' } }, [
      element('span', { className: 'step-dot', text: '×' }),
      element('span', { className: 'step-name', text: stateName(order.state) }),
    ]));
  }
  return element('ol', { className: 'step-bar', attributes: { 'aria-label': t('order.progress') } }, items);
}

/** A time as the station reads it (Asia/Shanghai), whatever the phone's zone. */
export function formatTime(iso, options = { dateStyle: 'short', timeStyle: 'short' }) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(language() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai', ...options });
}

/** "3 件" or "750 克" (a weighed line's quantity is grams). */
export function quantityText(unit, quantity) {
  if (unit === 'g') return t('order.grams', { grams: quantity });
  return t(Number(quantity) === 1 ? 'order.piece_one' : 'order.pieces', { count: quantity });
}

/** The lines of an order as a table: name and village, quantity, unit price, amount. */
export function linesTable(order) {
  return element('table', { className: 'order-lines' }, [
    element('thead', {}, [element('tr', {}, [
      element('th', { text: t('order.col_item') }),
      element('th', { className: 'num', text: t('order.col_qty') }),
      element('th', { className: 'num', text: t('order.col_amount') }),
    ])]),
    element('tbody', {}, order.lines.map((line) => element('tr', {}, [
      element('td', {}, [
        element('span', { className: 'line-name', text: line.name }),
        // Weighed goods priced per 斤 as the storefront and cart show them (the server's per kg).
        element('small', { text: ` ${line.village_name ?? ''} · ${line.unit === 'g' ? `${formatFen(perJinFen(line.unit_price_fen))} ${t('product.per_jin')}` : formatFen(line.unit_price_fen)}` }),
      ]),
      element('td', { className: 'num', text: quantityText(line.unit, line.quantity) }),
      element('td', { className: 'num', text: formatFen(line.gross_fen) }),
    ]))),
  ]);
}

/** Subtotal, delivery fee, total (and what was refunded) as a definition list. */
export function totalsList(order) {
  const rows = [
    [t('order.subtotal'), formatFen(order.subtotal_fen)],
    // A pickup has no delivery fee to show; a delivery carried free says so, as checkout did.
    ...(order.fulfilment === 'pickup' ? [] : [[t('order.delivery_fee'), order.delivery_fee_fen ? formatFen(order.delivery_fee_fen) : t('checkout.no_fee')]]),
    [t('order.total'), formatFen(order.total_fen), 'total'],
    ...(order.refunded_fen > 0 ? [[t('order.refunded'), formatFen(order.refunded_fen), 'refunded']] : []),
  ];
  return element('dl', { className: 'order-totals' }, rows.flatMap(([term, value, className]) => [
    element('dt', { text: term, className }), element('dd', { text: value, className }),
  ]));
}

/** The text for an API error that belongs to no field: Chinese first, by code. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t('error.generic');
  if (error.status === 0) return t('order.error.network');
  const key = `order.error.${error.code}`;
  const text = orderText(key);
  return text === key ? t('error.generic') : text;
}

/**
 * A server message in the page's language: the server writes "中文 / English", a customer reads
 * one of them (a message without the separator as it is).
 */
export function serverWords(message) {
  const text = String(message ?? '');
  const at = text.indexOf(' / ');
  if (at < 0) return text;
  return language() === 'en' ? text.slice(at + 3) : text.slice(0, at);
}

/** Clears the errors shown beside fields in `root`. */
export function clearFieldErrors(root) {
  for (const node of root.querySelectorAll('.field-error')) node.textContent = '';
  for (const node of root.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

/** Shows `text` beside the field named `name` (an API field path); false when there is no such slot. */
export function showFieldError(root, name, text, { focus = true } = {}) {
  const slot = root.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
  if (!slot) return false;
  slot.textContent = text;
  const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input && !focus) {
    input.setAttribute('aria-invalid', 'true');
  } else if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus({ preventScroll: true });
    input.scrollIntoView({ block: 'center' });
  } else {
    slot.scrollIntoView({ block: 'center' });
  }
  return true;
}

/** The storefront header (brand, search, nav with the cart count) and footer, for order pages. */
export function renderStoreFrame(onLanguageChange = () => {}) {
  const header = document.querySelector('#site-header');
  const cartLink = element('a', { className: 'cart-link', attributes: { href: '/cart.html', id: 'cart-link' } });
  const drawCount = () => {
    const count = cartCount();
    cartLink.textContent = count ? t('cart.nav_count', { count }) : t('cart.nav');
  };
  header.replaceChildren(
    element('a', { className: 'brand', attributes: { href: '/', 'data-i18n': 'station.name' } }),
    element('nav', { className: 'store-nav' }, [
      element('a', { attributes: { href: '/products.html', 'data-i18n': 'nav.all_products' } }),
      element('a', { attributes: { href: '/orders.html', 'data-i18n': 'orders.nav' } }),
      cartLink,
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'lang-switch', 'data-i18n': 'lang.switch' } }),
    ]));
  document.querySelector('#site-footer')?.replaceChildren(element('p', { attributes: { 'data-i18n': 'footer.text' } }));
  translatePage();
  drawCount();
  document.addEventListener('yz-cart', drawCount);
  installLanguageSwitch(document.querySelector('#lang-switch'), () => {
    drawCount();
    onLanguageChange();
  });
}

/** A − quantity + control; `onChange` gets the new quantity. */
export function stepper(unit, quantity, onChange, { label = '', max: most = null } = {}) {
  const { step, min } = quantityLimits(unit);
  const max = most ?? quantityLimits(unit).max;
  const minus = element('button', { className: 'step-button', text: '−', attributes: { type: 'button', 'aria-label': t('cart.less', { name: label }) } });
  const plus = element('button', { className: 'step-button', text: '+', attributes: { type: 'button', 'aria-label': t('cart.more', { name: label }) } });
  const value = element('output', { className: 'step-value', text: quantityText(unit, quantity), attributes: { 'aria-live': 'polite' } });
  if (quantity <= min) minus.disabled = true;
  if (quantity >= max) plus.disabled = true;
  minus.addEventListener('click', () => onChange(quantity - step));
  plus.addEventListener('click', () => onChange(quantity + step));
  return element('div', { className: 'stepper' }, [minus, value, plus]);
}
