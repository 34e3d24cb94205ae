// The payment and tracking page, /order.html?no=…&t=…: the state and its steps, the lines, the
// pickup code and station or the waybill; while unpaid, the way to pay on this device (QR on a
// desktop, the provider's page on a phone; inside WeChat the QR, long-pressed) and a cancel
// button. An order comes from checkout unpaid: this page starts its payment (POST …/payment
// with this device's channel; asking again for the same channel answers the same payment). Asks
// the server again every 3 s while the page is open and the order not finished.
import { api, formatFen } from './api.js';
import { element } from './catalog-view.js';
import { t, translatePage } from './i18n.js';
import { fallbackChannel, inWeChat, isPhone, loadMyOrders, paymentChannel, rememberOrder } from './order-store.js';
import {
  errorText, formatTime, linesTable, orderText, renderStoreFrame, stateName, stepBar, terminalStates, totalsList,
} from './order-view.js';

const params = new URLSearchParams(location.search);
// Alipay's return_url (and quit_url, when the payer backs out) come back with out_trade_no and no
// token: the order number, or a later trade of the order (<number>-2 … -9, after a switch of
// channel), and the token this browser kept when it placed the order.
const orderOfTrade = (trade) => trade.replace(/^(W\d{8}-\d{4,})-[2-9]$/, '$1');
const number = params.get('no') ?? orderOfTrade(params.get('out_trade_no') ?? '');
const token = params.get('t') ?? loadMyOrders().find((o) => o.number === number)?.token ?? '';
const signInFailed = params.get('sign_in') === 'failed';
const pollMs = 3000;
/** How long after it appears 改用…付款 ignores taps (see switchButton). */
const SWITCH_GUARD_MS = 600;
let order = null;
let config = null;
let paymentDrawn = '';
let timer = null;
let countdown = null;
/** Starting the payment: 'idle', 'starting', or the error that stopped it (shown with a retry). */
let paymentStart = 'idle';

const $ = (selector) => document.querySelector(selector);
const orderPath = (suffix = '') =>
  `/api/v1/orders/${encodeURIComponent(number)}${suffix}?token=${encodeURIComponent(token)}`;

function showMessage(text) {
  $('#order-message').textContent = text ?? '';
  $('#order-message').hidden = !text;
}

/** Whether the customer may still cancel: nothing paid yet (online unpaid, cash before handover). */
function mayCancel(o) {
  return o.payment_method === 'cash_on_pickup'
    ? ['confirmed', 'picking', 'ready'].includes(o.state)
    : o.state === 'pending_payment';
}

function providerName(provider) {
  return t(`method.${provider}`);
}

/** Calls WeChat's in-app payment with the server's signed parameters, then asks for the state. */
function payInWeChat(jsapi) {
  const invoke = () => window.WeixinJSBridge.invoke('getBrandWCPayRequest', jsapi, (result) => {
    if (result?.err_msg === 'get_brand_wcpay_request:ok') load();
    else if (result?.err_msg !== 'get_brand_wcpay_request:cancel') showMessage(t('pay.failed'));
  });
  if (window.WeixinJSBridge) invoke();
  else document.addEventListener('WeixinJSBridgeReady', invoke, { once: true });
}

/** WeChat H5 returns to the page named in redirect_url after paying. */
function withReturn(payment) {
  if (payment.channel !== 'wechat_h5') return payment.redirect_url;
  try {
    const url = new URL(payment.redirect_url, location.href);
    url.searchParams.set('redirect_url', location.href);
    return url.href;
  } catch {
    return payment.redirect_url;
  }
}

