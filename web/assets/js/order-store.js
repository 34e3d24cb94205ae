// The customer's side of online orders kept in this browser: the cart (with the checkout's
// Idempotency-Key), "my orders", and the rules the pages check before the server does.
import { weighedFen } from './pos-cart.js';

const cartKey = 'yz_cart';
const ordersKey = 'yz_my_orders';
const contactKey = 'yz_contact';

/** Grams a weighed product is bought in: a step of 半斤 (250 g), at most 10 kg a line. */
export const gramStep = 250;
const limits = { piece: { step: 1, min: 1, max: 99 }, g: { step: gramStep, min: gramStep, max: 10000 } };

/** Step, least and most for a product's unit: pieces, or grams for a weighed product. */
export function quantityLimits(unit) {
  return limits[unit] ?? limits.piece;
}

function read(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  localStorage.setItem(key, JSON.stringify(value));
}

/** The cart: `lines` [{product_id, quantity, product: what the page last saw}], `attempt`. */
export function loadCart() {
  const cart = read(cartKey, {});
  return { lines: Array.isArray(cart.lines) ? cart.lines : [], attempt: cart.attempt ?? null };
}

export function saveCart(cart) {
  write(cartKey, cart);
  document.dispatchEvent(new CustomEvent('yz-cart'));
}

/** What a cart line remembers of its product, so the cart draws before the prices come back. */
function snapshot(product) {
  const { id, name, name_en = null, unit, price_fen, village_name, image_url = null } = product;
  return { id, name, name_en, unit, price_fen, village_name, image_url, available: product.available ?? null };
}

/** Adds `quantity` of `product` to the saved cart (one line per product); returns the cart. */
export function addToCart(product, quantity) {
  const cart = loadCart();
  const { max } = quantityLimits(product.unit);
  const line = cart.lines.find((l) => l.product_id === product.id);
  if (line) {
    line.quantity = Math.min(max, line.quantity + quantity);
    line.product = snapshot(product);
  } else {
    cart.lines.push({ product_id: product.id, quantity: Math.min(max, quantity), product: snapshot(product) });
  }
  saveCart(cart);
  return cart;
}

/** Sets a line's quantity within its limits (0 removes it); returns the cart. */
export function setQuantity(productId, quantity) {
  const cart = loadCart();
  const line = cart.lines.find((l) => l.product_id === productId);
  if (line) {
    const { min, max } = quantityLimits(line.product.unit);
    if (quantity <= 0) cart.lines = cart.lines.filter((l) => l !== line);
    else line.quantity = Math.max(min, Math.min(max, quantity));
  }
  saveCart(cart);
  return cart;
}

export function removeFromCart(productId) {
  return setQuantity(productId, 0);
}

/** How many things are in the cart: pieces, and one for each weighed line. */
export function cartCount(cart = loadCart()) {
  return cart.lines.reduce((sum, l) => sum + (l.product.unit === 'g' ? 1 : l.quantity), 0);
}

/** A line's amount as the server prices it: price × pieces, or per kg × grams ÷ 1000 half up. */
export function lineFen(product, quantity) {
  return product.unit === 'g' ? weighedFen(product.price_fen, quantity) : product.price_fen * quantity;
}

/**
 * Fetches every line's product again (live price, still sold, availability when the catalog
 * gives it). Marks lines `gone` (404) and `price_was` (the price the cart showed before); saves.
 */
export async function refreshCart(fetchProduct) {
  const cart = loadCart();
  await Promise.all(cart.lines.map(async (line) => {
    try {
      const product = await fetchProduct(line.product_id);
      if (product.active === false || product.online === false) throw Object.assign(new Error(), { status: 404 });
      if (product.price_fen !== line.product.price_fen) line.price_was = line.product.price_fen;
      else delete line.price_was;
      line.product = snapshot(product);
      line.gone = false;
    } catch (error) {
      if (error.status === 404) line.gone = true;  // else keep what we had: the network may be down
    }
  }));
  saveCart(cart);
  return cart;
}

/** The subtotal of the lines that can be ordered. */
export function cartSubtotal(cart) {
  return cart.lines.filter((l) => !l.gone).reduce((sum, l) => sum + lineFen(l.product, l.quantity), 0);
}

/** The station's delivery fee: nothing for pickup; the flat fee unless the subtotal reaches free_above. */
export function deliveryFee(config, subtotal, fulfilment) {
  if (fulfilment !== 'delivery' || !config?.delivery) return 0;
  const { flat_fee_fen: flat = 0, free_above_fen: freeAbove = null } = config.delivery;
  return freeAbove !== null && freeAbove !== undefined && subtotal >= freeAbove ? 0 : flat;
}

