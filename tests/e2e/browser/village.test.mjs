// The village portal on a phone, as a village collective uses it: a counter sale made a moment
// before shows in today's figures with its share to the fen, the charts render with data
// (Apache ECharts on a canvas), the shelf and the settlements section are there, and the
// village's session cannot read another village's figures. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifacts, base, call, desktop, launchBrowser, money, openShift, password, phone, signedIn } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => browser?.close());

test('a village sees the counter sale of a moment ago, its charts, and nothing of another village', async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop });
  const villages = (await call(admin, 'GET', '/api/v1/villages')).body.items;
  const products = (await call(admin, 'GET', '/api/v1/products?page_size=100')).body.items;
  const product = products.find((p) => p.unit === 'piece' && p.price_fen < 10000 &&
                                       villages.some((v) => v.id === p.village_id));
  assert.ok(product, 'a demo product sold by the piece');
  const village = villages.find((v) => v.id === product.village_id);
  const other = villages.find((v) => v.id !== village.id);

  // What the village had today before this sale (other tests may have sold its goods).
  const villageContext = await signedIn(browser, village.code);
  const before = (await call(villageContext, 'GET', `/api/v1/villages/${village.id}/summary`)).body;

  const received = await call(admin, 'POST', '/api/v1/stock/receipts', {
    village_id: village.id, note: 'village portal test',
    lines: [{ product_id: product.id, quantity: 10, lot: `VP-${Date.now()}`, produced_on: before.business_day }],
  });
  assert.equal(received.status, 201, JSON.stringify(received.body));
  const { shift, opened } = await openShift(admin);
  const total = product.price_fen * 3;
  const sale = await call(admin, 'POST', '/api/v1/pos/sales', {
    lines: [{ product_id: product.id, quantity: 3 }],
    tenders: [{ method: 'cash', amount_fen: total, tendered_fen: total }],
  }, { 'Idempotency-Key': `village-portal-${Date.now()}` });
  assert.equal(sale.status, 201, JSON.stringify(sale.body));
  const share = sale.body.lines.reduce((sum, line) => sum + line.share_fen, 0);
  const gross = sale.body.lines.reduce((sum, line) => sum + line.gross_fen, 0);

  // The village signs in on its phone through the login page.
  const page = await (await browser.newContext({ viewport: phone, locale: 'zh-CN', isMobile: true, hasTouch: true })).newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  await page.goto(`${base}/login.html`);
  await page.getByLabel('账号').fill(village.code);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/village\/$/);
  await page.locator('body[data-ready="true"]').waitFor();

  // Today's figures include the sale, exactly.
  const todayShare = page.locator('#today dd[data-field="share"]');
  assert.equal(await todayShare.textContent(), money(before.today.share_fen + share));
  assert.equal(await page.locator('#today dd[data-field="gross"]').textContent(), money(before.today.gross_fen + gross));
  assert.equal(await page.locator('#today dd[data-field="sales_count"]').textContent(), String(before.today.sales_count + 1));
  assert.equal(await page.locator('#month dd[data-field="share"]').textContent(), money(before.month.share_fen + share));
  assert.equal(await page.locator('#balance').textContent(), money(before.balance_fen + share));

  // The charts are ECharts canvases holding the figures.
  for (const id of ['chart-day', 'chart-product']) {
    await page.locator(`#${id} canvas`).first().waitFor();
    const series = await page.evaluate((elementId) => {
      const chart = window.echarts.getInstanceByDom(document.getElementById(elementId));
      return chart.getOption().series.map((s) => s.data);
    }, id);
    const grossSeries = series[0];
    assert.ok(grossSeries.length > 0, `${id} has data`);
    assert.ok(grossSeries.reduce((sum, value) => sum + value, 0) >= before.month.gross_fen + gross, `${id} holds this month's sales`);
  }
  const dayData = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('chart-day')).getOption().series[1].data);
  assert.equal(dayData.at(-1), before.today.share_fen + share, "today's point is today's share");
  await page.locator('#product-table tbody tr', { hasText: product.name }).waitFor();

  // The shelf lists the product; settlements show, or say there are none yet.
  await page.locator('#stock-table tbody tr', { hasText: product.name }).waitFor();
  const settlements = await page.locator('#settlement-list li').count();
  if (settlements === 0) assert.equal(await page.locator('#settlements-empty').isVisible(), true);
  await page.screenshot({ path: `${artifacts}/village-portal-phone.png`, fullPage: true });

  // Another village's figures are not this village's to read.
  for (const path of ['summary', 'revenue?group=product', 'balance', 'stock']) {
    const refused = await call(villageContext, 'GET', `/api/v1/villages/${other.id}/${path}`);
    assert.ok([403, 404].includes(refused.status), `${path}: ${refused.status}`);
    assert.equal(refused.body.error.code === 'forbidden' || refused.body.error.code === 'not_found', true);
    assert.equal(JSON.stringify(refused.body).includes('share_fen'), false, 'no figures');
  }
  const admitted = await page.evaluate(async (id) => (await fetch(`/api/v1/villages/${id}/summary`)).status, other.id);
  assert.ok([403, 404].includes(admitted), 'not from the page either');
  assert.deepEqual(problems, []);

  if (opened) {
    const x = (await call(admin, 'GET', `/api/v1/pos/shifts/${shift.id}/report`)).body;
    await call(admin, 'POST', `/api/v1/pos/shifts/${shift.id}/close`, { counted_cash_fen: x.expected_cash_fen });
  }
  await Promise.all([admin.close(), villageContext.close(), page.context().close()]);
});
