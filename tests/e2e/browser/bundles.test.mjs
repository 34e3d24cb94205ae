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