/**
 * A mainland mobile number as its 11 digits, or null: spaces and dashes ignored, "+86"/"86"
 * in front allowed, then 1[3-9] and nine digits (the server's normalize_mobile_number).
 */
export function normalizeMobile(text) {
  let digits = halfWidth(text).replace(/[\s-]/g, '');
  const plus = digits.startsWith('+');
  if (plus) digits = digits.slice(1);
  if (!/^\d+$/.test(digits)) return null;
  if ((plus || digits.length === 13) && digits.startsWith('86')) digits = digits.slice(2);
  else if (plus) return null;
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}

/**
 * Full-width digits, plus, hyphen and space (what a Chinese keyboard types) as their ASCII
 * forms: "１３８ ００１３ ８０００" is a mobile number, "４８２９１３" a pickup code.
 */
export function halfWidth(text) {
  return String(text ?? '')
    .replace(/[\uFF10-\uFF19\uFF0B\uFF0D]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/\u3000/g, ' ');
}

/** A version-4 UUID; crypto.randomUUID is missing outside secure contexts (plain http on a LAN). */
export function newUuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The Idempotency-Key for sending `body`: the saved attempt's key when the body is the same
 * (a retry after a network error must not make a second order), a new one when anything changed.
 */
export function keyForAttempt(body) {
  const cart = loadCart();
  const text = JSON.stringify(body);
  if (cart.attempt?.body === text) return cart.attempt.key;
  cart.attempt = { key: newUuid(), body: text };
  saveCart(cart);
  return cart.attempt.key;
}

export function clearCart() {
  saveCart({ lines: [], attempt: null });
}

/**
 * The payment channel for this device: inside WeChat (MicroMessenger) JSAPI for WeChat Pay and
 * the QR for Alipay (WeChat blocks Alipay's pages); other phones WeChat H5 or Alipay wap;
 * desktops a QR to scan. Null for cash on pickup.
 */
export function paymentChannel(payment, userAgent = navigator.userAgent) {
  if (payment !== 'wechat' && payment !== 'alipay') return null;
  const inWeChat = /MicroMessenger/i.test(userAgent);
  const phone = inWeChat || isPhone(userAgent);
  if (payment === 'wechat') return inWeChat ? 'wechat_jsapi' : phone ? 'wechat_h5' : 'wechat_native';
  return phone && !inWeChat ? 'alipay_wap' : 'alipay_qr';
}

/**
 * What to ask for when the server refuses `channel`: JSAPI needs the customer's WeChat sign-in
 * (openid), which the station does not do yet, so inside WeChat the QR is paid by long-pressing
 * it. Null when there is nothing else to try.
 */
export function fallbackChannel(channel) {
  return channel === 'wechat_jsapi' ? 'wechat_native' : null;
}

export function isPhone(userAgent = navigator.userAgent) {
  return /Android|iPhone|iPod|iPad|Mobile|HarmonyOS|MicroMessenger/i.test(userAgent);
}

export function inWeChat(userAgent = navigator.userAgent) {
  return /MicroMessenger/i.test(userAgent);
}

/** "My orders" on this device, newest first: [{number, token, created_at, total_fen, state}]. */
export function loadMyOrders() {
  const orders = read(ordersKey, []);
  return Array.isArray(orders) ? orders : [];
}

/** Adds or updates an order in "my orders" (the token is kept from the first answer). */
export function rememberOrder(order, token) {
  const orders = loadMyOrders();
  const existing = orders.find((o) => o.number === order.number);
  const entry = {
    number: order.number,
    token: token ?? existing?.token,
    created_at: order.created_at ?? existing?.created_at ?? new Date().toISOString(),
    total_fen: order.total_fen,
    state: order.state,
    fulfilment: order.fulfilment,
    summary: (order.lines ?? []).map((l) => l.name).join('、') || existing?.summary || '',
  };
  // A new order goes first; one already listed keeps its place.
  write(ordersKey, existing ? orders.map((o) => (o === existing ? entry : o)) : [entry, ...orders]);
}

export function forgetOrder(number) {
  write(ordersKey, loadMyOrders().filter((o) => o.number !== number));
}

/** Name and phone (and address) typed last time, to fill the next checkout. */
export function loadContact() {
  return read(contactKey, {});
}

export function saveContact(contact) {
  write(contactKey, contact);
}
