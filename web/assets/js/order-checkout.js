// Checkout: pickup or delivery, contact, address, note and payment; the total the customer sees
// is the one sent. Errors are shown beside their field; a retry after a network error sends the
// same Idempotency-Key, so it cannot make a second order. The order comes back unpaid: the order
// page starts the payment for the device it is on.
import { api, ApiError, formatFen } from './api.js';
import { element } from './catalog-view.js';
import { localName, t, translatePage } from './i18n.js';
import {
  cartSubtotal, clearCart, deliveryFee, keyForAttempt, lineFen, loadCart, loadContact, normalizeMobile,
  refreshCart, rememberOrder, saveContact, setQuantity,
} from './order-store.js';
import {
  clearFieldErrors, errorText, orderText, quantityText, renderStoreFrame, serverWords, showFieldError,
} from './order-view.js';

const form = document.querySelector('#checkout-form');
const submit = document.querySelector('#submit-order');
const message = document.querySelector('#form-message');
const areaSelect = document.querySelector('#address-area');
const areaText = document.querySelector('#address-area-text');
let config = null;
/** The total the customer agreed to after a 409 price_changed, until the cart changes again. */
let acceptedTotal = null;

const field = (name) => form.querySelector(`[name="${name}"]`);
const fulfilment = () => form.querySelector('[name=fulfilment]:checked').value;
const payment = () => form.querySelector('[name=payment]:checked')?.value;
const fetchProduct = (id) => api(`/api/v1/products/${encodeURIComponent(id)}`);
const onlineMethods = ['wechat', 'alipay'];

function orderLines(cart) {
  return cart.lines.filter((l) => !l.gone);
}

function totals(cart = loadCart()) {
  const subtotal = cartSubtotal(cart);
  const fee = deliveryFee(config, subtotal, fulfilment());
  return { subtotal, fee, total: subtotal + fee };
}

function showMessage(text) {
  message.textContent = text ?? '';
  message.hidden = !text;
}

/** The lines and totals; a line the server refused shows its error in its own slot. */
function drawSummary(cart = loadCart()) {
  const lines = orderLines(cart);
  document.querySelector('#checkout-form').hidden = lines.length === 0;
  document.querySelector('#checkout-empty').hidden = lines.length > 0;
  document.querySelector('#summary-lines').replaceChildren(...lines.map((line, i) => element('li', {}, [
    element('span', { className: 'line-name', text: localName(line.product) }),
    element('span', { className: 'hint', text: ` × ${quantityText(line.product.unit, line.quantity)}` }),
    element('strong', { className: 'num', text: formatFen(lineFen(line.product, line.quantity)) }),
    element('div', { className: 'field-error', attributes: { 'data-for': `lines[${i}]` } }),
  ])));
  const { subtotal, fee, total } = totals(cart);
  document.querySelector('#sum-subtotal').textContent = formatFen(subtotal);
  document.querySelector('#sum-fee').textContent = fulfilment() === 'delivery' ? formatFen(fee) : t('checkout.no_fee');
  document.querySelector('#sum-total').textContent = formatFen(acceptedTotal ?? total);
  document.querySelector('#bar-total').textContent = formatFen(acceptedTotal ?? total);
}

/** Delivery is paid online; without an online method offered, only pickup remains. */
function deliveryOffered() {
  return !config || config.payments.some((method) => onlineMethods.includes(method));
}

/** Shows the parts that depend on pickup or delivery: address, fee, cash only for pickup. */
function drawFulfilment() {
  const deliveryChoice = form.querySelector('[name=fulfilment][value=delivery]');
  deliveryChoice.disabled = !deliveryOffered();
  if (deliveryChoice.disabled && deliveryChoice.checked) form.querySelector('[name=fulfilment][value=pickup]').checked = true;
  const delivery = fulfilment() === 'delivery';
  document.querySelector('#address-fields').hidden = !delivery;
  const cash = form.querySelector('[name=payment][value=cash_on_pickup]');
  cash.disabled = delivery;
  const online = form.querySelector('[name=payment]:not(:disabled)');
  if (delivery && cash.checked && online) online.checked = true;
  acceptedTotal = null;
  drawSummary();
}

