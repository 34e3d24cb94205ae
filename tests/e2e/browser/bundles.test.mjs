// Gift boxes (礼盒) on the pages: the storefront's product page of the demo 春节礼盒 lists what is
// inside and from which villages, and how many boxes can be sold now.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
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

test('a gift box page shows its contents, their villages and the boxes available', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${base}/products.html?q=${encodeURIComponent('春节礼盒')}`);
  await page.locator('#products .product-card', { hasText: '春节礼盒' }).first().click();
  await page.waitForURL(/product\.html\?id=\d+/);
  const contents = page.locator('#bundle-contents li');
  await contents.first().waitFor();
  assert.equal(await contents.count(), 4);
  const text = (await contents.allTextContents()).join(' ');
  for (const village of ['瑶前村', '型厝村', '东鲤村']) assert.match(text, new RegExp(village));
  assert.match(text, /型厝头水紫菜 100g × 2/);
  await page.locator('#bundle-available', { hasText: /现可售 \d+ 盒/ }).waitFor();
  assert.match(await page.locator('.product-info').textContent(), /礼盒内含/);
  await page.screenshot({ path: `${artifacts}/storefront-gift-box.png`, fullPage: true });

  await page.getByRole('button', { name: 'English' }).click();
  await page.locator('.product-info h2', { hasText: 'What is in the box' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

async function call(context, method, path, data) {
  const response = await context.request.fetch(path, {
    method, data, headers: { 'X-Requested-With': 'yizhan' },
  });
  const text = await response.text();
  return { status: response.status(), body: text ? JSON.parse(text) : null };
}

test('the counter shows the villages and contents of a box and sells it as one line', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', baseURL: base });
  let answer;
  for (let attempt = 0; attempt < 10; attempt++) {
    answer = await context.request.post('/api/v1/auth/login', {
      headers: { 'X-Requested-With': 'yizhan' }, data: { username: 'admin', password: process.env.DEMO_PASSWORD },
    });
    if (answer.status() !== 429) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  assert.equal(answer.status(), 200);
  await context.addInitScript(() => { window.print = () => {}; });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto('/pos/');
  await page.locator('body[data-ready="true"]').waitFor();
  const dialog = page.locator('#shift-dialog');
  await dialog.waitFor();
  await dialog.getByLabel('收银台').fill('柜台2');
  await dialog.getByLabel('备用金（元）').fill('0');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  try {
    await page.keyboard.type('安海伴手礼');
    const result = page.locator('#results li', { hasText: '安海伴手礼' }).first();
    await result.waitFor();
    assert.match(await result.textContent(), /礼盒 · .*东鲤村/);
    await page.keyboard.press('Enter');
    const row = page.locator('#cart-rows tr', { hasText: '安海伴手礼' });
    await row.waitFor();
    assert.match(await row.textContent(), /礼盒内含 .*仁寿红色文创徽章×2（仁寿村）/);
    await page.screenshot({ path: `${artifacts}/pos-gift-box.png` });

    await page.keyboard.press('F10');
    await page.locator('#tender-dialog').waitFor();
    await page.keyboard.press('F1');
    await page.keyboard.type('56');
    await page.keyboard.press('Enter');
    await page.locator('#done-dialog').waitFor();
    const sales = await call(context, 'GET', '/api/v1/pos/sales');
    const sale = (await call(context, 'GET', `/api/v1/pos/sales/${sales.body.items[0].id}`)).body;
    assert.equal(sale.lines.length, 1);
    assert.equal(sale.lines[0].kind, 'bundle');
    assert.equal(sale.lines[0].gross_fen, 5600);
    assert.equal(sale.lines[0].components.length, 3);
    assert.deepEqual(problems, []);
  } finally {
    const shift = await call(context, 'GET', '/api/v1/pos/shifts/current');
    if (shift.status === 200) {
      const x = (await call(context, 'GET', `/api/v1/pos/shifts/${shift.body.id}/report`)).body;
      await call(context, 'POST', `/api/v1/pos/shifts/${shift.body.id}/close`, { counted_cash_fen: x.expected_cash_fen });
    }
    await context.close();
  }
});
