// The pages as a person uses them: the storefront in both languages, search and a product;
// sign-in messages; the admin creating a product (wrong barcode first), its photo, and finding
// it on the storefront. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

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

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  // Expected 4xx answers (401 before sign-in, 422 for a wrong field) are logged as resource
  // errors by Chromium; anything else on the console is a problem.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(message.text());
    }
  });
  return { page, problems };
}

// A valid 2×2 PNG.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAE0lEQVR42mM4YGAARAwGEwyACAAfXgQhawRZLwAAAABJRU5ErkJggg==',
  'base64');

test('storefront: Chinese first, English on request, search 茶 and open a product', async () => {
  const { page, problems } = await newPage({ width: 390, height: 844 });  // a phone
  await page.goto(`${base}/`);
  await assert.doesNotReject(page.getByRole('heading', { name: '各村好物，一站汇聚' }).waitFor());
  await page.locator('#featured .product-card').first().waitFor();
  assert.ok(await page.locator('#villages .village-card').count() >= 9, 'every member village is shown');
  await page.screenshot({ path: `${artifacts}/storefront-home.png`, fullPage: true });

  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: "The villages' best, in one place" }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('heading', { name: '各村好物，一站汇聚' }).waitFor();

  await page.locator('#search-input').fill('茶');
  await page.locator('form.search button[type=submit]').click();
  await page.waitForURL(/products\.html\?q=/);
  await page.locator('#products .product-card').first().waitFor();
  const names = await page.locator('#products .product-card h3').allTextContents();
  assert.ok(names.some((name) => name.includes('铁观音')), `tea found: ${names}`);
  assert.match(await page.locator('#list-count').textContent(), /共 \d+ 件商品/);

  await page.locator('#products .product-card', { hasText: '铁观音' }).first().click();
  await page.waitForURL(/product\.html\?id=\d+/);
  await page.locator('.product-info h1').waitFor();
  assert.match(await page.locator('.price.big').textContent(), /¥\d+\.\d\d \/ 斤/);
  assert.match(await page.locator('.product-info').textContent(), /产地与做法/);
  await page.screenshot({ path: `${artifacts}/storefront-product.png`, fullPage: true });
  assert.deepEqual(problems, []);
});

test('sign-in shows clear messages for a wrong password and for too many attempts', async () => {
  const { page } = await newPage();
  await page.goto(`${base}/login.html`);
  await page.getByLabel('账号').fill('cashier1');
  await page.getByLabel('密码').fill('not the password');
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByText('账号或密码不正确。').waitFor();
  // One attempt at a time, each answered before the next: on a loaded machine answers to
  // overlapping attempts can arrive out of order and a late 401 would hide the 429's message.
  const tooMany = page.getByText(/失败次数过多，请 \d+ 分钟后再试。/);
  for (let i = 0; i < 8 && !(await tooMany.isVisible()); i++) {
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await page.getByRole('button', { name: '登录' }).click();
    await answered;
  }
  await tooMany.waitFor();
});