function drawConfig() {
  const pickup = config?.pickup;
  document.querySelector('#pickup-info').textContent = pickup ? `${pickup.address} · ${pickup.hours}` : '';
  const delivery = config?.delivery;
  let feeText = '';
  if (delivery) {
    feeText = delivery.flat_fee_fen ? t('checkout.fee_rule', { fee: formatFen(delivery.flat_fee_fen) }) : t('checkout.no_fee');
    if (delivery.flat_fee_fen && delivery.free_above_fen !== null && delivery.free_above_fen !== undefined) {
      feeText += t('checkout.free_above', { amount: formatFen(delivery.free_above_fen) });
    }
  }
  if (delivery) feeText += feeText ? `；${orderText('checkout.delivery_needs_online')}` : orderText('checkout.delivery_needs_online');
  if (!deliveryOffered()) feeText = orderText('checkout.delivery_off');
  const areas = delivery?.areas ?? [];
  // Where the station delivers, said before the customer picks (and what to do when theirs is
  // not there).
  if (deliveryOffered() && areas.length) feeText += `；${t('checkout.areas_served', { areas: areas.join('、') })}`;
  document.querySelector('#delivery-info').textContent = feeText;
  // No area list means anywhere: the customer types the area.
  areaSelect.hidden = areas.length === 0;
  areaText.hidden = areas.length > 0;
  areaSelect.name = areas.length ? 'address.area' : 'address.area.list';
  areaText.name = areas.length ? 'address.area.text' : 'address.area';
  const chosen = areaSelect.value || loadContact().area || '';
  areaSelect.replaceChildren(
    element('option', { text: t('checkout.area_pick'), attributes: { value: '' } }),
    ...areas.map((area) => element('option', { text: area, attributes: { value: area } })));
  if (areas.includes(chosen)) areaSelect.value = chosen;
  else if (areas.length && chosen && !areaSelect.dataset.told) {
    // The area saved from an earlier order is not delivered to (any more): said, not dropped.
    areaSelect.dataset.told = 'yes';
    form.querySelector('.field-error[data-for="address.area"]').textContent =
      t('checkout.area_not_served', { area: chosen, areas: areas.join('、') });
  }
  const offered = config?.payments ?? ['wechat', 'alipay', 'cash_on_pickup'];
  for (const choice of form.querySelectorAll('[data-payment]')) {
    const off = !offered.includes(choice.dataset.payment);
    choice.hidden = off;
    choice.querySelector('input').disabled = off;
  }
  const selected = form.querySelector('[name=payment]:checked');
  if (!selected || selected.disabled) {
    const first = form.querySelector('[name=payment]:not(:disabled)');
    if (first) first.checked = true;
  }
}

/** Client-side checks, the same the server makes; returns [[field, text]]. */
function check() {
  const problems = [];
  if (!field('contact.name').value.trim()) problems.push(['contact.name', t('checkout.name_missing')]);
  const phone = field('contact.phone').value;
  if (!phone.trim()) problems.push(['contact.phone', t('checkout.phone_missing')]);
  else if (!normalizeMobile(phone)) problems.push(['contact.phone', t('checkout.phone_invalid')]);
  if (fulfilment() === 'delivery') {
    if (!field('address.area').value.trim()) {
      problems.push(['address.area', areaSelect.hidden ? t('checkout.area_missing_text') : t('checkout.area_missing')]);
    }
    if (!field('address.detail').value.trim()) problems.push(['address.detail', t('checkout.detail_missing')]);
  }
  if (!payment()) problems.push(['payment', t('checkout.payment_missing')]);
  return problems;
}

function requestBody(cart) {
  const how = fulfilment();
  const pay = payment();
  const body = {
    lines: orderLines(cart).map((l) => ({ product_id: l.product_id, quantity: l.quantity })),
    fulfilment: how,
    contact: { name: field('contact.name').value.trim(), phone: normalizeMobile(field('contact.phone').value) },
    note: field('note').value.trim(),
    payment: pay,
    expected_total_fen: acceptedTotal ?? totals(cart).total,
  };
  if (how === 'delivery') body.address = { area: field('address.area').value.trim(), detail: field('address.detail').value.trim() };
  return body;
}

/**
 * A 409 price_changed names the new total and the one sent (both decimal strings): the cart
 * fetches its products again so the lines show the new prices, and the customer confirms.
 */
async function showPriceChanged(error) {
  const now = Number(error.details.total_fen);
  const before = Number(error.details.expected_total_fen ?? requestBody(loadCart()).expected_total_fen);
  await refreshCart(fetchProduct);
  acceptedTotal = null;
  drawSummary();
  const box = document.querySelector('#price-changed');
  document.querySelector('#price-changed-text').textContent =
    t('checkout.price_changed', { was: formatFen(before), now: formatFen(now) });
  box.hidden = false;
  box.dataset.total = String(now);
  box.scrollIntoView({ block: 'center' });
}

/** A 409 out_of_stock names the product and what is left (decimal strings) on that product's line. */
function showOutOfStock(error) {
  const cart = loadCart();
  const lines = orderLines(cart);
  const index = lines.findIndex((l) => l.product_id === Number(error.details.product_id));
  const available = Math.max(0, Number(error.details.available ?? 0) || 0);
  if (index < 0) return showMessage(t('order.error.out_of_stock'));
  const line = lines[index];
  const slot = form.querySelector(`.field-error[data-for="lines[${index}]"]`);
  const text = available > 0
    ? t('checkout.only_left', { name: localName(line.product), left: quantityText(line.product.unit, available) })
    : t('checkout.sold_out', { name: localName(line.product) });
  const fix = element('button', {
    className: 'secondary',
    text: available > 0 ? t('checkout.take_left', { left: quantityText(line.product.unit, available) }) : t('cart.remove'),
    attributes: { type: 'button' },
  });
  fix.addEventListener('click', () => {
    setQuantity(line.product_id, available);
    acceptedTotal = null;
    showMessage('');
    drawSummary();
  });
  slot.replaceChildren(element('span', { text: `${text} ` }), fix);
  slot.scrollIntoView({ block: 'center' });
  showMessage(t('checkout.fix_lines'));
}

