// The counter page as a cashier uses it, keyboard only: open a shift, scan a barcode, scan a
// scale label, find 铁观音 by "tgy" and weigh it, pay part WeChat part cash, print, refund one
// line by the receipt's number, X report, close the shift. Then selling through an outage:
// sales queue in IndexedDB, one is refused and kept, one answer is lost after the server
// committed it, a reload while offline still opens the till, and when the server is back every
// queued sale is in the database exactly once. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { eanCheckDigit } from '../../../web/assets/js/pos-cart.js';

const base = process.env.BASE_URL;
const password = process.env.DEMO_PASSWORD;
const artifacts = process.env.ARTIFACTS;

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => browser?.close());

const yuan = (fen) => (fen / 100).toFixed(2);
const money = (fen) => `${fen < 0 ? '-' : ''}¥${yuan(Math.abs(fen))}`;
const weighed = (perKg, grams) => Math.floor((perKg * grams + 500) / 1000);
const today = () => new Date().toISOString().slice(0, 10);

/** A browser context signed in as `username` (its `request` shares the cookie). */
async function signedIn(username, viewport = { width: 1366, height: 768 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', baseURL: base });
  // pages.test.mjs provokes the sign-in throttle for cashier1 from this address: wait it out.
  let answer;
  for (let attempt = 0; attempt < 10; attempt++) {
    answer = await context.request.post('/api/v1/auth/login', {
      headers: { 'X-Requested-With': 'yizhan' }, data: { username, password },
    });
    if (answer.status() !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number(answer.headers()['retry-after']) || 2)));
  }
  assert.equal(answer.status(), 200, `${username} signs in`);
  // The receipt is printed through the browser's print; count the calls in every frame.
  await context.addInitScript(() => {
    window.print = () => {
      window.top.__printed = (window.top.__printed ?? 0) + 1;
    };
  });
  return context;
}

async function call(context, method, path, data, headers = {}) {
  const response = await context.request.fetch(path, {
    method, data, headers: { 'X-Requested-With': 'yizhan', ...headers },
  });
  const text = await response.text();
  return { status: response.status(), body: text ? JSON.parse(text) : null };
}

async function allProducts(context) {
  const products = [];
  for (let page = 1; ; page++) {
    const { body } = await call(context, 'GET', `/api/v1/products?page_size=100&page=${page}`);
    products.push(...body.items);
    if (!body.items.length || products.length >= body.total) return products;
  }
}

/** At least `quantity` of `product` in stock, received as the admin. */
async function stockUp(admin, product, quantity) {
  const level = await call(admin, 'GET', `/api/v1/stock/${product.id}`);
  if (level.status === 200 && level.body.available >= quantity) return;
  const received = await call(admin, 'POST', '/api/v1/stock/receipts', {
    village_id: product.village_id, note: 'browser test',
    lines: [{ product_id: product.id, quantity, lot: `BT-${product.id}-${Date.now()}`, produced_on: today() }],
  });
  assert.equal(received.status, 201, JSON.stringify(received.body));
}

/** The demo products the tests sell, with a PLU on the weighed one and stock for all. */
async function prepareCatalog() {
  const admin = await signedIn('admin');
  const products = await allProducts(admin);
  const piece = products.find((p) => p.unit === 'piece' && p.barcode && p.online && p.price_fen < 10000);
  const tea = products.find((p) => p.name.includes('铁观音') && p.unit === 'g');
  const labelled = products.find((p) => p.unit === 'g' && p.id !== tea.id);
  assert.ok(piece && tea && labelled, 'demo products to sell');
  if (labelled.plu === null || labelled.plu === undefined) {
    const patched = await call(admin, 'PATCH', `/api/v1/products/${labelled.id}`, { plu: 90000 + labelled.id });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    labelled.plu = patched.body.plu;
  }
  await stockUp(admin, piece, 50);
  await stockUp(admin, tea, 20000);
  await stockUp(admin, labelled, 20000);
  await admin.close();
  return { piece, tea, labelled };
}