function drawCountdown(node, expiresAt) {
  clearInterval(countdown);
  if (!expiresAt) return;
  const tick = () => {
    const left = Math.max(0, Math.floor((new Date(expiresAt).getTime() - Date.now()) / 1000));
    node.textContent = t('pay.time_left', { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` });
    if (left === 0) clearInterval(countdown);
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function awaitsOnlinePayment(o) {
  return o.state === 'pending_payment' && o.payment_method !== 'cash_on_pickup';
}

/**
 * Asks the server to start the payment on this device's channel. Inside WeChat JSAPI first needs
 * a WeChat sign-in: the server names where (details.sign_in) and the browser goes there and comes
 * back with the payment started; a station without WeChat sign-in (or a failed one) gets the QR.
 */
async function startPayment(provider = order.payment_method) {
  const channel = paymentChannel(provider);
  if (!channel || paymentStart === 'starting') return;
  paymentStart = 'starting';
  drawPayment(order);
  const ask = (which) => api(orderPath('/payment'), { method: 'POST', body: { channel: which } });
  try {
    let answer;
    try {
      // Back from a WeChat sign-in that failed: the QR instead of asking to sign in again.
      answer = await ask(signInFailed ? fallbackChannel(channel) ?? channel : channel);
    } catch (error) {
      const fallback = fallbackChannel(channel);
      if (!fallback || error.code !== 'invalid' || error.details.field !== 'channel') throw error;
      // JSAPI pays as a WeChat user: sign in with WeChat (a round trip through WeChat that comes
      // back to this page with the payment started), when the station has it configured.
      if (error.details.sign_in && !signInFailed) {
        location.assign(`${error.details.sign_in}?token=${encodeURIComponent(token)}`);
        return;
      }
      answer = await ask(fallback);
    }
    paymentStart = 'idle';
    draw(answer);
  } catch (error) {
    paymentStart = error;
    if (error.code === 'invalid_state') {
      paymentStart = 'idle';
      load();  // paid, expired or cancelled meanwhile: show what it is now
      return;
    }
    paymentDrawn = '';
    drawPayment(order);
  }
}

/** While the payment is being started, or could not be: a line saying so and a retry. */
function drawPaymentStart(o, box) {
  const parts = [element('h2', { text: t('pay.title', { total: formatFen(o.total_fen) }) })];
  if (paymentStart === 'starting' || paymentStart === 'idle') {
    parts.push(element('p', { className: 'hint', text: orderText('pay.starting'), attributes: { id: 'pay-starting' } }));
  } else {
    const reason = errorText(paymentStart);
    const retry = element('button', { className: 'primary big-button pay-button', text: orderText('pay.retry'), attributes: { type: 'button', id: 'pay-retry' } });
    retry.addEventListener('click', () => startPayment());
    parts.push(element('p', { className: 'form-error', text: orderText('pay.start_failed', { reason }), attributes: { role: 'alert' } }), retry);
    const other = switchButton(o);
    if (other) parts.push(other);
  }
  box.replaceChildren(...parts);
}

/**
 * The other online provider, when the station takes it and it works on this device (Alipay's
 * pages do not open inside WeChat): the customer who chose one at checkout may pay with the
 * other. The server closes the open trade first, so only one of them can be paid.
 */
function switchButton(o) {
  const other = { wechat: 'alipay', alipay: 'wechat' }[o.payment_method];
  if (!other || !config?.payments?.includes(other) || (other === 'alipay' && inWeChat())) return null;
  const button = element('button', {
    className: 'secondary big-button',
    text: orderText('pay.switch', { provider: providerName(other) }),
    attributes: { type: 'button', id: 'pay-switch' },
  });
  // A tap within a moment of the button appearing is taken for the second tap of a double tap
  // on 提交订单, whose place it takes when the order page opens (the UX review switched a
  // customer to Alipay that way): ignored.
  const drawnAt = performance.now();
  button.addEventListener('click', () => {
    if (performance.now() - drawnAt >= SWITCH_GUARD_MS) startPayment(other);
  });
  return button;
}

/** What pays the order on this device; drawn again only when the payment itself changes. */
function drawPayment(o) {
  const box = $('#payment-box');
  const payment = o.state === 'pending_payment' ? o.payment : null;
  const signature = JSON.stringify([payment, o.total_fen, payment ? '' : String(paymentStart?.code ?? paymentStart),
    o.payment_method, config?.payments ?? null]);
  box.hidden = !awaitsOnlinePayment(o);
  if (box.hidden) {
    clearInterval(countdown);
    paymentDrawn = '';
    return;
  }
  if (signature === paymentDrawn) return;
  paymentDrawn = signature;
  if (!payment) {
    clearInterval(countdown);
    drawPaymentStart(o, box);
    return;
  }
  const provider = providerName(payment.provider);
  const phone = isPhone();
  const parts = [
    element('h2', { text: t('pay.title', { total: formatFen(o.total_fen) }) }),
    element('p', { className: 'hint countdown', attributes: { id: 'pay-countdown' } }),
  ];
  // Inside WeChat the QR stands in for JSAPI, and Alipay's pages do not open at all: say how to pay.
  if (inWeChat() && payment.channel !== 'wechat_jsapi') {
    parts.push(element('p', {
      className: 'notice',
      text: orderText(payment.provider === 'alipay' ? 'pay.alipay_in_wechat' : signInFailed ? 'pay.sign_in_failed' : 'pay.in_wechat'),
      attributes: { id: 'pay-wechat-hint' },
    }));
  }
  const buttons = [];
  if (payment.jsapi && inWeChat()) {
    const button = element('button', { className: 'primary big-button pay-button', text: t('pay.jsapi'), attributes: { type: 'button', id: 'pay-jsapi' } });
    button.addEventListener('click', () => payInWeChat(payment.jsapi));
    buttons.push(button);
  }
  if (payment.redirect_url && !inWeChat()) {
    buttons.push(element('a', {
      className: 'primary big-button pay-button',
      text: t('pay.open', { provider }),
      attributes: { href: withReturn(payment), id: 'pay-redirect' },
    }));
  }
  const qr = payment.qr_svg
    ? element('figure', { className: 'pay-qr' }, [
      element('img', { attributes: { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(payment.qr_svg)}`, alt: t('pay.qr_alt', { provider }), id: 'pay-qr' } }),
      element('figcaption', { text: t('pay.scan', { provider }) }),
    ])
    : null;
  // A phone shows its button first; a desktop its QR (and WeChat, where it is long-pressed).
  // Either shows the other when it is all there is.
  if (phone && !inWeChat()) {
    parts.push(...buttons);
    if (qr && buttons.length === 0) parts.push(qr);
  } else {
    if (qr) parts.push(qr);
    parts.push(...buttons);
  }
  if (!qr && buttons.length === 0 && /^https?:/.test(payment.qr_content ?? '') && !inWeChat()) {
    parts.push(element('a', { className: 'primary big-button pay-button', text: t('pay.open', { provider }), attributes: { href: payment.qr_content, id: 'pay-redirect' } }));
  }
  parts.push(element('p', { className: 'hint', text: t('pay.after') }));
  const check = element('button', { className: 'secondary big-button', text: t('pay.check'), attributes: { type: 'button', id: 'pay-check' } });
  check.addEventListener('click', () => checkPayment(check));
  parts.push(check, element('p', { className: 'hint', attributes: { id: 'pay-check-result', role: 'status' } }));
  const other = switchButton(o);
  if (other) parts.push(other);
  box.replaceChildren(...parts);
  drawCountdown($('#pay-countdown'), o.expires_at);
}

