// The cart page: lines kept in this browser, prices and availability fetched again on open,
// quantity steppers, remove, the subtotal and the way to checkout.
import { api, formatFen } from './api.js';
import { element, imageOf, priceLabel } from './catalog-view.js';
import { localName, t } from './i18n.js';
import {
  cartSubtotal, lineFen, loadCart, refreshCart, removeFromCart, setQuantity,
} from './order-store.js';
import { quantityText, renderStoreFrame, stepper } from './order-view.js';

const list = document.querySelector('#cart-lines');

function lineItem(line) {
  const { product } = line;
  const name = localName(product);
  const notes = [];
  if (line.gone) notes.push(element('p', { className: 'field-error', text: t('cart.gone') }));
  if (line.price_was !== undefined && !line.gone) {
    notes.push(element('p', { className: 'notice', text: t('cart.price_changed', { was: formatFen(line.price_was), now: priceLabel(product) }) }));
  }
  if (product.available !== null && product.available !== undefined && !line.gone) {
    notes.push(element('p', {
      className: line.quantity > product.available ? 'field-error' : 'hint',
      text: product.available > 0 ? t('cart.available', { left: quantityText(product.unit, product.available) }) : t('cart.sold_out'),
    }));
  }
  const remove = element('button', { className: 'link-button remove', text: t('cart.remove'), attributes: { type: 'button', 'aria-label': t('cart.remove_named', { name }) } });
  remove.addEventListener('click', () => draw(removeFromCart(line.product_id)));
  return element('li', { className: `cart-line${line.gone ? ' gone' : ''}`, attributes: { 'data-product-id': String(line.product_id) } }, [
    element('a', { attributes: { href: `/product.html?id=${line.product_id}` } }, [
      element('img', { attributes: { src: imageOf(product), alt: '', loading: 'lazy' } }),
    ]),
    element('div', { className: 'cart-line-body' }, [
      element('h2', { text: name }),
      element('p', { className: 'village-tag', text: `${product.village_name ?? ''} · ${priceLabel(product)}` }),
      ...notes,
      element('div', { className: 'cart-line-actions' }, [
        ...(line.gone ? [] : [stepper(product.unit, line.quantity, (q) => draw(setQuantity(line.product_id, q)), { label: name })]),
        element('strong', { className: 'price line-total', text: line.gone ? '' : formatFen(lineFen(product, line.quantity)) }),
      ]),
      remove,
    ]),
  ]);
}

function draw(cart = loadCart()) {
  list.replaceChildren(...cart.lines.map(lineItem));
  const empty = cart.lines.length === 0;
  document.querySelector('#cart-empty').hidden = !empty;
  document.querySelector('#cart-summary').hidden = empty;
  document.querySelector('#cart-subtotal').textContent = formatFen(cartSubtotal(cart));
  const blocked = cart.lines.some((l) => l.gone);
  const checkout = document.querySelector('#to-checkout');
  checkout.classList.toggle('disabled', blocked);
  checkout.setAttribute('aria-disabled', String(blocked));
  const message = document.querySelector('#cart-message');
  message.textContent = blocked ? t('cart.remove_gone') : '';
  message.hidden = !blocked;
}

document.querySelector('#to-checkout').addEventListener('click', (event) => {
  if (event.currentTarget.getAttribute('aria-disabled') === 'true') event.preventDefault();
});
window.addEventListener('storage', () => draw());

renderStoreFrame(() => draw());
draw();
refreshCart((id) => api(`/api/v1/products/${encodeURIComponent(id)}`)).then(draw);