/** What a 422 says beside its field: an area not delivered to lists those that are. */
function fieldProblem(error) {
  // details.areas: the areas served, "安海镇、东石镇" (the server's details are text).
  if (formField(error.details.field) === 'address.area' && error.details.areas) {
    return t('checkout.area_refused', { areas: String(error.details.areas) });
  }
  return `${t('field.invalid')}（${serverWords(error.message)}）`;
}

/** A 422's field as this form names it. */
function formField(name) {
  if (name === 'delivery.area' || name === 'address') return 'address.area';
  const line = /^lines\[(\d+)\]/.exec(name);
  return line ? `lines[${line[1]}]` : name;
}

async function place() {
  clearFieldErrors(form);
  showMessage('');
  const problems = check();
  if (problems.length) {
    for (const [name, text] of [...problems].reverse()) showFieldError(form, name, text);
    showMessage(t('checkout.fix_fields'));
    return;
  }
  const cart = loadCart();
  const body = requestBody(cart);
  const key = keyForAttempt(body);
  submit.disabled = true;
  submit.textContent = t('checkout.submitting');
  try {
    const order = await api('/api/v1/orders', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    rememberOrder(order, order.token);
    saveContact({ name: body.contact.name, phone: body.contact.phone, area: body.address?.area, detail: body.address?.detail });
    clearCart();
    location.href = `/order.html?no=${encodeURIComponent(order.number)}&t=${encodeURIComponent(order.token)}`;
    return;
  } catch (error) {
    if (!(error instanceof ApiError)) showMessage(t('error.generic'));
    else if (error.code === 'price_changed') await showPriceChanged(error);
    else if (error.code === 'out_of_stock') showOutOfStock(error);
    else if (error.code === 'invalid' && error.details.field &&
             showFieldError(form, formField(error.details.field), fieldProblem(error))) {
      showMessage(t('checkout.fix_fields'));
    } else if (error.status === 404) {
      showMessage(t('order.error.not_open'));  // the orders API is not served here (yet)
    } else if (error.status === 0 || error.code === 'unavailable' || error.code === 'commit_unknown') {
      showMessage(t('checkout.retry_same'));  // the saved key makes the retry safe
    } else {
      showMessage(error.code === 'invalid' ? `${t('field.invalid')}（${error.message}）` : errorText(error));
    }
  }
  submit.disabled = false;
  submit.textContent = t('checkout.submit');
}

// Each text box with a limit shows how much of it is used, so a long pasted note is not cut
// without a word (the browser stops at maxlength silently).
for (const box of form.querySelectorAll('textarea[maxlength]')) {
  const counter = element('small', { className: 'char-counter', attributes: { 'aria-live': 'polite' } });
  const update = () => {
    const max = Number(box.getAttribute('maxlength'));
    counter.textContent = `${box.value.length}/${max}`;
    counter.classList.toggle('full', box.value.length >= max);
  };
  box.addEventListener('input', update);
  box.after(counter);
  update();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  place();
});
for (const radio of form.querySelectorAll('[name=fulfilment]')) radio.addEventListener('change', drawFulfilment);
field('contact.phone').addEventListener('blur', () => {
  const input = field('contact.phone');
  // Said beside the field, without taking the focus back: the customer has moved on to the next
  // field, and what they type there must go there (the UX review's name ended in the phone box).
  if (input.value.trim() && !normalizeMobile(input.value)) showFieldError(form, 'contact.phone', t('checkout.phone_invalid'), { focus: false });
});
field('contact.phone').addEventListener('input', () => {
  if (normalizeMobile(field('contact.phone').value)) {
    form.querySelector('.field-error[data-for="contact.phone"]').textContent = '';
    field('contact.phone').removeAttribute('aria-invalid');
  }
});
document.querySelector('#accept-price').addEventListener('click', () => {
  const box = document.querySelector('#price-changed');
  acceptedTotal = Number(box.dataset.total);
  box.hidden = true;
  drawSummary();
  place();
});

function fillContact() {
  const saved = loadContact();
  if (saved.name) field('contact.name').value = saved.name;
  if (saved.phone) field('contact.phone').value = saved.phone;
  if (saved.detail) field('address.detail').value = saved.detail;
  if (saved.area) areaText.value = saved.area;
}

function redraw() {
  translatePage();
  drawConfig();
  drawFulfilment();
}

renderStoreFrame(redraw);
fillContact();
drawConfig();
drawSummary();
const notice = document.querySelector('#config-notice');
api('/api/v1/orders/config').then((answer) => {
  config = answer;
}).catch((error) => {
  notice.textContent = error.status === 404 ? t('order.error.not_open') : errorText(error);
  notice.hidden = false;
}).finally(async () => {
  drawConfig();
  drawFulfilment();
  await refreshCart(fetchProduct);
  drawSummary();
});
