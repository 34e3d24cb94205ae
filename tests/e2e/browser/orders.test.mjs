// Online orders as a customer does them on a phone (390×844, an iPhone's browser): browse, cart
// (kept across a reload), checkout with a wrong mobile number corrected beside its field; the
// checkout's answers to every error the server gives and the payment and tracking pages, with the
// orders API answered by the test (page.route) so each answer is shown on demand; the staff queue
// likewise. Then the whole flow against the real server and the payment simulator run.sh starts
// (PAYSIM_URL): pay on the simulator's page, the tracking page turns paid by itself, staff pick,
// ready and hand over with the pickup code; cash on pickup, handed over once a shift is open;
// Alipay's return to the shop; and an unpaid order expiring and freeing its stock.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { deliveryFee, fallbackChannel, halfWidth, lineFen, normalizeMobile, paymentChannel } from '../../../web/assets/js/order-store.js';

const base = process.env.BASE_URL;
const paysim = process.env.PAYSIM_URL;
const password = process.env.DEMO_PASSWORD;
const artifacts = process.env.ARTIFACTS;
const phone = { width: 390, height: 844 };
const iphone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const android = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36';
const desktop = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const weChat = `${android} MicroMessenger/8.0.49.2600(0x28003133) NetType/WIFI Language/zh_CN`;

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => browser?.close());

test('the checkout rules the page checks before the server: mobile numbers, channel, fee, line amounts', () => {
  assert.equal(normalizeMobile('138 0013 8000'), '13800138000');
  assert.equal(normalizeMobile('+86 138-0013-8000'), '13800138000');
  assert.equal(normalizeMobile('8613800138000'), '13800138000');
  assert.equal(normalizeMobile('12345678901'), null);   // 1 then 2: no mainland mobile
  assert.equal(normalizeMobile('+1 3800138000'), null);
  assert.equal(normalizeMobile('1380013800'), null);    // ten digits
  assert.equal(normalizeMobile('138OO138000'), null);
  // What a Chinese keyboard types: full-width digits, plus, hyphen and space.
  assert.equal(normalizeMobile('１３８００１３８０００'), '13800138000');
  assert.equal(normalizeMobile('＋８６\u3000１３８－００１３－８０００'), '13800138000');
  assert.equal(halfWidth('４８２９１３'), '482913');
  const desktop = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36';
  assert.deepEqual([paymentChannel('wechat', weChat), paymentChannel('wechat', android), paymentChannel('wechat', desktop)],
                   ['wechat_jsapi', 'wechat_h5', 'wechat_native']);
  assert.deepEqual([paymentChannel('alipay', iphone), paymentChannel('alipay', desktop), paymentChannel('alipay', weChat)],
                   ['alipay_wap', 'alipay_qr', 'alipay_qr']);
  assert.equal(fallbackChannel('wechat_jsapi'), 'wechat_native', 'JSAPI needs a WeChat sign-in: the QR instead');
  assert.equal(fallbackChannel('wechat_h5'), null);
  assert.equal(paymentChannel('cash_on_pickup', iphone), null);
  const rule = { delivery: { flat_fee_fen: 800, free_above_fen: 9900, areas: [] } };
  assert.equal(deliveryFee(rule, 9899, 'delivery'), 800);
  assert.equal(deliveryFee(rule, 9900, 'delivery'), 0);
  assert.equal(deliveryFee(rule, 100, 'pickup'), 0);
  assert.equal(deliveryFee({ delivery: { flat_fee_fen: 800, free_above_fen: null } }, 1e6, 'delivery'), 800);
  assert.equal(lineFen({ unit: 'g', price_fen: 3333 }, 15), 50);  // 49.995 → 50, as the counter rounds
  assert.equal(lineFen({ unit: 'piece', price_fen: 2500 }, 3), 7500);
});

async function newPage({ viewport = phone, userAgent = iphone } = {}) {
  const context = await browser.newContext({ viewport, userAgent, locale: 'zh-CN', hasTouch: viewport === phone });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  return { context, page, problems };
}

/** From the home page to the product named `name`, then adds it `plus` steps above the least. */
async function addFromProductPage(page, name, plus = 0) {
  await page.goto(`${base}/products.html?q=${encodeURIComponent(name)}`);
  await page.locator('#products .product-card', { hasText: name }).first().click();
  await page.waitForURL(/product\.html\?id=\d+/);
  const add = page.locator('#add-to-cart[data-ready]');
  await add.waitFor();
  for (let i = 0; i < plus; i++) await page.locator('.add-to-cart').getByRole('button', { name: /^增加/ }).click();
  await add.click();
  await page.getByText('已加入购物车。').waitFor();
}

test('the product page says how little is left and lets no more than that into the stepper; nothing left is 已售完', async () => {
  const { page, problems } = await newPage();
  let left = 2;
  await page.route(/\/api\/v1\/products\/\d+\/availability$/, (route) =>
    json(route, 200, { product_id: Number(route.request().url().match(/products\/(\d+)/)[1]), available: left }));
  await page.goto(`${base}/products.html?q=${encodeURIComponent('土笋冻')}`);
  await page.locator('#products .product-card', { hasText: '土笋冻' }).first().click();
  await page.waitForURL(/product\.html\?id=\d+/);
  const add = page.locator('#add-to-cart[data-ready]');
  await add.waitFor();
  assert.equal(await page.locator('.low-left').textContent(), '仅剩 2 件');
  const more = page.locator('.add-to-cart').getByRole('button', { name: /^增加/ });
  await more.click();
  assert.equal(await page.locator('.add-to-cart .step-value').textContent(), '2 件');
  assert.equal(await more.isDisabled(), true, 'no more than is left');
  left = 0;
  await page.reload();
  await add.waitFor();
  assert.equal(await add.textContent(), '已售完');
  assert.equal(await add.isDisabled(), true);
  left = 500;
  await page.reload();
  await add.waitFor();
  assert.equal(await page.locator('.low-left').count(), 0, 'plenty left: nothing said');
  assert.deepEqual(problems, []);
});

