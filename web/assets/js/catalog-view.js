// Pieces the storefront and admin share: prices, placeholders, product cards.
import { formatFen } from './api.js';
import { localName, t } from './i18n.js';

/** Price per 500 g of a per-kilogram price, rounded half up to the fen like a weighed line. */
export function perJinFen(perKgFen) {
  return Math.floor((perKgFen * 500 + 500) / 1000);
}

/** "¥12.30 / 件" or "¥180.00 / 斤（500 克）". */
export function priceLabel(product) {
  return product.unit === 'g'
    ? `${formatFen(perJinFen(product.price_fen))} ${t('product.per_jin')}`
    : `${formatFen(product.price_fen)} ${t('product.per_piece')}`;
}

const palette = ['#2f6b4f', '#b2322a', '#c99a2e', '#3d5a80', '#7a4b8c', '#8a5a2b', '#2a7f86'];

/** An SVG data URL with the product's first character, for products without a photo. */
export function placeholderImage(product) {
  const color = palette[(product.category_id ?? product.id ?? 0) % palette.length];
  const letter = [...(product.name ?? '?')][0];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300">` +
    `<rect width="400" height="300" fill="${color}"/>` +
    `<circle cx="200" cy="150" r="95" fill="rgba(255,255,255,0.15)"/>` +
    `<text x="200" y="150" font-size="110" fill="#fff" text-anchor="middle" dominant-baseline="central" ` +
    `font-family="Noto Sans CJK SC, sans-serif">${letter.replace(/[<&>"]/g, '')}</text></svg>`;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export function imageOf(product) {
  return product.image_url ?? placeholderImage(product);
}

/** Creates an element with text content (never HTML: names come from users). */
export function element(tag, { className, text, attributes = {} } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** A product card linking to its page. */
export function productCard(product) {
  return element('a', { className: 'product-card', attributes: { href: `/product.html?id=${product.id}` } }, [
    element('img', { attributes: { src: imageOf(product), alt: localName(product), loading: 'lazy' } }),
    element('div', { className: 'product-card-body' }, [
      element('h3', { text: localName(product) }),
      element('p', { className: 'village-tag', text: product.village_name }),
      element('p', { className: 'price', text: priceLabel(product) }),
    ]),
  ]);
}
