// The manager makes a gift box (礼盒) in the admin's product form: ticks 礼盒, chooses two products
// and their quantities; a mistake (the same product twice) is refused by the server and shown
// beside the row it names; the box saved is a bundle with those contents, the form shows them
// again, and the storefront's product page lists what is inside. The form speaks English after
// the switch. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { openAdmin } from './support.mjs';

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

async function call(context, method, path, data) {
  const response = await context.request.fetch(path, { method, data, headers: { 'X-Requested-With': 'yizhan' } });
  const text = await response.text();
  return { status: response.status(), body: text ? JSON.parse(text) : null };
}

function watch(page) {
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  return problems;
}

test('a manager makes a gift box in the product form and the storefront lists its contents', async () => {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', baseURL: base });
  let answer;
  for (let attempt = 0; attempt < 15; attempt++) {
    answer = await admin.request.post('/api/v1/auth/login', {
      headers: { 'X-Requested-With': 'yizhan' }, data: { username: 'admin', password },
    });
    if (answer.status() !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 1000 * (Number(answer.headers()['retry-after']) || 2)));
  }
  assert.equal(answer.status(), 200);
  const products = (await call(admin, 'GET', '/api/v1/products?page_size=100')).body.items;
  const pieces = products.filter((p) => p.active && p.kind !== 'bundle' && p.unit === 'piece');
  const first = pieces[0];
  const second = pieces.find((p) => p.village_id !== first.village_id);
  assert.ok(first && second, 'two piece products of two villages');
  const sku = `YZ-BOX-T${Date.now() % 1000000}`;

  const { page, problems } = await openAdmin(admin);
  await page.getByRole('button', { name: '新建商品' }).click();
  const dialog = page.locator('#product-dialog');
  await dialog.locator('input[name="bundle"]').waitFor();
  assert.equal(await dialog.locator('.bundle-details').isHidden(), true, 'no contents for an ordinary product');
  await dialog.locator('#p-sku').fill(sku);
  await dialog.locator('#p-name').fill('测试礼盒');
  await dialog.locator('#p-name_en').fill('Test gift box');
  // Above ¥100, so the tests that pick a cheap piece product of the demo never pick it.
  await dialog.locator('#p-price').fill('188');
  await dialog.locator('#p-unit').selectOption('g');
  await dialog.getByLabel('礼盒（由其他商品组成）').check();
  assert.equal(await dialog.locator('#p-unit').inputValue(), 'piece', 'a box is sold by the piece');
  const rows = dialog.locator('tr.component');
  assert.equal(await rows.count(), 2, 'two rows to start');

  // The same product twice: the server refuses, naming the second row, shown beside it.
  await rows.nth(0).locator('select').selectOption(String(first.id));
  await rows.nth(1).locator('select').selectOption(String(first.id));
  await dialog.getByRole('button', { name: '保存' }).click();
  await dialog.locator('.bundle-box .field-error:not(:empty)').first().waitFor();
  const named = await dialog.locator('.bundle-box .field-error:not(:empty)').first().getAttribute('data-for');
  assert.match(named, /^components(\[1\]\.product_id)?$/, `the error is beside the row: ${named}`);
  assert.equal((await call(admin, 'GET', `/api/v1/products?q=${sku}`)).body.items.length, 0, 'nothing saved');
  // A quantity that is not a number is caught in the page.
  await rows.nth(1).locator('select').selectOption(String(second.id));
  await rows.nth(1).locator('input').fill('两');
  await dialog.getByRole('button', { name: '保存' }).click();
  await dialog.locator('.field-error[data-for="components[1].quantity"]:not(:empty)').waitFor();
  // Put right: two of the second product.
  await rows.nth(1).locator('input').fill('2');
  await page.screenshot({ path: `${artifacts}/gift-box-admin-form.png` });
  await dialog.getByRole('button', { name: '保存' }).click();
  await dialog.locator('#product-form-message', { hasText: '已保存。' }).waitFor();

  const saved = (await call(admin, 'GET', `/api/v1/products?q=${sku}`)).body.items[0];
  assert.ok(saved, 'the box is saved');
  const box = (await call(admin, 'GET', `/api/v1/products/${saved.id}`)).body;
  assert.equal(box.kind, 'bundle');
  assert.equal(box.unit, 'piece');
  assert.deepEqual(box.components.map((c) => [c.product_id, c.quantity]), [[first.id, 1], [second.id, 2]]);
  // The form, opened again on the box, shows its contents.
  assert.equal(await dialog.locator('input[name="bundle"]').isChecked(), true);
  assert.equal(await rows.count(), 2);
  assert.equal(await rows.nth(1).locator('select').inputValue(), String(second.id));
  assert.equal(await rows.nth(1).locator('input').inputValue(), '2');
  await dialog.getByRole('button', { name: '取消' }).click();
  assert.deepEqual(problems, []);

  // The storefront's page of the box lists what is inside.
  const shopper = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const shop = await shopper.newPage();
  const shopProblems = watch(shop);
  await shop.goto(`${base}/product.html?id=${saved.id}`);
  const contents = shop.locator('#bundle-contents li');
  await contents.first().waitFor();
  assert.equal(await contents.count(), 2);
  const text = (await contents.allTextContents()).join(' ');
  assert.ok(text.includes(first.name), text);
  assert.ok(text.includes(`${second.name} × 2`), text);
  await shop.screenshot({ path: `${artifacts}/gift-box-storefront.png`, fullPage: true });
  assert.deepEqual(shopProblems, []);
  await shopper.close();

  // In English the form's box part speaks English.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'New product' }).click();
  await dialog.getByLabel('Gift box (made of other products)').waitFor();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: '中文' }).click();
  assert.deepEqual(problems, []);
  // Delisted again, so the page tests after this one see the demo catalog.
  assert.equal((await call(admin, 'PATCH', `/api/v1/products/${saved.id}`, { active: false })).status, 200);
  await admin.close();
});