async function openPos(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(message.text());
    }
  });
  await page.goto('/pos/');
  await page.locator('body[data-ready="true"]').waitFor();
  return { page, problems };
}

async function openShift(page, register, floatYuan) {
  const dialog = page.locator('#shift-dialog');
  await dialog.waitFor();
  await dialog.getByLabel('收银台').fill(register);
  await dialog.getByLabel('备用金（元）').fill(floatYuan);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  await page.locator('#shift-info', { hasText: register }).waitFor();
}

/** What a keyboard-wedge scanner does: digits, then Enter, into whatever has the focus. */
async function scan(page, code) {
  await page.keyboard.type(code, { delay: 5 });
  await page.keyboard.press('Enter');
}

async function cartRows(page) {
  return page.locator('#cart-rows tr').count();
}

test('counter: scan, scale label, 拼音 search and grams, split tender, print, refund a line, X and Z', async () => {
  const { piece, tea, labelled } = await prepareCatalog();
  const context = await signedIn('cashier1');
  const { page, problems } = await openPos(context);
  await openShift(page, '柜台1', '500');

  // A scanned EAN-13 product.
  await scan(page, piece.barcode);
  await page.locator('#cart-rows tr', { hasText: piece.name }).waitFor();

  // A scale label (flag 21: PLU + amount in fen), priced by the server's quote.
  const labelFen = weighed(labelled.price_fen, 300);
  const digits = `21${String(labelled.plu).padStart(5, '0')}${String(labelFen).padStart(5, '0')}`;
  const label = digits + eanCheckDigit(digits);
  await scan(page, label);
  const labelRow = page.locator('#cart-rows tr', { hasText: labelled.name });
  await labelRow.waitFor();
  assert.match(await labelRow.textContent(), new RegExp(`¥${yuan(labelFen).replace('.', '\\.')}`));
  assert.match(await labelRow.textContent(), /300 g/, 'the server derived the weight from the amount');

  // 拼音首字母: tgy finds 铁观音; Enter asks for the grams.
  await page.keyboard.type('tgy');
  await page.locator('#results li', { hasText: '铁观音' }).first().waitFor();
  await page.screenshot({ path: `${artifacts}/pos-search.png` });
  await page.keyboard.press('Enter');
  await page.locator('#prompt-dialog').getByLabel('重量（克）').waitFor();
  await page.keyboard.type('250');
  await page.keyboard.press('Enter');
  await page.locator('#cart-rows tr', { hasText: '铁观音' }).waitFor();
  assert.equal(await cartRows(page), 3);

  // One more of the piece product with F2 on its line (↑ to it).
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('F2');
  await page.keyboard.type('2');
  await page.keyboard.press('Enter');
  const total = piece.price_fen * 2 + labelFen + weighed(tea.price_fen, 250);
  await page.locator('#t-total', { hasText: money(total) }).waitFor();
  await page.screenshot({ path: `${artifacts}/pos-cart.png` });

  // Split tender: ¥10 by WeChat (F2), the rest in cash (F1) with ¥50.00 change.
  await page.keyboard.press('F10');
  const tender = page.locator('#tender-dialog');
  await tender.waitFor();
  await page.keyboard.press('F2');
  await page.keyboard.type('10');
  // On a touch screen (a number keyboard may have no Enter): the dialog's own 确定.
  const confirm = page.locator('#tender-confirm');
  assert.ok((await confirm.boundingBox()).height >= 44, 'a touch target');
  await confirm.click();
  await page.locator('#tender-remaining', { hasText: money(total - 1000) }).waitFor();
  await page.keyboard.press('F1');
  const handed = total - 1000 + 5000;
  await page.keyboard.type(yuan(handed));
  await page.locator('#tender-change', { hasText: '¥50.00' }).waitFor();  // shown large while typing
  await page.screenshot({ path: `${artifacts}/pos-tender.png` });
  await page.keyboard.press('Enter');
  const done = page.locator('#done-dialog');
  await done.waitFor();
  assert.equal(await page.locator('#done-change').textContent(), '¥50.00');
  const number = (await page.locator('#done-number').textContent()).replace('单号 ', '').trim();
  assert.match(number, /^\d{8}-\d+-\d+$/);
  await page.screenshot({ path: `${artifacts}/pos-done.png` });

  // Print: the receipt page in the print frame, then the browser's print.
  await page.keyboard.press('F2');
  await page.waitForFunction(() => window.__printed >= 1);
  // The server's receipt (58 mm for 柜台1) is what was printed.
  const printed = await page.locator('#print-frame').evaluate((frame) => frame.contentDocument.body.textContent);
  assert.ok(printed.includes(number), printed);
  assert.match(printed, /铁观音/);
  await page.keyboard.press('Enter');
  await done.waitFor({ state: 'hidden' });
  assert.equal(await cartRows(page), 0);

  const sale = (await call(context, 'GET', `/api/v1/pos/sales/by-number/${number}`)).body;
  assert.equal(sale.total_fen, total);
  assert.equal(sale.change_fen, 5000);
  assert.deepEqual(sale.tenders.map((t) => [t.method, t.amount_fen]), [['wechat', 1000], ['cash', total - 1000]]);
  assert.equal(sale.lines.length, 3);

  // Refund one piece of the first line: scan the receipt's QR (its number) into the scan box.
  await scan(page, number);
  const refund = page.locator('#refund-dialog');
  await refund.waitFor();
  await refund.locator('#refund-rows tr').first().waitFor();
  const firstLine = sale.lines.find((line) => line.product_id === piece.id);
  // More than is left is shown and refused, never quietly cut down to what is left.
  const quantity = refund.locator(`#refund-rows input[data-line="${firstLine.id}"]`);
  await quantity.fill('99');
  await refund.locator('#refund-error', { hasText: '最多可退' }).waitFor();
  assert.equal(await quantity.getAttribute('aria-invalid'), 'true');
  assert.ok(await refund.locator('#refund-submit').isDisabled());
  await page.keyboard.press('F10');
  await page.waitForTimeout(300);
  assert.equal((await call(context, 'GET', `/api/v1/pos/sales/${sale.id}`)).body.refunds.length, 0, 'F10 refunds nothing');
  await quantity.fill('1');
  assert.equal((await refund.locator('#refund-error').textContent()).trim(), '');
  // 原路 is the first tender, WeChat, which took ¥10.00 of the sale: more than that goes back
  // in cash, and the dialog says so.
  await page.keyboard.press('F10');
  await refund.locator('#refund-error', { hasText: '原路最多还能退 ¥10.00' }).waitFor();
  await refund.locator('#refund-method').selectOption('cash');
  await quantity.focus();
  await page.keyboard.press('F10');
  await refund.locator('#refund-result', { hasText: '已退款' }).waitFor();
  await page.screenshot({ path: `${artifacts}/pos-refund.png` });
  await page.keyboard.press('Escape');
  const refunded = (await call(context, 'GET', `/api/v1/pos/sales/${sale.id}`)).body;
  assert.equal(refunded.lines.find((line) => line.id === firstLine.id).refunded_quantity, 1);
  assert.equal(refunded.refunds.length, 1);

  // 应退未退: a code refund its provider closed unpaid is listed in the refund dialog and paid
  // back in cash under one Idempotency-Key (the list and the repayment are stubbed here; the
  // server's side is tests/integration/code_payment_test.cpp).
  const owed = { id: 9001, sale_id: sale.id, sale_number: number, method: 'wechat_code', total_fen: 1500,
                 owed: 'owed', owed_fen: 1500, provider_state: 'CLOSED', owed_at: new Date().toISOString() };
  let owedList = [owed];
  const repaid = [];
  let owedFails = true;  // the first read of the list fails: the dialog says so, not "nobody"
  await context.route('**/api/v1/pos/refunds?owed=true', (route) => route.fulfill(owedFails
    ? { status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'down' } }) }
    : { status: 200, contentType: 'application/json', body: JSON.stringify({ items: owedList, next_before: null }) }));
  await context.route('**/api/v1/pos/refunds/9001/repay', (route) => {
    repaid.push({ body: route.request().postDataJSON(), key: route.request().headers()['idempotency-key'] });
    if (repaid.length === 1) return route.abort('connectionreset');  // the answer is lost
    owedList = [];
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ...owed, owed: 'repaid', owed_fen: 0 }) });
  });
  page.on('dialog', (dialog) => dialog.accept());
  await page.keyboard.press('F9');
  await refund.waitFor();
  await refund.locator('#owed', { hasText: '未能载入' }).waitFor();
  owedFails = false;
  await refund.locator('#owed-list button', { hasText: '重新载入' }).click();
  const owedButton = refund.locator('#owed-list button[data-owed="9001"]');
  await owedButton.waitFor();
  assert.match(await refund.locator('#owed').textContent(), new RegExp(`${number}.*微信付款码`));
  await owedButton.click();
  await page.waitForFunction(() => document.querySelector('#refund-error').textContent.trim() !== '');
  await owedButton.click();  // the same repayment again: the same key
  await refund.locator('#owed').waitFor({ state: 'hidden' });
  assert.equal(repaid.length, 2);
  assert.deepEqual(repaid[0].body, { method: 'cash' });
  assert.ok(repaid[0].key && repaid[0].key === repaid[1].key, 'a retry keeps its Idempotency-Key');
  await page.keyboard.press('Escape');
  await context.unroute('**/api/v1/pos/refunds?owed=true');
  await context.unroute('**/api/v1/pos/refunds/9001/repay');

  // X report, then Z with the drawer counted exactly. ¥20 taken out for change bags first: the
  // screen shows it (应有现金 counts it), and what each village sold.
  const shift = (await call(context, 'GET', '/api/v1/pos/shifts/current')).body;
  const out = await call(context, 'POST', `/api/v1/pos/shifts/${shift.id}/cash`, { amount_fen: -2000, reason: '买零钱袋' },
                         { 'Idempotency-Key': `cash-out-${shift.id}` });
  assert.equal(out.status, 201, JSON.stringify(out.body));
  await page.keyboard.press('Shift+F3');
  const report = page.locator('#report-dialog');
  await report.locator('#report-x').waitFor();
  const x = (await call(context, 'GET', `/api/v1/pos/shifts/${shift.id}/report`)).body;
  const xText = await report.textContent();
  assert.match(xText, new RegExp(money(x.expected_cash_fen).replace('.', '\\.')));
  assert.match(xText, /取出现金\s*-¥20\.00/);
  for (const village of x.by_village) assert.ok(xText.includes(`${village.village_name} 销售额`), village.village_name);
  await page.keyboard.press('Enter');
  await report.waitFor({ state: 'hidden' });

  await page.keyboard.press('Shift+F4');
  await page.locator('#prompt-dialog').getByLabel('钱箱实点现金（元）').waitFor();
  await page.keyboard.type(yuan(x.expected_cash_fen));
  await page.keyboard.press('Enter');
  await report.locator('#report-z').waitFor();
  assert.match(await report.textContent(), /差额\s*¥0\.00/);
  await page.screenshot({ path: `${artifacts}/pos-z-report.png` });
  assert.equal((await call(context, 'GET', '/api/v1/pos/shifts/current')).status, 404);
  await page.keyboard.press('Enter');
  await page.locator('#shift-dialog').waitFor();  // the next shift starts here
  assert.deepEqual(problems, []);
  await context.close();
});