test('admin creates a product, fixes a wrong barcode, uploads a photo; the storefront shows it', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${base}/admin/`);
  await page.waitForURL(/login\.html\?next=/);
  await page.getByLabel('账号').fill('admin');
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/admin\/$/);
  await page.locator('#product-rows tr').first().waitFor();

  await page.getByRole('button', { name: '新建商品' }).click();
  const form = page.locator('#product-form');
  await form.getByLabel('货号').fill('YZ-TEST-1');
  await form.getByLabel('条码（EAN-13）').fill('6901234567893');  // check digit should be 2
  await form.getByLabel('名称', { exact: true }).fill('安海测试乌龙茶');
  await form.getByLabel('所属村').selectOption({ label: '瑶前村' });
  await form.getByLabel('分类').selectOption({ label: '茶叶' });
  await form.getByLabel('价格（元）').fill('58.80');
  await form.getByLabel('介绍').fill('浏览器测试创建的商品');
  await form.getByRole('button', { name: '保存' }).click();
  const barcodeError = form.locator('.field-error[data-for="barcode"]');
  await barcodeError.filter({ hasText: /check digit/ }).waitFor();
  assert.equal(await form.getByLabel('条码（EAN-13）').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: `${artifacts}/admin-product-form.png`, fullPage: true });

  await form.getByLabel('条码（EAN-13）').fill('6901234567892');
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('已保存。').waitFor();
  assert.equal(await barcodeError.textContent(), '');
  await form.locator('#p-photo').setInputFiles({ name: 'tea.png', mimeType: 'image/png', buffer: png });
  await form.getByText('照片已上传。').waitFor();
  assert.match(await page.locator('#photo-preview').getAttribute('src'), /^\/media\/products\/\d+-[0-9a-f]+\.png$/);
  await form.getByRole('button', { name: '取消' }).click();

  await page.goto(`${base}/products.html?q=${encodeURIComponent('安海测试乌龙茶')}`);
  const card = page.locator('#products .product-card', { hasText: '安海测试乌龙茶' });
  await card.waitFor();
  assert.match(await card.locator('img').getAttribute('src'), /^\/media\/products\//);
  assert.match(await card.locator('.price').textContent(), /¥58\.80 \/ 件/);
  await card.click();
  await page.locator('.product-info h1', { hasText: '安海测试乌龙茶' }).waitFor();
  const loaded = await page.locator('.product-photo').evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(loaded, 'the uploaded photo is served');

  // The change is in the audit log the manager can read.
  await page.goto(`${base}/admin/`);
  await page.getByRole('button', { name: '操作记录' }).click();
  const created = page.locator('#audit-rows tr', { hasText: 'POST /api/v1/products' }).first();
  await created.waitFor();
  assert.match(await created.textContent(), /admin/);
  assert.deepEqual(problems, []);
});

test('a village collective sees its own terms', async () => {
  const { page, problems } = await newPage({ width: 390, height: 844 });
  await page.goto(`${base}/login.html`);
  await page.getByLabel('账号').fill('xingcuo');
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/village\/$/);
  await page.locator('#village-name', { hasText: '型厝村' }).waitFor();
  // The terms arrive with the rest of the page, after the name.
  await page.locator('body[data-ready="true"]').waitFor();
  assert.match(await page.locator('#village-terms').textContent(), /驿站服务费比例：15\.00%.*¥85\.00/);
  assert.equal(await page.locator('#village-picker').isHidden(), true, 'no other villages to pick');
  // Its rate history: the term in force now, marked as current.
  const current = page.locator('#terms-table tbody tr[data-status="current"]');
  assert.equal(await current.count(), 1);
  assert.match(await current.textContent(), /本村默认.*15\.00%.*现行/);
  assert.deepEqual(problems, []);
});

test('admin schedules a commission change from a date; a past date is refused', async () => {
  const { page, problems } = await newPage();
  await page.goto(`${base}/admin/`);
  await page.waitForURL(/login\.html\?next=/);
  await page.getByLabel('账号').fill('admin');
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/admin\/$/);
  await page.getByRole('button', { name: '成员村', exact: true }).click();
  const row = page.locator('#village-rows tr', { hasText: '瑶前村' });
  await row.getByRole('button', { name: '佣金条款（按日期生效）' }).click();
  const form = page.locator('#terms-form');
  await form.locator('#terms-rows tr[data-status="current"]').first().waitFor();
  // Tomorrow in Beijing time, the station's business day.
  const tomorrow = new Date(Date.now() + (8 + 24) * 3600 * 1000).toISOString().slice(0, 10);
  await form.getByLabel('费率（基点，1500 = 15%）').fill('1200');
  await form.getByLabel('生效日期（今天或以后）').fill(tomorrow);
  await form.getByLabel('备注', { exact: true }).fill('浏览器测试');
  await form.getByRole('button', { name: '添加条款' }).click();
  await form.getByText('条款已添加。').waitFor();
  const scheduled = form.locator('#terms-rows tr[data-status="scheduled"]').first();
  await scheduled.waitFor();
  assert.match(await scheduled.textContent(), new RegExp(`${tomorrow}本村默认1200 \\(12\\.00%\\)待生效`));

  await form.getByLabel('费率（基点，1500 = 15%）').fill('1100');
  await form.getByLabel('生效日期（今天或以后）').fill('2020-01-01');
  await form.getByRole('button', { name: '添加条款' }).click();
  await form.locator('.field-error[data-for="effective_from"]').filter({ hasText: /before today/ }).waitFor();
  assert.equal(await form.locator('#terms-rows tr[data-status="scheduled"]').count(), 1, 'nothing added');
  assert.deepEqual(problems, []);
});