/**
 * 我已支付: the server asks the provider about the payment (its notification may be late or
 * lost; the server asks at most once every 5 s per order). The button rests for 5 s after.
 */
async function checkPayment(button) {
  if (button) button.disabled = true;
  try {
    const answer = await api(orderPath('/payment/check'), { method: 'POST' });
    draw(answer);
    const result = $('#pay-check-result');
    if (result && awaitsOnlinePayment(answer)) result.textContent = t('pay.check_pending');
    showMessage('');
  } catch (error) {
    showMessage(errorText(error));
  } finally {
    if (button) setTimeout(() => { button.disabled = false; }, 5000);
  }
}

function drawPickup(o) {
  const box = $('#pickup-box');
  box.hidden = o.fulfilment !== 'pickup';
  if (box.hidden) return;
  const parts = [element('h2', { text: t('order.pickup_title') })];
  if (o.pickup_code && !terminalStates.includes(o.state)) {
    parts.push(element('p', { className: 'pickup-code-label', text: t('order.pickup_code') }),
               element('p', { className: 'pickup-code', text: o.pickup_code, attributes: { id: 'pickup-code' } }),
               element('p', { className: 'hint', text: t('order.pickup_code_hint') }));
  }
  if (o.state === 'ready') parts.push(element('p', { className: 'notice', text: t('order.ready_hint') }));
  if (o.payment_method === 'cash_on_pickup' && !terminalStates.includes(o.state)) {
    parts.push(element('p', { className: 'notice', text: t('order.cash_due', { total: formatFen(o.total_fen) }) }));
    if (o.expires_at) parts.push(element('p', { className: 'hint', text: t('order.collect_by', { at: formatTime(o.expires_at) }) }));
  }
  if (config?.pickup) {
    parts.push(element('dl', { className: 'facts' }, [
      element('dt', { text: t('order.station_address') }), element('dd', { text: config.pickup.address }),
      element('dt', { text: t('order.station_hours') }), element('dd', { text: config.pickup.hours }),
    ]));
  }
  box.replaceChildren(...parts);
}