test('counter offline: sales queue, one refused and kept, a lost answer, reload offline, each sale synced exactly once', async () => {
  const { piece } = await prepareCatalog();
  const context = await signedIn('cashier1', { width: 390, height: 844 });  // a phone-sized till
  const open = await call(context, 'GET', '/api/v1/pos/shifts/current');
  if (open.status === 200) {  // left open by a failed run before: close it as it stands
    const x = (await call(context, 'GET', `/api/v1/pos/shifts/${open.body.id}/report`)).body;
    await call(context, 'POST', `/api/v1/pos/shifts/${open.body.id}/close`, { counted_cash_fen: x.expected_cash_fen });
  }
  const { page, problems } = await openPos(context);
  await openShift(page, '柜台1', '200');
  await page.evaluate(() => navigator.serviceWorker.ready);
  const shift = (await call(context, 'GET', '/api/v1/pos/shifts/current')).body;

  const sellOne = async (discountYuan = null) => {
    await scan(page, piece.barcode);
    await page.locator('#cart-rows tr', { hasText: piece.name }).waitFor();
    if (discountYuan) {
      await page.keyboard.press('F5');
      await page.keyboard.type(discountYuan);
      await page.keyboard.press('Enter');
      await page.locator('#prompt-dialog').waitFor({ state: 'hidden' });
    }
    await page.keyboard.press('F10');
    await page.locator('#tender-dialog').waitFor();
    await page.keyboard.press('Enter');  // empty amount: exact cash
    await page.locator('#done-dialog').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#done-dialog').waitFor({ state: 'hidden' });
  };

  await sellOne();  // online
  const badge = page.locator('#queue-badge');
  assert.equal(await badge.isHidden(), true);

  await context.setOffline(true);
  await sellOne();
  await page.locator('#net-status[data-state="offline"]').waitFor();
  await page.locator('#done-title').textContent();
  await badge.filter({ hasText: '待上传 1 笔' }).waitFor();
  // Half off: more than a cashier may give (the server answers 403 discount_limit at sync).
  await sellOne(yuan(Math.floor(piece.price_fen / 2)));
  await sellOne();
  await badge.filter({ hasText: '待上传 3 笔' }).waitFor();
  await page.screenshot({ path: `${artifacts}/pos-offline.png` });

  // A reload while the server is unreachable still opens the till, with its queue.
  await page.reload();
  await page.locator('body[data-ready="true"]').waitFor();
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the service worker served the page');
  await page.locator('#net-status[data-state="offline"]').waitFor();
  await badge.filter({ hasText: '待上传 3 笔' }).waitFor();
  await sellOne();
  await badge.filter({ hasText: '待上传 4 笔' }).waitFor();

  // Back online, but the first queued sale's answer is lost after the server committed it.
  let lost = 0;
  let posts = 0;
  await context.route('**/api/v1/pos/sales', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    posts += 1;
    if (lost === 0) {
      lost += 1;
      await route.fetch();  // the server has the sale now
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await context.setOffline(false);
  await badge.filter({ hasText: '需处理 1 笔' }).waitFor({ timeout: 30000 });
  await page.waitForFunction(() => document.querySelector('#queue-badge').dataset.count === '0', null, { timeout: 30000 });
  assert.equal(lost, 1);
  assert.ok(posts >= 5, `every queued sale was sent, the first twice (${posts} posts)`);

  // The refused sale is kept and shown, with the reason.
  await page.keyboard.press('Shift+F6');
  const rejected = page.locator('#queue-list li[data-state="rejected"]');
  await rejected.waitFor();
  assert.match(await rejected.textContent(), /收银员权限/);
  await page.screenshot({ path: `${artifacts}/pos-queue.png` });
  await page.keyboard.press('Escape');

  // The database has the online sale and the three accepted offline ones, each once.
  const { body } = await call(context, 'GET', `/api/v1/pos/sales?shift_id=${shift.id}&limit=100`);
  assert.equal(body.items.length, 4, JSON.stringify(body.items.map((s) => s.number)));
  assert.equal(new Set(body.items.map((s) => s.number)).size, 4);
  assert.equal(body.items.filter((s) => s.offline).length, 3);
  for (const sale of body.items) assert.equal(sale.total_fen, piece.price_fen);
  const synced = await page.evaluate(async () => new Promise((resolve) => {
    const open = indexedDB.open('yizhan-pos');
    open.onsuccess = () => {
      const request = open.result.transaction('synced').objectStore('synced').getAll();
      request.onsuccess = () => resolve(request.result);
    };
  }));
  assert.equal(synced.filter((entry) => entry.offline).length, 3);
  assert.deepEqual(problems, []);
  await context.close();
});

test('counter 付款码: F6 takes the scanned code, the page waits for the password, shows the refusal, then a paid code is refunded to it', async () => {
  const { piece } = await prepareCatalog();
  const context = await signedIn('admin');
  // 柜台2 still has cashier1's shift: the dialog says whose register it is, not "yours".
  const cashier = await signedIn('cashier1');
  const mine = await call(cashier, 'GET', '/api/v1/pos/shifts/current');
  const closeShift = async (shift) => {
    const x = (await call(cashier, 'GET', `/api/v1/pos/shifts/${shift.id}/report`)).body;
    await call(cashier, 'POST', `/api/v1/pos/shifts/${shift.id}/close`, { counted_cash_fen: x.expected_cash_fen });
  };
  if (mine.status === 200) await closeShift(mine.body);
  const taken = await call(cashier, 'POST', '/api/v1/pos/shifts', { register: '柜台2', float_fen: 0 });
  assert.equal(taken.status, 201, JSON.stringify(taken.body));
  const { page, problems } = await openPos(context);
  const shiftDialog = page.locator('#shift-dialog');
  await shiftDialog.waitFor();
  await shiftDialog.getByLabel('收银台').fill('柜台2');
  await shiftDialog.getByLabel('备用金（元）').fill('0');
  await page.keyboard.press('Enter');
  await shiftDialog.locator('#shift-error', { hasText: '柜台2 上还有别人的班次未交班' }).waitFor();
  await closeShift(taken.body);
  await cashier.close();
  await openShift(page, '柜台2', '0');
  await scan(page, piece.barcode);
  await page.locator('#cart-rows tr', { hasText: piece.name }).waitFor();
  await scan(page, piece.barcode);  // two pieces: the code pays all but the ¥1.00 of cash

  // The provider is the server's business: here the answer is held back, then a decline.
  let sent = null;
  await context.route('**/api/v1/pos/sales', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    sent = JSON.parse(route.request().postData());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return route.fulfill({
      status: 402, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'payment_declined', message: '顾客余额不足，请换一种付款方式 / the customer\'s balance is not enough',
                                      details: { field: 'tenders[0].auth_code', provider: 'wechat', provider_code: 'NOT_ENOUGH' } } }),
    });
  });
  await page.keyboard.press('F10');
  await page.locator('#tender-dialog').waitFor();
  // ¥1.00 in cash first: the decline of the code must not lose it.
  await page.keyboard.press('F1');
  await page.locator('#tender-amount').fill('1');
  await page.locator('#tender-amount').press('Enter');
  await page.locator('#tender-remaining', { hasText: money(2 * piece.price_fen - 100) }).waitFor();
  await page.keyboard.press('F6');
  await page.locator('#tender-code').waitFor();
  await scan(page, '1345');  // not a payment code: refused on the page, the field selected
  await page.locator('#tender-error', { hasText: '不是微信或支付宝付款码' }).waitFor();
  await scan(page, '134567890123456789');  // scanned again over the selection
  await page.locator('#tender-waiting', { hasText: '等待顾客输入密码' }).waitFor();
  await page.screenshot({ path: `${artifacts}/pos-code-waiting.png` });
  await page.locator('#tender-error', { hasText: '顾客余额不足' }).waitFor();
  assert.ok(await page.locator('#tender-waiting').isHidden());
  assert.deepEqual(sent.tenders.map((t) => [t.method, t.amount_fen, t.auth_code]),
    [['cash', 100, undefined], ['wechat_code', 2 * piece.price_fen - 100, '134567890123456789']]);
  // The cash is still there (only the used-up code went), and nobody is told to wait any more.
  await page.locator('#tender-remaining', { hasText: money(2 * piece.price_fen - 100) }).waitFor();
  assert.doesNotMatch(await page.locator('#pos-message').textContent(), /等待顾客输入密码/);
  assert.doesNotMatch(await page.locator('#tender-error').textContent(), /请重试/);
  // The customer takes the ¥1.00 back (Del) and pays it all with another code.
  await page.keyboard.press('Delete');
  await page.locator('#tender-remaining', { hasText: money(2 * piece.price_fen) }).waitFor();

  // Another code, and this time the server charges it at the payment simulator.
  await context.unroute('**/api/v1/pos/sales');
  await page.keyboard.press('F6');
  await page.locator('#tender-code').waitFor();
  await scan(page, '134567890123456781');
  const done = page.locator('#done-dialog');
  await done.waitFor();
  const number = (await page.locator('#done-number').textContent()).replace('单号 ', '').trim();
  await page.keyboard.press('Enter');
  await done.waitFor({ state: 'hidden' });
  const sale = (await call(context, 'GET', `/api/v1/pos/sales/by-number/${number}`)).body;
  assert.deepEqual(sale.tenders.map((t) => [t.method, t.amount_fen]), [['wechat_code', 2 * piece.price_fen]]);

  // 原路退回: the refund dialog gives it back to the code through the provider.
  await scan(page, number);
  const refund = page.locator('#refund-dialog');
  await refund.waitFor();
  await refund.locator(`#refund-rows input[data-line="${sale.lines[0].id}"]`).fill('1');
  assert.equal(await refund.locator('#refund-method').inputValue(), '', 'the original payment, by default');
  // The first answer is lost (503): the key is kept for the retry of the same refund, but a
  // refund the cashier then changes (here: not back on the shelf) is another one, under a new
  // key (the old one would be 409 idempotency_mismatch at the server).
  const keys = [];
  await context.route('**/api/v1/pos/refunds', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (keys.length > 1) return route.continue();
    return route.fulfill({
      status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'unavailable', message: '支付渠道暂未确认退款 / not confirmed yet', details: {} } }),
    });
  });
  await page.keyboard.press('F10');
  await page.waitForFunction(() => document.querySelector('#refund-error').textContent.trim() !== '');
  await refund.locator(`#refund-rows input[data-restock="${sale.lines[0].id}"]`).uncheck();
  await page.keyboard.press('F10');
  await refund.locator('#refund-result', { hasText: '微信付款码' }).waitFor();
  await context.unroute('**/api/v1/pos/refunds');
  assert.equal(keys.length, 2);
  assert.notEqual(keys[1], keys[0], 'a changed choice is sent under a new key');
  assert.match(await refund.locator('#refund-result').textContent(), new RegExp(`已退款 ${money(piece.price_fen).replace('.', '\\.')}`));
  await page.screenshot({ path: `${artifacts}/pos-refund-code.png` });
  await page.keyboard.press('Escape');
  const refunded = (await call(context, 'GET', `/api/v1/pos/sales/${sale.id}`)).body;
  assert.deepEqual(refunded.refunds.map((r) => [r.method, r.total_fen]), [['wechat_code', piece.price_fen]]);
  // The simulator gave the money back to the payer: one refund of the price.
  const orders = await (await fetch(`${process.env.PAYSIM_URL}/sim/orders`)).json();
  const order = orders.find((o) => o.transaction_id === sale.tenders[0].reference);
  assert.ok(order, JSON.stringify(sale.tenders));
  assert.equal(order.refunded_fen, piece.price_fen);
  assert.deepEqual(problems.filter((p) => !p.includes('402') && !p.includes('503')), []);
  await context.close();
});
