// The product page's "add to cart": store.js draws the page with a placeholder button; this
// replaces it with a quantity stepper and a working button, and puts the cart in the header.
import { api } from './api.js';
import { element } from './catalog-view.js';
import { t } from './i18n.js';
import { addToCart, cartCount, quantityLimits } from './order-store.js';
import { stepper } from './order-view.js';

const productId = new URLSearchParams(location.search).get('id');
let product = null;

function cartLinkText() {
  const count = cartCount();
  return count ? t('cart.nav_count', { count }) : t('cart.nav');
}

function installCartLink() {
  const nav = document.querySelector('#site-header .store-nav');
  if (!nav || nav.querySelector('#cart-link')) return;
  const link = element('a', { className: 'cart-link', text: cartLinkText(), attributes: { href: '/cart.html', id: 'cart-link' } });
  nav.insertBefore(link, nav.querySelector('#lang-switch'));
  document.addEventListener('yz-cart', () => { link.textContent = cartLinkText(); });
  document.querySelector('#lang-switch')?.addEventListener('click', () => { link.textContent = cartLinkText(); });
}

/** Swaps the placeholder for the stepper, the button and the "added" message. */
function wire(placeholder) {
  let quantity = quantityLimits(product.unit).min;
  const status = element('p', { className: 'added-status', attributes: { role: 'status', 'aria-live': 'polite' } });
  const holder = element('div', { className: 'stepper-holder' });
  const drawStepper = () => holder.replaceChildren(stepper(product.unit, quantity, (q) => {
    const { min, max } = quantityLimits(product.unit);
    quantity = Math.max(min, Math.min(max, q));
    drawStepper();
  }, { label: product.name }));
  drawStepper();
  const button = element('button', { className: 'primary big-button', text: t('cart.add'), attributes: { type: 'button', id: 'add-to-cart', 'data-ready': '' } });
  // The catalog does not say what is in stock yet; when it does, a sold-out product is not added.
  if (product.available === 0) {
    button.disabled = true;
    button.textContent = t('cart.sold_out');
  }
  button.addEventListener('click', () => {
    addToCart(product, quantity);
    status.replaceChildren(
      element('span', { text: `${t('cart.added')} ` }),
      element('a', { text: t('cart.go_checkout'), attributes: { href: '/cart.html' } }));
  });
  placeholder.replaceWith(element('div', { className: 'add-to-cart' }, [holder, button, status]));
}

function findPlaceholder() {
  const placeholder = document.querySelector('#add-to-cart:not([data-ready])');
  if (placeholder && product) wire(placeholder);
}

installCartLink();
api(`/api/v1/products/${encodeURIComponent(productId)}`).then((found) => {
  product = found;
  findPlaceholder();
  // store.js draws the product again when the language changes.
  new MutationObserver(findPlaceholder).observe(document.querySelector('#product'), { childList: true, subtree: true });
}).catch(() => {});  // store.js already says the product is missing