function drawDelivery(o) {
  const box = $('#delivery-box');
  box.hidden = o.fulfilment !== 'delivery';
  if (box.hidden) return;
  const facts = [
    [t('checkout.contact'), `${o.contact?.name ?? ''} ${o.contact?.phone ?? ''}`],
    [t('checkout.address'), o.address ? `${o.address.area} ${o.address.detail}` : ''],
    ...(o.carrier ? [[t('order.carrier'), o.carrier]] : []),
    ...(o.waybill ? [[t('order.waybill'), o.waybill]] : []),
  ];
  box.replaceChildren(
    element('h2', { text: t('order.delivery_title') }),
    element('dl', { className: 'facts' }, facts.flatMap(([term, value]) => [
      element('dt', { text: term }), element('dd', { text: value, attributes: term === t('order.waybill') ? { id: 'waybill' } : {} }),
    ])));
}

/** An event's note as the customer reads it: the provider's bare transaction number, named. */
function noteText(event) {
  return event.state === 'paid' && /^\d{10,40}$/.test(event.note) ? t('order.transaction_no', { no: event.note }) : event.note;
}

/** The order's history, newest first: when, the state it was in, and what happened. */
function historyItems(o) {
  return [...(o.history ?? [])].reverse().map((event) => element('li', {}, [
    element('time', { text: formatTime(event.at), attributes: { datetime: event.at } }),
    element('span', { className: `state-badge state-${event.state}`, text: stateName(event.state) }),
    ...(event.note ? [element('span', { className: 'history-note', text: noteText(event) })] : []),
  ]));
}

function draw(o) {
  order = o;
  $('#order').hidden = false;
  $('#order-number').textContent = o.number;
  document.title = `${t('order.number')} ${o.number} · ${t('station.name')}`;
  const state = $('#order-state');
  state.textContent = o.state === 'confirmed' ? t('order.state.confirmed_long') : stateName(o.state);
  state.className = `order-state state-${o.state}`;
  $('#order-created').textContent = t('order.created', { at: formatTime(o.created_at) });
  $('#order-steps').replaceChildren(stepBar(o));
  drawPayment(o);
  drawPickup(o);
  drawDelivery(o);
  $('#order-lines').replaceChildren(linesTable(o));
  $('#order-totals').replaceChildren(totalsList(o));
  $('#order-note').textContent = o.note ? `${t('order.note')}：${o.note}` : '';
  $('#order-history').replaceChildren(...historyItems(o));
  $('#cancel-box').hidden = !mayCancel(o);
  rememberOrder(o, token);
  if (awaitsOnlinePayment(o) && !o.payment && paymentStart === 'idle') startPayment();
}

function schedule() {
  clearTimeout(timer);
  if (order && terminalStates.includes(order.state)) return;
  if (document.hidden) return;  // picked up again when the page is shown
  timer = setTimeout(load, pollMs);
}

async function load() {
  clearTimeout(timer);
  try {
    draw(await api(orderPath()));
    showMessage('');
  } catch (error) {
    if (error.status === 404 && error.code === 'not_found') {
      showMessage(t('order.not_found'));
      return;  // a wrong link stays wrong: stop asking
    }
    showMessage(order ? t('order.poll_failed') : errorText(error));
  }
  schedule();
}

$('#cancel-order').addEventListener('click', () => {
  $('#cancel-confirm').hidden = false;
  $('#cancel-order').hidden = true;
});
$('#cancel-no').addEventListener('click', () => {
  $('#cancel-confirm').hidden = true;
  $('#cancel-order').hidden = false;
});
$('#cancel-yes').addEventListener('click', async () => {
  const button = $('#cancel-yes');
  button.disabled = true;
  try {
    draw(await api(orderPath('/cancel'), { method: 'POST' }));
    showMessage('');
  } catch (error) {
    showMessage(error.code === 'invalid_state' ? t('order.cancel_too_late') : errorText(error));
    load();
  } finally {
    button.disabled = false;
    $('#cancel-confirm').hidden = true;
    $('#cancel-order').hidden = false;
  }
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) load();
});

renderStoreFrame(() => {
  translatePage();
  paymentDrawn = '';
  if (order) draw(order);
});
if (!number || !token) {
  showMessage(t('order.bad_link'));
} else {
  api('/api/v1/orders/config').then((answer) => {
    config = answer;
    if (order) {
      drawPickup(order);
      drawPayment(order);  // with the other provider to switch to, now that it is known
    }
  }).catch(() => {});
  // Back from Alipay's page (its return_url names out_trade_no): the payer has just paid, and
  // the server is asked to check rather than wait for the notification.
  if (params.has('out_trade_no')) checkPayment(null).then(() => (order ? schedule() : load()));
  else load();
}
