// The product page's "add to cart": store.js draws the page with a placeholder button; this
// replaces it with a quantity stepper and a working button (the header's cart link is store.js's).
import { api } from './api.js';
import { element } from './catalog-view.js';
import { t } from './i18n.js';
import { addToCart, quantityLimits } from './order-store.js';
import { quantityText, stepper } from './order-view.js';

const productId = new URLSearchParams(location.search).get('id');
let product = null;
/** What can still be bought (pieces, or grams), when the server said; null when unknown. */
let available = null;
/** At or under this much left, the page says how much (pieces; grams for weighed goods). */
const lowLeft = { piece: 10, g: 2000 };

/** Swaps the placeholder for the stepper, the button and the "added" message. */
function wire(placeholder) {
  const limits = quantityLimits(product.unit);
  // Not more than is left: the customer learns it here, not at 提交订单.
  const max = available === null ? limits.max
    : Math.max(limits.min, Math.min(limits.max, Math.floor(available / limits.step) * limits.step));
  let quantity = limits.min;
  const status = element('p', { className: 'added-status', attributes: { role: 'status', 'aria-live': 'polite' } });
  const holder = element('div', { className: 'stepper-holder' });
  const drawStepper = () => holder.replaceChildren(stepper(product.unit, quantity, (q) => {
    quantity = Math.max(limits.min, Math.min(max, q));
    drawStepper();
  }, { label: product.name, max }));
  const left = available !== null && available > 0 && available <= (lowLeft[product.unit] ?? 0)
    ? element('p', { className: 'hint low-left', text: t('product.only_left', { left: quantityText(product.unit, available) }) })
    : null;
  drawStepper();
  const button = element('button', { className: 'primary big-button', text: t('cart.add'), attributes: { type: 'button', id: 'add-to-cart', 'data-ready': '' } });
  // The catalog does not say what is in stock yet; when it does, a sold-out product is not added.
  if (product.available === 0 || available === 0 || (available !== null && available < limits.min)) {
    button.disabled = true;
    button.textContent = t('cart.sold_out');
  }
  button.addEventListener('click', () => {
    addToCart(product, quantity);
    status.replaceChildren(
      element('span', { text: `${t('cart.added')} ` }),
      element('a', { text: t('cart.go_checkout'), attributes: { href: '/cart.html' } }));
  });
  placeholder.replaceWith(element('div', { className: 'add-to-cart' }, [...(left ? [left] : []), holder, button, status]));
}

function findPlaceholder() {
  const placeholder = document.querySelector('#add-to-cart:not([data-ready])');
  if (placeholder && product) wire(placeholder);
}

Promise.all([
  api(`/api/v1/products/${encodeURIComponent(productId)}`),
  // How much is left; the page still works without it (the checkout checks again).
  api(`/api/v1/products/${encodeURIComponent(productId)}/availability`).then((a) => a.available).catch(() => null),
]).then(([found, left]) => {
  product = found;
  available = Number.isFinite(left) ? left : null;
  findPlaceholder();
  // store.js draws the product again when the language changes.
  new MutationObserver(findPlaceholder).observe(document.querySelector('#product'), { childList: true, subtree: true });
}).catch(() => {});  // store.js already says the product is missing