test('browse, add to the cart, reload keeps it, checkout shows a wrong mobile number beside the field', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${base}/`);
  await page.locator('#featured .product-card', { hasText: '土笋冻' }).click();
  await page.waitForURL(/product\.html\?id=\d+/);
  const add = page.locator('#add-to-cart[data-ready]');
  await add.waitFor();
  assert.equal(await add.textContent(), '加入购物车');
  const box = await add.boundingBox();
  assert.ok(box.height >= 44, `a big touch target (${box.height}px)`);
  await page.getByRole('button', { name: /^增加/ }).click();
  assert.equal(await page.locator('.add-to-cart .step-value').textContent(), '2 件');
  await add.click();
  await page.locator('#cart-link', { hasText: '购物车（2）' }).waitFor();
  assert.equal(await page.locator('#site-header a[href="/cart.html"]').count(), 1, 'one cart link in the header');
  await addFromProductPage(page, '瑶前铁观音');  // weighed: 250 g at ¥360/kg = ¥90.00

  await page.goto(`${base}/cart.html`);
  await page.locator('.cart-line').nth(1).waitFor();
  await page.reload();
  const lines = page.locator('.cart-line');
  await lines.nth(1).waitFor();
  assert.equal(await lines.count(), 2, 'the cart survives a reload');
  assert.equal(await lines.nth(0).locator('.line-total').textContent(), '¥50.00');
  assert.equal(await lines.nth(1).locator('.step-value').textContent(), '250 克');
  assert.equal(await lines.nth(1).locator('.line-total').textContent(), '¥90.00');
  assert.equal(await page.locator('#cart-subtotal').textContent(), '¥140.00');
  await lines.nth(1).getByRole('button', { name: /^增加/ }).click();
  assert.equal(await lines.nth(1).locator('.line-total').textContent(), '¥180.00');
  await lines.nth(1).getByRole('button', { name: /^减少/ }).click();
  await page.screenshot({ path: `${artifacts}/orders-cart.png`, fullPage: true });

  await page.getByRole('link', { name: '去结算' }).click();
  await page.waitForURL(/checkout\.html/);
  await page.locator('#sum-total', { hasText: '¥140.00' }).waitFor();
  await page.getByLabel('姓名').fill('林小梅');
  await page.getByLabel('手机号').fill('12345678901');
  await page.getByRole('button', { name: '提交订单' }).click();
  const phoneError = page.locator('.field-error[data-for="contact.phone"]');
  await phoneError.filter({ hasText: '请填写 11 位大陆手机号' }).waitFor();
  assert.equal(await page.getByLabel('手机号').getAttribute('aria-invalid'), 'true');
  const errorBox = await phoneError.boundingBox();
  const inputBox = await page.getByLabel('手机号').boundingBox();
  assert.ok(errorBox.y > inputBox.y && errorBox.y - (inputBox.y + inputBox.height) < 40, 'the error sits right under the field');
  await page.screenshot({ path: `${artifacts}/orders-checkout-phone-error.png`, fullPage: true });

  // A number one digit short, then on to the name: the error shows on leaving the field, and
  // what is typed next goes where it was typed (the focus is not taken back).
  await page.getByLabel('手机号').fill('1380013800');
  await page.getByLabel('姓名').click();
  await phoneError.filter({ hasText: '请填写 11 位大陆手机号' }).waitFor();
  await page.keyboard.type('林');
  assert.equal(await page.getByLabel('手机号').inputValue(), '1380013800');
  assert.equal(await page.getByLabel('姓名').inputValue(), '林小梅林');
  await page.getByLabel('姓名').fill('林小梅');

  await page.getByLabel('手机号').fill('+86 138-0013-8000');
  assert.equal(await phoneError.textContent(), '', 'fixed: the error goes');
  // A note longer than the limit stops there, and the counter says so.
  const note = page.locator('#note');
  assert.equal(await page.locator('#note + .char-counter').textContent(), '0/200');
  await note.fill('请'.repeat(250));
  assert.equal((await note.inputValue()).length, 200);
  assert.equal(await page.locator('#note + .char-counter').textContent(), '200/200');
  assert.match(await page.locator('#note + .char-counter').getAttribute('class'), /full/);
  await note.fill('');
  assert.equal(await page.getByLabel('手机号').getAttribute('aria-invalid'), null);
  // Delivery is paid online: cash on pickup is not offered with it.
  await page.locator('label.choice', { hasText: '送货上门' }).click();
  await page.locator('#delivery-info', { hasText: '送货上门需要在线付款' }).waitFor();
  assert.equal(await page.locator('[name=payment][value=cash_on_pickup]').isDisabled(), true);
  await page.locator('label.choice', { hasText: '到驿站自提' }).click();
  // English too.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'Place order' }).waitFor();
  await page.getByRole('button', { name: '中文' }).click();
  assert.deepEqual(problems, []);
});

// --- the pages against the server's answers, played by the test ---------------------------------

const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><rect width="7" height="7"/></svg>';
const h5Payment = {
  provider: 'wechat', channel: 'wechat_h5', state: 'started', qr_svg: null, qr_content: null,
  redirect_url: `${base}/paysim-h5?prepay_id=wx1`, jsapi: null,
};

function contractOrder(overrides = {}) {
  return {
    number: 'W20261202-0007', state: 'pending_payment', fulfilment: 'pickup', payment_method: 'wechat',
    contact: { name: '林小梅', phone: '13800138000' }, address: null, note: '',
    subtotal_fen: 5000, delivery_fee_fen: 0, total_fen: 5000, paid_fen: 0, refunded_fen: 0,
    created_at: '2026-12-02T04:00:00Z', expires_at: new Date(Date.now() + 30 * 60000).toISOString(),
    pickup_code: null, carrier: null, waybill: null,
    lines: [{ product_id: 22, name: '兴胜土笋冻（6个装）', village_name: '兴胜村', unit: 'piece', quantity: 2, unit_price_fen: 2500, gross_fen: 5000 }],
    history: [{ state: 'pending_payment', at: '2026-12-02T04:00:00Z' }],
    payment: h5Payment,
    ...overrides,
  };
}

const config = {
  delivery: { flat_fee_fen: 800, free_above_fen: 9900, areas: ['安海镇', '东石镇'] },
  pickup: { address: '晋江市安海镇成功街 1 号', hours: '每天 8:30–20:30' },
  payments: ['wechat', 'alipay', 'cash_on_pickup'],
  unpaid_minutes: 30,
};

/** The staff orders page, signed in as `username` through the login page it sends one to. */
async function openStaffOrders(page, username) {
  await page.goto(`${base}/admin/orders.html`);
  await page.waitForURL(/login\.html\?next=/);
  await page.getByLabel('账号').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/admin\/orders\.html$/);
}

function json(route, status, body) {
  return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
}

test('checkout against the server\'s answers: same key after a network error, 422 beside its field, price_changed confirmed, then the payment started and tracking', async () => {
  const { page, problems } = await newPage();
  const posts = [];
  const payments = [];
  // Checkout answers the order unpaid; the order page then starts the payment.
  let order = contractOrder({ payment: null });
  await page.route(/\/api\/v1\/orders(\/|\?|$)/, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname === '/api/v1/orders/config') return json(route, 200, config);
    if (request.method() === 'POST' && url.pathname === '/api/v1/orders') {
      const body = request.postDataJSON();
      posts.push({ key: request.headers()['idempotency-key'], csrf: request.headers()['x-requested-with'], body });
      switch (posts.length) {
        case 1: return route.abort('connectionreset');
        case 2: return json(route, 422, { error: { code: 'invalid', message: '不在配送范围内 / we do not deliver to this area', details: { field: 'address.area', areas: '安海镇、东石镇' } } });
        case 3: return json(route, 409, { error: { code: 'out_of_stock', message: 'short', details: { product_id: '22', available: '1' } } });
        case 4: return json(route, 409, { error: { code: 'price_changed', message: 'changed', details: { total_fen: '3500', expected_total_fen: '3300' } } });
        default: return json(route, 201, { ...order, token: 'tok-abc' });
      }
    }
    if (request.method() === 'POST' && url.pathname === `/api/v1/orders/${order.number}/payment`) {
      payments.push({ token: url.searchParams.get('token'), csrf: request.headers()['x-requested-with'], body: request.postDataJSON() });
      order = { ...order, payment: h5Payment };
      return json(route, 200, order);
    }
    if (url.pathname === `/api/v1/orders/${order.number}`) {
      assert.equal(url.searchParams.get('token'), 'tok-abc');
      return json(route, 200, order);
    }
    return route.continue();
  });

  // The product's price goes up once the server has said price_changed.
  await page.route(/\/api\/v1\/products\/22$/, async (route) => {
    const product = await (await route.fetch()).json();
    return json(route, 200, posts.length >= 4 ? { ...product, price_fen: 2700 } : product);
  });
  await addFromProductPage(page, '土笋冻', 1);
  await page.goto(`${base}/checkout.html`);
  await page.locator('#pickup-info', { hasText: '成功街' }).waitFor();
  await page.getByLabel('姓名').fill('林小梅');
  await page.getByLabel('手机号').fill('138 0013 8000');
  await page.locator('label.choice', { hasText: '送货上门' }).click();
  assert.equal(await page.locator('[name=payment][value=cash_on_pickup]').isDisabled(), true, 'cash only for pickup');
  await page.locator('#delivery-info', { hasText: '运费 ¥8.00，满 ¥99.00 包邮' }).waitFor();
  assert.match(await page.locator('#delivery-info').textContent(), /只送安海镇、东石镇，其他地区请选到驿站自提/);
  await page.getByLabel('区域').selectOption('东石镇');
  await page.getByLabel('详细地址').fill('东石镇白沙村 12 号');
  assert.equal(await page.locator('#sum-total').textContent(), '¥58.00');

  // 1: the network drops; 2: the retry carries the same key, and the 422 lands beside the area.
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText('不会重复下单').waitFor();
  await page.getByRole('button', { name: '提交订单' }).click();
  // The refusal lists the areas served, in Chinese only (not the server's "中文 / English").
  const areaError = page.locator('.field-error[data-for="address.area"]');
  await areaError.filter({ hasText: '暂不配送到该区域：可送安海镇、东石镇，或选到驿站自提。' }).waitFor();
  assert.doesNotMatch(await areaError.textContent(), /deliver/);
  assert.equal(posts[1].key, posts[0].key, 'a retry after a network error re-sends the key');
  assert.match(posts[0].key, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(posts[0].csrf, 'yizhan');
  assert.deepEqual(posts[0].body, {
    lines: [{ product_id: 22, quantity: 2 }], fulfilment: 'delivery',
    contact: { name: '林小梅', phone: '13800138000' }, note: '', payment: 'wechat',
    expected_total_fen: 5800, address: { area: '东石镇', detail: '东石镇白沙村 12 号' },
  });

  // 3: out of stock is shown on its line, with a way to take what is left.
  await page.getByLabel('区域').selectOption('安海镇');
  await page.getByRole('button', { name: '提交订单' }).click();
  const lineError = page.locator('.field-error[data-for="lines[0]"]');
  await lineError.filter({ hasText: '只剩 1 件' }).waitFor();
  assert.notEqual(posts[2].key, posts[1].key, 'a changed order is a new attempt');
  await lineError.getByRole('button', { name: '改为 1 件' }).click();
  assert.equal(await page.locator('#sum-total').textContent(), '¥33.00');

  // 4: the price changed: the new total is shown and the customer confirms it; 5: 201.
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.locator('#price-changed', { hasText: '合计由 ¥33.00 变为 ¥35.00' }).waitFor();
  assert.equal(await page.locator('#summary-lines .num').textContent(), '¥27.00', 'the line shows the new price');
  await page.screenshot({ path: `${artifacts}/orders-price-changed.png`, fullPage: true });
  await page.getByRole('button', { name: '按新价格提交' }).click();
  await page.waitForURL(/order\.html\?no=W20261202-0007&t=tok-abc/);
  assert.equal(posts[4].body.expected_total_fen, 3500);

  // The payment: started by the page for a phone browser (WeChat H5), coming back here afterwards.
  await page.locator('#order-state', { hasText: '待支付' }).waitFor();
  const pay = page.locator('#pay-redirect');
  await pay.waitFor();
  assert.deepEqual(payments, [{ token: 'tok-abc', csrf: 'yizhan', body: { channel: 'wechat_h5' } }]);
  assert.equal(await pay.textContent(), '去微信付款');
  const href = new URL(await pay.getAttribute('href'));
  assert.equal(href.searchParams.get('prepay_id'), 'wx1');
  assert.match(href.searchParams.get('redirect_url'), /\/order\.html\?no=/);
  assert.equal(await page.locator('#pay-qr').count(), 0, 'no QR on a phone that has a button');
  assert.match(await page.locator('#pay-countdown').textContent(), /请在 (29|30):\d\d 内完成支付/);
  assert.equal(await page.locator('.step.current .step-name').textContent(), '待支付');
  await page.getByRole('button', { name: '取消订单' }).waitFor();
  await page.screenshot({ path: `${artifacts}/orders-pay-phone.png`, fullPage: true });

  // Paid, then ready: the page asks again by itself and shows the pickup code big.
  order = contractOrder({
    state: 'ready', payment: null, pickup_code: '482913', expires_at: null,
    history: [{ state: 'pending_payment', at: '2026-12-02T04:00:00Z' }, { state: 'paid', at: '2026-12-02T04:01:00Z' },
              { state: 'picking', at: '2026-12-02T04:10:00Z' }, { state: 'ready', at: '2026-12-02T04:20:00Z' }],
  });
  await page.locator('#order-state', { hasText: '待取货' }).waitFor({ timeout: 8000 });
  assert.equal(payments.length, 1, 'the payment is started once, not on every poll');
  assert.equal(await page.locator('#payment-box').isHidden(), true);
  assert.equal(await page.locator('#pickup-code').textContent(), '482913');
  assert.match(await page.locator('#pickup-box').textContent(), /成功街 1 号.*8:30–20:30/);
  assert.equal(await page.locator('.step.done').count(), 3);
  assert.equal(await page.getByRole('button', { name: '取消订单' }).isHidden(), true, 'no cancel once paid');
  await page.screenshot({ path: `${artifacts}/orders-ready.png`, fullPage: true });

  await page.goto(`${base}/orders.html`);
  const mine = page.locator('.my-order', { hasText: 'W20261202-0007' });
  await mine.waitFor();
  assert.match(await mine.textContent(), /待取货.*¥50\.00/);
  // Still open (its pickup code is here only): removing it asks a second tap.
  const forget = mine.getByRole('button', { name: '从本机移除' });
  assert.ok((await forget.boundingBox()).height >= 44, 'a touch target');
  await forget.click();
  await mine.getByRole('button', { name: /再点一次确认移除/ }).waitFor();
  assert.equal(await page.locator('.my-order').count(), 1, 'not gone after one tap');
  await mine.getByRole('button', { name: /再点一次确认移除/ }).click();
  await page.locator('#orders-empty').waitFor();
  assert.deepEqual(problems, []);
});

test('a desktop shows the QR; a customer cancels before paying', async () => {
  const { page, problems } = await newPage({ viewport: { width: 1280, height: 900 }, userAgent: undefined });
  let order = contractOrder({ payment: { provider: 'alipay', channel: 'alipay_qr', qr_svg: svg, qr_content: 'https://qr.alipay.com/x', redirect_url: null, jsapi: null }, payment_method: 'alipay' });
  let cancelled = false;
  await page.route(/\/api\/v1\/orders\//, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/api/v1/orders/config') return json(route, 200, config);
    if (url.pathname.endsWith('/cancel')) {
      cancelled = true;
      order = { ...order, state: 'cancelled', payment: null, history: [...order.history, { state: 'cancelled', at: '2026-12-02T04:05:00Z' }] };
    }
    return json(route, 200, order);
  });
  await page.goto(`${base}/order.html?no=W20261202-0007&t=tok-abc`);
  const qr = page.locator('#pay-qr');
  await qr.waitFor();
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR is drawn');
  assert.match(await page.locator('#payment-box').textContent(), /请用支付宝扫一扫付款/);
  await page.getByRole('button', { name: '取消订单' }).click();
  await page.getByRole('button', { name: '确定取消' }).click();
  await page.locator('#order-state', { hasText: '已取消' }).waitFor();
  assert.ok(cancelled);
  assert.equal(await page.locator('.step.ended .step-name').textContent(), '已取消');
  assert.equal(await page.locator('#payment-box').isHidden(), true);
  assert.deepEqual(problems, []);
});

test('inside WeChat at a station without WeChat sign-in: JSAPI is refused, so the page starts the QR and says how to pay it; a failed start offers a retry', async () => {
  const { page, problems } = await newPage({ userAgent: weChat });
  const channels = [];
  let order = contractOrder({ payment: null });
  await page.route(/\/api\/v1\/orders\//, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname === '/api/v1/orders/config') return json(route, 200, config);
    if (url.pathname.endsWith('/payment')) {
      const { channel } = request.postDataJSON();
      channels.push(channel);
      if (channel === 'wechat_jsapi') {
        return json(route, 422, { error: { code: 'invalid', message: '公众号支付需要微信登录 / JSAPI needs a WeChat sign-in', details: { field: 'channel' } } });
      }
      if (channels.length === 2) {
        return json(route, 503, { error: { code: 'unavailable', message: '支付渠道暂不可用，请稍后再试 / the payment provider did not answer: try again', details: {} } });
      }
      order = { ...order, payment: { provider: 'wechat', channel, state: 'started', qr_svg: svg, qr_content: 'weixin://wxpay/bizpayurl?pr=abc', redirect_url: null, jsapi: null } };
    }
    return json(route, 200, order);
  });
  await page.goto(`${base}/order.html?no=W20261202-0007&t=tok-abc`);
  await page.locator('#payment-box', { hasText: '暂时无法发起付款' }).waitFor();
  await page.getByRole('button', { name: '重新发起付款' }).click();
  await page.locator('#pay-qr').waitFor();
  assert.deepEqual(channels, ['wechat_jsapi', 'wechat_native', 'wechat_jsapi', 'wechat_native']);
  assert.match(await page.locator('#pay-wechat-hint').textContent(), /长按下面的二维码/);
  assert.equal(await page.locator('#pay-redirect').count(), 0);
  await page.screenshot({ path: `${artifacts}/orders-pay-in-wechat.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test('staff queue against the server\'s answers: hand over asks the pickup code, a wrong one is shown beside it, cash needs an open shift; a refused cancel shows the server\'s reason; pick list prints', async () => {
  const { page, problems } = await newPage({ viewport: { width: 1280, height: 900 }, userAgent: undefined });
  const ready = contractOrder({ state: 'ready', payment: null, pickup_code: null, expires_at: null });
  const paid = contractOrder({ number: 'W20261202-0008', state: 'paid', payment: null, fulfilment: 'delivery', address: { area: '安海镇', detail: '西垵村 3 号' }, delivery_fee_fen: 800, total_fen: 5800, paid_fen: 5800 });
  ready.payment_method = 'cash_on_pickup';
  // Cash on pickup, confirmed: on its own tab, not the one the page opens on, still to pick.
  const confirmed = contractOrder({ number: 'W20261202-0009', state: 'confirmed', payment: null, created_at: '2026-12-02T03:00:00Z' });
  confirmed.payment_method = 'cash_on_pickup';
  const transitions = [];
  let cancels = 0;
  await page.route('**/api/v1/pos/shifts/current', (route) => json(route, 200, { id: 1, state: 'open' }));
  await page.route(/\/api\/v1\/orders(\/|\?|$)/, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (request.method() === 'POST') {
      const body = request.postDataJSON();
      transitions.push([url.pathname, body]);
      if (url.pathname.endsWith('/cancel')) {
        cancels += 1;
        if (cancels === 1) return json(route, 409, { error: { code: 'invalid_state', message: '已付款的订单需先退款 / refund the payment first', details: { state: 'paid' } } });
        // The provider refused the cancel's refund: still paid, flagged for a person.
        paid.attention = '退款失败，请处理 / refund W20261202-0008-R1 failed: NOT_ENOUGH';
        return json(route, 402, { error: { code: 'payment_declined', message: '支付渠道拒绝了退款，订单仍为已付款；可改为现金退款 / the provider refused the refund', details: { field: 'refund', out_refund_no: 'W20261202-0008-R1', provider: 'wechat', provider_code: 'refused', reason: 'NOT_ENOUGH' } } });
      }
      if (body.pickup_code === '000000') {
        return json(route, 422, { error: { code: 'invalid', message: 'wrong pickup code', details: { field: 'pickup_code' } } });
      }
      if (body.pickup_code === '111111') {
        return json(route, 409, { error: { code: 'no_open_shift', message: '请先开班再收款 / open a shift to take the cash', details: {} } });
      }
      ready.state = 'completed';
      return json(route, 200, ready);
    }
    const state = url.searchParams.get('state');
    const items = [ready, paid, confirmed].filter((o) => !state || o.state === state);
    return json(route, 200, { items, page: 1, pages: 1 });
  });
  await openStaffOrders(page, 'cashier1');
  await page.locator('.staff-order', { hasText: 'W20261202-0008' }).waitFor();
  assert.match(await page.locator('.staff-order').textContent(), /送货上门：安海镇 西垵村 3 号/);

  await page.evaluate(() => { window.print = () => { window.printed = (window.printed ?? 0) + 1; }; });
  await page.getByRole('button', { name: '打印拣货单' }).click();
  await page.waitForFunction(() => window.printed === 1);
  assert.equal(await page.locator('.staff-order', { hasText: 'W20261202-0009' }).count(), 0, 'not on the tab shown');
  // Every order still to pick, whichever tab is open, the oldest first.
  assert.match(await page.locator('#print-area').textContent(),
               /拣货单.*2 个订单.*兴胜土笋冻（6个装）.*4 件.*W20261202-0009 × 2 件；W20261202-0008 × 2 件/);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('main').isHidden(), true, 'only the sheet prints');
  await page.screenshot({ path: `${artifacts}/orders-pick-list.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await page.locator('.staff-order', { hasText: 'W20261202-0008' }).getByRole('button', { name: '打印装箱单' }).click();
  assert.match(await page.locator('#print-area .slip').textContent(), /装箱单.*W20261202-0008.*林小梅 13800138000.*送货上门：安海镇 西垵村 3 号.*¥58\.00/);

  const paidCard = page.locator('.staff-order', { hasText: 'W20261202-0008' });
  await paidCard.getByRole('button', { name: '取消退款' }).click();
  await paidCard.locator('.confirm-box').getByRole('button', { name: '取消退款' }).click();
  await paidCard.getByText('已付款的订单需先退款').waitFor();  // the server's own refusal, shown as it says
  // Asked again, the provider refuses the refund: the reason stays at the top after the queue
  // is redrawn, and the card shows the flag the server set.
  await paidCard.getByRole('button', { name: '取消退款' }).first().click();
  await paidCard.locator('.confirm-box').getByRole('button', { name: '取消退款' }).click();
  await page.locator('#staff-message').getByText('支付渠道拒绝了退款，订单仍为已付款').waitFor();
  await paidCard.getByText('退款失败，请处理').waitFor();
  assert.equal(await paidCard.locator('.state-badge').getAttribute('data-state'), 'paid');

  await page.getByRole('tab', { name: '待取货' }).click();
  const card = page.locator('.staff-order', { hasText: 'W20261202-0007' });
  await card.getByRole('button', { name: '交付' }).click();
  await card.getByLabel('请顾客报 6 位取货码').fill('12');
  await card.getByRole('button', { name: '确认交付' }).click();
  await card.getByText('取货码是 6 位数字').waitFor();
  await card.getByLabel('请顾客报 6 位取货码').fill('000000');
  await card.getByRole('button', { name: '确认交付' }).click();
  await card.getByText('取货码不对，请顾客再看一下').waitFor();
  assert.match(await card.textContent(), /到店付款：请先在收银台收款 ¥50\.00/);
  await card.getByLabel('请顾客报 6 位取货码').fill('111111');
  await card.getByRole('button', { name: '确认交付' }).click();
  await card.getByText('请先在收银台页面开班').waitFor();
  assert.equal(await card.getByRole('link', { name: '去收银台开班' }).getAttribute('href'), '/pos/');
  await page.screenshot({ path: `${artifacts}/orders-staff-handover.png`, fullPage: true });
  await card.getByLabel('请顾客报 6 位取货码').fill('482913');
  await card.getByRole('button', { name: '确认交付' }).click();
  await page.getByText('订单 W20261202-0007：已完成').waitFor();
  assert.deepEqual(transitions.at(-1), ['/api/v1/orders/W20261202-0007/transition', { to: 'completed', pickup_code: '482913' }]);
  assert.deepEqual(problems, []);
});

test('需要处理: the first tab counts the orders that need a person, lists them whatever their state, and 已处理 sends the attention the staff saw with their note', async () => {
  const { page, problems } = await newPage({ viewport: { width: 1280, height: 900 }, userAgent: undefined });
  const late = contractOrder({ number: 'W20261202-0011', state: 'expired', payment: null, pickup_code: null });
  late.attention = '7 天未能向微信支付确认是否付款，请在商户平台核对 / payment never confirmed in 7 days: check the merchant console (W20261202-0011)';
  const paid = contractOrder({ number: 'W20261202-0012', state: 'paid', payment: null });
  const resolved = [];
  await page.route(/\/api\/v1\/orders(\/|\?|$)/, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (request.method() === 'POST' && url.pathname.endsWith('/attention/resolve')) {
      resolved.push([url.pathname, request.postDataJSON()]);
      delete late.attention;
      return json(route, 200, late);
    }
    const waiting = [late, paid].filter((o) => o.attention);
    if (url.searchParams.get('attention') === 'true') {
      return json(route, 200, { items: waiting, page: 1, pages: 1, total: waiting.length });
    }
    const state = url.searchParams.get('state');
    const items = [late, paid].filter((o) => !state || o.state === state);
    return json(route, 200, { items, page: 1, pages: 1, total: items.length });
  });
  await openStaffOrders(page, 'cashier1');
  const tab = page.getByRole('tab', { name: '需要处理 (1)' });
  await tab.waitFor();
  assert.match(await tab.getAttribute('class'), /alert/, 'the tab stands out while something waits');
  await tab.click();
  const card = page.locator('.staff-order', { hasText: 'W20261202-0011' });
  await card.getByText('需要处理：7 天未能向微信支付确认是否付款').waitFor();
  assert.equal(await page.locator('.staff-order').count(), 1, 'only the orders that need a person');
  await card.getByRole('button', { name: '已处理' }).click();
  await card.getByRole('button', { name: '记录并清除提醒' }).click();
  await card.getByText('请写下处理结果').waitFor();
  assert.equal(resolved.length, 0, 'nothing sent without a note');
  await card.getByLabel('怎么处理的').fill('商户平台显示未支付');
  await card.getByRole('button', { name: '记录并清除提醒' }).click();
  await page.getByText('订单 W20261202-0011 的提醒已处理').waitFor();
  assert.deepEqual(resolved, [['/api/v1/orders/W20261202-0011/attention/resolve', { attention: late.attention ?? resolved[0][1].attention, note: '商户平台显示未支付' }]]);
  assert.match(resolved[0][1].attention, /^7 天未能向微信支付确认/);
  await page.getByRole('tab', { name: '需要处理 (0)' }).waitFor();
  await page.screenshot({ path: `${artifacts}/orders-staff-attention.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test('重复付款: a second payment the provider refused to send back shows on its order, and the admin records one refunded by hand (已在商户平台退回) with a note; a 409 shows beside it', async () => {
  const { page, problems } = await newPage({ viewport: { width: 1280, height: 900 }, userAgent: undefined });
  const order = contractOrder({ number: 'W20261202-0021', state: 'paid', payment: null, paid_fen: 5000, refundable_fen: 5000, refunds: [] });
  order.attention = '重复付款未能原路退回，请在商户平台退款 / a second payment could not be sent back: refund it in the merchant console (W20261202-0021-2)';
  const refused = '交易已超过可退款期限 / trade too old to refund';
  order.surplus_payments = [
    { out_trade_no: 'W20261202-0021-2', provider: 'wechat', amount_fen: 600, state: 'surplus', failure: refused },
    { out_trade_no: 'W20261202-0021-3', provider: 'wechat', amount_fen: 5000, state: 'surplus', failure: refused },
  ];
  const posts = [];
  await page.route(/\/api\/v1\/orders(\/|\?|$)/, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (request.method() === 'POST' && url.pathname.endsWith('/surplus-returned')) {
      const body = request.postDataJSON();
      posts.push([url.pathname, body, request.headers()['x-requested-with']]);
      const entry = order.surplus_payments.find((p) => p.out_trade_no === body.out_trade_no);
      if (body.out_trade_no.endsWith('-3')) {
        // The hourly retry sent it back meanwhile: no longer held.
        Object.assign(entry, { state: 'returned', failure: null });
        return json(route, 409, { error: { code: 'invalid_state', message: 'the payment is not held', details: { state: 'returned' } } });
      }
      Object.assign(entry, { state: 'returned', failure: null });
      return json(route, 200, order);
    }
    if (url.searchParams.get('attention') === 'true') return json(route, 200, { items: [order], page: 1, pages: 1, total: 1 });
    const state = url.searchParams.get('state');
    const items = [order].filter((o) => !state || o.state === state);
    return json(route, 200, { items, page: 1, pages: 1, total: items.length });
  });
  await openStaffOrders(page, 'admin');
  await page.getByRole('tab', { name: '需要处理 (1)' }).click();
  const card = page.locator('.staff-order', { hasText: 'W20261202-0021' });
  const second = card.locator('.surplus-payment[data-out-trade-no="W20261202-0021-2"]');
  const third = card.locator('.surplus-payment[data-out-trade-no="W20261202-0021-3"]');
  await second.getByText(`重复付款 ¥6.00（微信 W20261202-0021-2）：退回被拒：${refused}`).waitFor();
  const mark = second.getByRole('button', { name: '已在商户平台退回' });
  const box = await mark.boundingBox();
  assert.ok(box.height >= 44, `a large touch target (${box.height}px)`);
  await mark.click();
  await second.getByRole('button', { name: '记录已退回' }).click();
  await second.getByText('请写下退回的情况').waitFor();
  assert.equal(posts.length, 0, 'nothing sent without a note');
  await second.getByLabel('是怎么退回的').fill('商户平台退款单 50300012345，12 月 3 日');
  await second.getByRole('button', { name: '记录已退回' }).click();
  await page.getByText('订单 W20261202-0021：重复付款已记录为退回').waitFor();
  assert.deepEqual(posts, [['/api/v1/orders/W20261202-0021/surplus-returned',
    { out_trade_no: 'W20261202-0021-2', note: '商户平台退款单 50300012345，12 月 3 日' }, 'yizhan']]);
  await second.getByText('重复付款 ¥6.00（微信 W20261202-0021-2）：已原路退回').waitFor();
  assert.equal(await second.getByRole('button', { name: '已在商户平台退回' }).count(), 0, 'a returned payment offers nothing more');

  await third.getByRole('button', { name: '已在商户平台退回' }).click();
  await third.getByLabel('是怎么退回的').fill('商户平台已退');
  await third.getByRole('button', { name: '记录已退回' }).click();
  await third.getByText('这笔重复付款已不在待退回状态（已原路退回），列表已刷新。').waitFor();
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[1][1], { out_trade_no: 'W20261202-0021-3', note: '商户平台已退' });
  await page.screenshot({ path: `${artifacts}/orders-staff-surplus.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

// --- the whole flow against the real server and the payment simulator --------------------------

const noSimulator = !paysim && 'PAYSIM_URL is not set: run.sh starts the payment simulator beside the server';

/** A browser context signed in as `username` through the API (its pages share the cookie). */
async function signedIn(username, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', baseURL: base });
  let answer;
  for (let attempt = 0; attempt < 10; attempt++) {
    answer = await context.request.post('/api/v1/auth/login', {
      headers: { 'X-Requested-With': 'yizhan' }, data: { username, password },
    });
    if (answer.status() !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number(answer.headers()['retry-after']) || 2)));
  }
  assert.equal(answer.status(), 200, `${username} signs in`);
  return context;
}

async function stockOf(context, productId) {
  const response = await context.request.get(`/api/v1/stock/${productId}`, { headers: { 'X-Requested-With': 'yizhan' } });
  assert.equal(response.status(), 200);
  return response.json();
}

/** Checkout as 林小梅 for pickup, paying with `method`; resolves to the order page's URL. */
async function placeOrder(page, method) {
  await page.goto(`${base}/checkout.html`);
  await page.locator('#pickup-info', { hasText: '驿站' }).waitFor();
  await page.getByLabel('姓名').fill('林小梅');
  await page.getByLabel('手机号').fill('13800138000');
  await page.locator('label.choice', { hasText: '到驿站自提' }).click();
  await page.locator('#payment-choices label.choice', { hasText: method }).click();
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.waitForURL(/order\.html\?no=W\d{8}-\d{4,}&t=/);
  return page.url();
}

test('pay through the simulator, the tracking page turns paid by itself, staff pick, ready and hand over with the pickup code → completed',
  { skip: noSimulator }, async () => {
    const { context, page, problems } = await newPage();
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '微信支付');
    const number = new URL(orderUrl).searchParams.get('no');
    await page.locator('#order-state', { hasText: '待支付' }).waitFor();
    // On a phone the page starts WeChat H5: a button to the provider's page (the simulator's).
    const pay = page.locator('#pay-redirect');
    await pay.waitFor();
    assert.equal(await pay.textContent(), '去微信付款');
    const link = new URL(await pay.getAttribute('href'));
    assert.equal(`${link.origin}${link.pathname}`, `${paysim}/sim/pay/wechat/${number}`);
    assert.match(await page.locator('#pay-countdown').textContent(), /请在 [01]:\d\d 内完成支付/);
    await page.screenshot({ path: `${artifacts}/orders-live-pay.png`, fullPage: true });

    // The customer pays in another tab; the order page, left open, notices by itself.
    const payer = await context.newPage();
    await payer.goto(link.href);
    await payer.locator('#amount', { hasText: '¥25.00' }).waitFor();
    await payer.locator('#pay').click();
    await payer.locator('#result', { hasText: '支付成功' }).waitFor();
    await payer.screenshot({ path: `${artifacts}/orders-live-simulator.png`, fullPage: true });
    await payer.close();
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 20000 });
    assert.equal(await page.locator('#payment-box').isHidden(), true);
    const code = await page.locator('#pickup-code').textContent();
    assert.match(code, /^\d{6}$/, 'paid: the pickup code shows');

    const staffContext = await signedIn('cashier1');
    const staff = await staffContext.newPage();
    const staffProblems = [];
    staff.on('pageerror', (error) => staffProblems.push(error.message));
    await staff.goto(`${base}/admin/orders.html`);
    const card = staff.locator('.staff-order', { hasText: number });
    const posted = [];
    staff.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/transition')) posted.push(request.postData());
    });
    await card.getByRole('button', { name: '开始拣货' }).dblclick();  // a double click: one step
    await staff.getByText(`订单 ${number}：拣货中`).waitFor();
    assert.deepEqual(posted, ['{"to":"picking"}']);
    await staff.getByRole('tab', { name: '拣货中' }).click();
    await card.getByRole('button', { name: '备货完成' }).click();
    await staff.getByText(`订单 ${number}：待取货`).waitFor();

    await page.locator('#order-state', { hasText: '待取货' }).waitFor({ timeout: 8000 });
    assert.equal(await page.locator('#pickup-code').textContent(), code);
    await staff.getByRole('tab', { name: '待取货' }).click();
    await card.getByRole('button', { name: '交付' }).click();
    const wrong = code === '000000' ? '000001' : '000000';
    await card.getByLabel('请顾客报 6 位取货码').fill(wrong);
    await card.getByRole('button', { name: '确认交付' }).click();
    await card.getByText('取货码不对，请顾客再看一下').waitFor();
    await card.getByLabel('请顾客报 6 位取货码').fill(code);
    await card.getByRole('button', { name: '确认交付' }).click();
    await staff.getByText(`订单 ${number}：已完成`).waitFor();
    await page.locator('#order-state', { hasText: '已完成' }).waitFor({ timeout: 8000 });
    // 订单进度, newest first: handed over, ready, picking, paid, placed.
    const steps = page.locator('#order-history li .state-badge');
    await page.locator('#order-history li').first().filter({ hasText: '已完成' }).waitFor();
    assert.deepEqual(await steps.allTextContents(), ['已完成', '待取货', '拣货中', '已支付', '待支付']);
    await page.screenshot({ path: `${artifacts}/orders-live-completed.png`, fullPage: true });
    assert.deepEqual(problems, []);
    assert.deepEqual(staffProblems, []);
    await staffContext.close();
  });

/** The shift report after the cash-on-pickup handover, for the drawer check below. */
let cashShift = null;

test('cash on pickup: confirmed at once with its pickup code; handover refused until the staff member has a shift open, then completed',
  { skip: noSimulator }, async () => {
    const { page, problems } = await newPage();
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '到店付款');
    const number = new URL(orderUrl).searchParams.get('no');
    await page.locator('#order-state', { hasText: '已确认（到店付款）' }).waitFor();
    assert.equal(await page.locator('#payment-box').isHidden(), true, 'nothing to pay online');
    assert.match(await page.locator('#pickup-box').textContent(), /¥25\.00/);
    const code = await page.locator('#pickup-code').textContent();

    // The manager works this one, so the cashier's shifts in the counter tests are not touched.
    const staffContext = await signedIn('admin');
    const call = async (method, path, data) => {
      const response = await staffContext.request.fetch(path, { method, data, headers: { 'X-Requested-With': 'yizhan' } });
      return { status: response.status(), body: await response.json().catch(() => null) };
    };
    const open = await call('GET', '/api/v1/pos/shifts/current');
    if (open.status === 200) {  // left open by a failed run before
      const x = (await call('GET', `/api/v1/pos/shifts/${open.body.id}/report`)).body;
      await call('POST', `/api/v1/pos/shifts/${open.body.id}/close`, { counted_cash_fen: x.expected_cash_fen });
    }
    const staff = await staffContext.newPage();
    await staff.goto(`${base}/admin/orders.html`);
    await staff.getByRole('tab', { name: '已确认' }).click();
    const card = staff.locator('.staff-order', { hasText: number });
    await card.getByRole('button', { name: '开始拣货' }).click();
    await staff.getByText(`订单 ${number}：拣货中`).waitFor();
    await staff.getByRole('tab', { name: '拣货中' }).click();
    await card.getByRole('button', { name: '备货完成' }).click();
    await staff.getByText(`订单 ${number}：待取货`).waitFor();
    await staff.getByRole('tab', { name: '待取货' }).click();
    await card.getByRole('button', { name: '交付' }).click();
    // No shift open: said before the customer is asked for the money, the counter beside.
    await card.getByText('您还没有开班：请先开班，再收款 ¥25.00 并交付').waitFor();
    assert.equal(await card.locator('.notice a').getAttribute('target'), '_blank');
    await card.getByLabel('请顾客报 6 位取货码').fill(code);
    await card.getByRole('button', { name: '确认交付' }).click();
    await card.getByText('请先在收银台页面开班').waitFor();
    assert.equal(await card.locator('#open-pos').getAttribute('href'), '/pos/');

    const shift = await call('POST', '/api/v1/pos/shifts', { register: '柜台2', float_fen: 10000 });
    assert.equal(shift.status, 201, JSON.stringify(shift.body));
    await card.getByRole('button', { name: '确认交付' }).click();
    await staff.getByText(`订单 ${number}：已完成`).waitFor();
    await page.locator('#order-state', { hasText: '已完成' }).waitFor({ timeout: 8000 });
    const report = (await call('GET', `/api/v1/pos/shifts/${shift.body.id}/report`)).body;
    cashShift = { report, float_fen: 10000, order_fen: 2500 };
    await call('POST', `/api/v1/pos/shifts/${shift.body.id}/close`, { counted_cash_fen: report.expected_cash_fen });
    assert.deepEqual(problems, []);
    await staffContext.close();
  });

test('the cash taken for a cash-on-pickup order is in the drawer the shift report expects',
  { skip: noSimulator }, () => {
    assert.ok(cashShift, 'the cash-on-pickup test ran');
    assert.equal(cashShift.report.expected_cash_fen, cashShift.float_fen + cashShift.order_fen);
  });

test('a notification lost on the way: the page stays unpaid until the customer taps 我已支付, then the server asks WeChat and the order is paid',
  { skip: noSimulator }, async () => {
    const { context, page, problems } = await newPage();
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '微信支付');
    const number = new URL(orderUrl).searchParams.get('no');
    await page.locator('#pay-redirect').waitFor();
    // Paid at WeChat (the simulator), whose notification never reaches the station.
    const paid = await context.request.post(`${paysim}/sim/pay`, {
      data: { provider: 'wechat', out_trade_no: number, notify: false },
    });
    assert.equal(paid.status(), 200);
    await page.waitForTimeout(3500);  // a poll of the page's own: still unpaid
    await page.locator('#order-state', { hasText: '待支付' }).waitFor();
    const check = page.getByRole('button', { name: '我已支付' });
    await check.click();
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 10000 });
    assert.match(await page.locator('#pickup-code').textContent(), /^\d{6}$/);
    await page.screenshot({ path: `${artifacts}/orders-live-checked.png`, fullPage: true });
    assert.deepEqual(problems, []);
  });

test('Alipay on a phone: the wap page on the simulator, paid, and its 返回商户 link (order number, no token) opens the paid order',
  { skip: noSimulator }, async () => {
    const { page, problems } = await newPage();
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '支付宝');
    const number = new URL(orderUrl).searchParams.get('no');
    const pay = page.locator('#pay-redirect');
    await pay.waitFor();
    assert.equal(await pay.textContent(), '去支付宝付款');
    await pay.click();
    await page.locator('#pay').click();
    await page.locator('#result', { hasText: '支付成功' }).waitFor();
    await page.locator('#back').click();
    await page.waitForURL((url) => url.pathname === '/order.html' && url.searchParams.get('out_trade_no') === number);
    await page.locator('#order-number', { hasText: number }).waitFor();
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 15000 });
    assert.deepEqual(problems, []);
  });

test('on a phone, switched from WeChat Pay to Alipay: 返回商户 names the second trade (<number>-2) and still opens the paid order',
  { skip: noSimulator }, async () => {
    const { page, problems } = await newPage();
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '微信支付');
    const number = new URL(orderUrl).searchParams.get('no');
    // A tap right as the button appears is a double tap's second (ignored); a moment later it counts.
    const switches = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/payment?') && request.postData()?.includes('alipay')) switches.push(request.url());
    });
    const change = page.getByRole('button', { name: '改用支付宝付款' });
    await change.waitFor();
    await change.click();
    await page.waitForTimeout(700);
    assert.deepEqual(switches, [], 'a tap as the button appears switches nothing');
    await change.click();
    const pay = page.locator('#pay-redirect');
    await pay.filter({ hasText: '去支付宝付款' }).waitFor();
    await pay.click();
    await page.locator('#pay').click();
    await page.locator('#result', { hasText: '支付成功' }).waitFor();
    await page.locator('#back').click();
    await page.waitForURL((url) => url.pathname === '/order.html' && url.searchParams.get('out_trade_no') === `${number}-2`);
    await page.locator('#order-number', { hasText: number }).waitFor();
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 15000 });
    assert.match(await page.locator('#pickup-code').textContent(), /^\d{6}$/);
    assert.deepEqual(problems, []);
  });

test('chose WeChat Pay at checkout, pays with Alipay after all: 改用支付宝付款 closes the WeChat trade and shows Alipay\'s QR, which pays the order',
  { skip: noSimulator }, async () => {
    const { context, page, problems } = await newPage({ viewport: { width: 1280, height: 900 }, userAgent: desktop });
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '微信支付');
    const number = new URL(orderUrl).searchParams.get('no');
    await page.locator('#payment-box figcaption', { hasText: '微信' }).waitFor();
    const change = page.getByRole('button', { name: '改用支付宝付款' });
    await change.waitFor();
    await page.waitForTimeout(650);  // the button ignores taps as it appears (a double tap's second)
    await change.click();
    await page.locator('#payment-box figcaption', { hasText: '支付宝' }).waitFor();
    assert.ok(await page.locator('#pay-qr').evaluate((img) => img.complete && img.naturalWidth > 0), 'the Alipay QR is drawn');
    await page.getByRole('button', { name: '改用微信付款' }).waitFor();  // and back, if wanted
    await page.screenshot({ path: `${artifacts}/orders-live-switched.png`, fullPage: true });
    const trades = await (await context.request.get(`${paysim}/sim/orders`)).json();
    const wechat = (trades.items ?? trades).find((o) => o.provider === 'wechat' && o.out_trade_no === number);
    assert.equal(wechat?.state, 'CLOSED', 'the WeChat trade was closed before the Alipay one was made');
    const paid = await context.request.post(`${paysim}/sim/pay`, { data: { provider: 'alipay', out_trade_no: `${number}-2` } });
    assert.equal(paid.status(), 200, await paid.text());
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 20000 });
    assert.match(await page.locator('#pickup-code').textContent(), /^\d{6}$/);
    assert.deepEqual(problems, []);
  });

test("inside WeChat: the page signs the payer in through WeChat (the simulator's 网页授权), comes back with JSAPI started, and 微信支付 pays with the server's paySign",
  { skip: noSimulator }, async () => {
    const { context, page, problems } = await newPage({ userAgent: weChat });
    // WeChat's client: getBrandWCPayRequest hands the parameters to WeChat Pay, which checks
    // paySign against the merchant's key (the simulator's /sim/jsapi does what the app does).
    const bridged = [];
    await context.exposeFunction('__weChatPay', async (params) => {
      bridged.push(params);
      const answer = await fetch(`${paysim}/sim/jsapi`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(params),
      });
      return answer.json();
    });
    await context.addInitScript(() => {
      window.WeixinJSBridge = {
        invoke: (name, params, done) => {
          if (name !== 'getBrandWCPayRequest') return;
          window.__weChatPay(params).then(done);
        },
      };
    });
    const visited = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) visited.push(request.url());
    });
    await addFromProductPage(page, '土笋冻');
    const orderUrl = await placeOrder(page, '微信支付');
    const number = new URL(orderUrl).searchParams.get('no');
    // Through WeChat's sign-in and back to the order's page (its token stays on this device).
    await page.waitForURL((url) => url.pathname === '/order.html' && url.searchParams.get('no') === number && !url.searchParams.has('t'));
    assert.ok(visited.some((url) => url.startsWith(`${paysim}/connect/oauth2/authorize?`)), visited.join('\n'));
    assert.ok(visited.every((url) => !url.startsWith(paysim) || !url.includes(new URL(orderUrl).searchParams.get('t'))), 'the token never goes to WeChat');
    const pay = page.locator('#pay-jsapi');
    await pay.waitFor();
    assert.equal(await pay.textContent(), '微信支付');
    assert.equal(await page.locator('#pay-wechat-hint').count(), 0, 'no long-press hint: JSAPI works here');
    await page.screenshot({ path: `${artifacts}/orders-live-jsapi.png`, fullPage: true });
    await pay.click();
    await page.locator('#order-state', { hasText: '已支付' }).waitFor({ timeout: 20000 });
    assert.equal(bridged.length, 1);
    assert.equal(bridged[0].signType, 'RSA');
    assert.match(bridged[0].package, /^prepay_id=wx/);
    assert.deepEqual(problems, []);
  });

test('an order left unpaid expires by itself (unpaid_minutes = 1, swept every 20 s) and frees its stock',
  { skip: noSimulator }, async () => {
    const { page, problems } = await newPage();
    await addFromProductPage(page, '瑶前铁观音');  // 250 g
    const productId = Number(new URL(page.url()).searchParams.get('id'));
    const admin = await signedIn('admin');
    const before = await stockOf(admin, productId);
    const orderUrl = await placeOrder(page, '支付宝');
    await page.locator('#order-state', { hasText: '待支付' }).waitFor();
    // On a phone Alipay opens its wap page: the simulator's, through its gateway.
    assert.match(await page.locator('#pay-redirect').getAttribute('href'), new RegExp(`^${paysim}/`));
    const held = await stockOf(admin, productId);
    assert.equal(held.reserved, before.reserved + 250, 'the order holds its 250 g');
    assert.equal(held.available, before.available - 250);

    await page.locator('#order-state', { hasText: '已过期' }).waitFor({ timeout: 110000 });
    assert.equal(await page.locator('#payment-box').isHidden(), true);
    assert.equal(await page.locator('.step.ended .step-name').textContent(), '已过期');
    const after = await stockOf(admin, productId);
    assert.equal(after.reserved, before.reserved, 'the expired order gave its stock back');
    assert.equal(after.available, before.available);
    await page.screenshot({ path: `${artifacts}/orders-live-expired.png`, fullPage: true });
    await page.goto(`${base}/orders.html`);
    const expired = page.locator('.my-order', { hasText: new URL(orderUrl).searchParams.get('no') }).filter({ hasText: '已过期' });
    await expired.waitFor();
    const count = await page.locator('.my-order').count();
    await expired.getByRole('button', { name: '从本机移除' }).click();  // over: gone at once
    await page.waitForFunction((n) => document.querySelectorAll('.my-order').length === n - 1, count);
    assert.deepEqual(problems, []);
    await admin.close();
  });
