// The manager's reports tab (报表) as the manager uses it on a 1280×900 desktop: a counter sale of
// a moment ago, the tab opened, the sales chart drawn (an ECharts canvas of real size, fed with
// the API's figures), every grouping the page offers with its table equal to the JSON report of
// the same period, the CSV downloaded (BOM, header row, the items adding up to the 合计 Total
// row), Chinese first and English by the switch. A cashier neither reaches the tab nor the API
// (403). No page or console errors. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { artifacts, base, call, desktop, launchBrowser, money, openShift, parseCsv, shanghaiToday, signedIn, watch, yuan } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => browser?.close());

const percent = (bps) => `${(bps / 100).toFixed(2)}%`;

const GROUPS = {
  zh: { day: '按日', month: '按月', village: '按村', product: '按商品', category: '按品类', channel: '按渠道', method: '按支付方式' },
  en: { day: 'By day', month: 'By month', village: 'By village', product: 'By product', category: 'By category',
        channel: 'By channel', method: 'By payment method' },
};

/** The sales table's rows (cells' text), the totals row last. */
async function salesRows(section) {
  return section.locator('table tbody tr').evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent.trim())));
}

/** What the table shows of a report's item or totals: by payment method no commission columns
 *  (a tender is not split by village, the API answers 0 there). */
function figures(f, group) {
  return group === 'method'
    ? [money(f.gross_fen), money(f.refund_fen), String(f.sales_count)]
    : [money(f.gross_fen), money(f.refund_fen), money(f.fee_fen), money(f.share_fen), percent(f.effective_bps),
       String(f.sales_count)];
}

/** The page's sales table equals the JSON report: every item's figures in order, then the totals. */
function assertTableMatches(rows, report, group, total = '合计') {
  assert.equal(rows.length, report.items.length + 1, `${group}: one row per item and the totals`);
  report.items.forEach((item, i) => {
    assert.deepEqual(rows[i].slice(1), figures(item, group), `${group}: row ${i} (${item.key})`);
    if (item.name && total === '合计') assert.equal(rows[i][0], item.name, `${group}: row ${i} is named`);
  });
  assert.deepEqual(rows.at(-1), [total, ...figures(report, group)], `${group}: the totals row`);
}

/** The sales chart: an ECharts canvas of real size whose first bars are the report's figures. */
async function assertChartDrawn(page, report) {
  const box = page.locator('#chart-sales[data-ready="true"]');
  await box.waitFor();
  const size = await box.locator('canvas').first().boundingBox();
  assert.ok(size && size.width > 600 && size.height > 200, `the chart canvas has a size: ${JSON.stringify(size)}`);
  const series = await page.evaluate(() => {
    const chart = window.echarts.getInstanceByDom(document.querySelector('#chart-sales'));
    return chart.getOption().series.map((s) => s.data);
  });
  const gross = series[0].map((value, i) => value + (series.length > 1 && report.group !== 'village' &&
    report.group !== 'product' && report.group !== 'category' ? series[1][i] : 0));
  // By product the chart has the 20 best sellers (the table all of them).
  const charted = report.group === 'product' ? report.items.slice(0, 20) : report.items;
  assert.deepEqual(gross, charted.map((item) => item.gross_fen), `${report.group}: the chart shows the gross`);
}

test('the manager reads the sales reports: chart, every grouping equal to the API, CSV, Chinese and English', async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop, acceptDownloads: true });
  const villages = (await call(admin, 'GET', '/api/v1/villages')).body.items;
  const products = (await call(admin, 'GET', '/api/v1/products?page_size=100')).body.items;
  const product = products.filter((p) => p.unit === 'piece' && p.kind !== 'bundle' && p.price_fen < 10000 &&
                                         villages.some((v) => v.id === p.village_id))[1];
  assert.ok(product, 'a demo product sold by the piece');
  const village = villages.find((v) => v.id === product.village_id);

  // A counter sale of a moment ago (in cash, so the method grouping has it), so today has figures.
  const received = await call(admin, 'POST', '/api/v1/stock/receipts', {
    village_id: village.id, note: 'reports page test',
    lines: [{ product_id: product.id, quantity: 5, lot: `RP-${Date.now()}`, produced_on: shanghaiToday() }],
  });
  assert.equal(received.status, 201, JSON.stringify(received.body));
  const { shift, opened } = await openShift(admin);
  const total = product.price_fen * 2;
  const sale = await call(admin, 'POST', '/api/v1/pos/sales', {
    lines: [{ product_id: product.id, quantity: 2 }],
    tenders: [{ method: 'cash', amount_fen: total, tendered_fen: total }],
  }, { 'Idempotency-Key': `reports-page-${Date.now()}` });
  assert.equal(sale.status, 201, JSON.stringify(sale.body));

  const page = await admin.newPage();
  const problems = watch(page);
  await page.goto(`${base}/admin/`);
  await page.locator('#product-rows tr').first().waitFor();
  await page.getByRole('button', { name: '报表 Reports' }).click();
  const tab = page.locator('#tab-reports');
  const sales = tab.locator('section.report').first();
  await sales.locator('table tbody tr').first().waitFor();

  // The period the page shows by default: the last 30 days to today.
  const today = shanghaiToday();
  const from = await tab.locator('input[name="from"]').inputValue();
  const to = await tab.locator('input[name="to"]').inputValue();
  assert.equal(to, today);
  assert.equal((Date.parse(to) - Date.parse(from)) / 86400000, 29);
  const period = `from=${from}&to=${to}`;

  // By day first: the chart is drawn with the API's figures and today's row holds the sale.
  const byDay = (await call(admin, 'GET', `/api/v1/reports/sales?${period}&group=day`)).body;
  assert.equal(byDay.items.length, 30, 'every day of the period, zeros included');
  assert.ok(byDay.items.at(-1).gross_fen >= total, 'today has the sale');
  assert.match(await sales.locator('h2').textContent(), /销售 · 按日/);
  await assertChartDrawn(page, byDay);
  assertTableMatches(await salesRows(sales), byDay, 'day');
  await page.screenshot({ path: `${artifacts}/reports-admin-day.png`, fullPage: true });
  await page.screenshot({ path: `${artifacts}/reports-admin-day-top.png` });

  // Every grouping the page offers, each equal to the JSON report of the same period.
  const offered = await tab.locator('select[name="group"] option').evaluateAll((options) => options.map((o) => o.value));
  for (const group of ['village', 'product', 'channel', 'method']) assert.ok(offered.includes(group), `${group} is offered`);
  for (const group of offered.filter((g) => g !== 'day')) {
    await tab.locator('select[name="group"]').selectOption(group);
    await tab.getByRole('button', { name: '查询' }).click();
    await sales.locator('h2', { hasText: GROUPS.zh[group] }).waitFor();
    const report = (await call(admin, 'GET', `/api/v1/reports/sales?${period}&group=${group}`)).body;
    assert.equal(report.group, group);
    await assertChartDrawn(page, report);
    assertTableMatches(await salesRows(sales), report, group);
    const headers = await sales.locator('thead th').allTextContents();
    assert.equal(headers.includes('佣金'), group !== 'method', `${group}: commission column only where it is split`);
    if (group === 'village') {
      const row = report.items.find((item) => item.id === village.id || item.key === String(village.id));
      assert.ok(row && row.gross_fen >= total, `the village of the sale has it: ${JSON.stringify(row)}`);
    }
    if (group === 'channel') {
      assert.ok(report.items.find((item) => item.key === 'counter').gross_fen >= total);
      assert.ok((await salesRows(sales)).some((cells) => cells[0] === '柜台'), 'the counter is named in Chinese');
    }
    if (group === 'method') {
      assert.ok(report.items.find((item) => item.key === 'cash').gross_fen >= total);
      assert.ok((await salesRows(sales)).some((cells) => cells[0] === '现金'), 'cash is named in Chinese');
    }
    await page.screenshot({ path: `${artifacts}/reports-admin-${group}.png` });
  }

  // The CSV of what is shown (by payment method now): a BOM, the header, the items adding up to 合计.
  const method = (await call(admin, 'GET', `/api/v1/reports/sales?${period}&group=method`)).body;
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    sales.getByRole('link', { name: '下载 CSV' }).click(),
  ]);
  assert.match(download.suggestedFilename(), new RegExp(`^sales-method-${from}-${to}\\.csv$`));
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, for Excel');
  const rows = parseCsv(bytes.subarray(3).toString('utf8'));
  assert.equal(rows[0][0], '支付方式 Payment method');
  assert.equal(rows[0][2], '销售额(元) Gross (yuan)');
  const totals = rows.at(-1);
  assert.equal(totals[0], '合计 Total');
  assert.equal(totals[2], yuan(method.gross_fen), 'the CSV total is the API total');
  assert.equal(Number(totals[11]), method.sales_count);
  const items = rows.slice(1, -1);
  assert.equal(items.length, method.items.length);
  assert.equal(items.reduce((sum, r) => sum + Math.round(Number(r[2]) * 100), 0), method.gross_fen,
               'the methods add up to the total');
  assert.deepEqual(items.map((r) => r[2]), method.items.map((i) => yuan(i.gross_fen)));

  // English by the switch: the tab is drawn again in English, the same figures.
  await page.getByRole('button', { name: 'English' }).click();
  await sales.locator('h2', { hasText: `Sales · ${GROUPS.en.method}` }).waitFor();
  await tab.getByRole('button', { name: 'Show' }).waitFor();
  await sales.getByRole('link', { name: 'Download CSV' }).waitFor();
  const english = await salesRows(sales);
  assertTableMatches(english, method, 'method', 'Total');
  assert.ok(english.some((cells) => cells[0] === 'Cash'), 'cash is named in English');
  await assertChartDrawn(page, method);
  // The slow movers name their villages in English too (the API gives only the Chinese name).
  const slowVillages = await tab.locator('section.report').nth(4).locator('tbody tr td:nth-child(2)').allTextContents();
  assert.ok(slowVillages.length > 0, 'slow movers are listed');
  assert.ok(slowVillages.every((name) => !/[\u4e00-\u9fff]/.test(name) ||
                                         !villages.some((v) => v.name === name && v.name_en)),
            `villages in English: ${slowVillages.join(', ')}`);
  await page.screenshot({ path: `${artifacts}/reports-admin-english.png`, fullPage: true });
  await page.getByRole('button', { name: '中文' }).click();
  await sales.locator('h2', { hasText: `销售 · ${GROUPS.zh.method}` }).waitFor();

  // A bad period is refused in the page, naming the field, and nothing breaks.
  await tab.locator('input[name="from"]').fill(today);
  await tab.locator('input[name="to"]').fill(from);
  await tab.getByRole('button', { name: '查询' }).click();
  await tab.locator('.form-error:not([hidden])').waitFor();
  assert.match(await tab.locator('.form-error').textContent(), /出错了/);

  assert.deepEqual(problems, []);
  if (opened) {
    const x = (await call(admin, 'GET', `/api/v1/pos/shifts/${shift.id}/report`)).body;
    await call(admin, 'POST', `/api/v1/pos/shifts/${shift.id}/close`, { counted_cash_fen: x.expected_cash_fen });
  }
  await admin.close();
});

test('a cashier neither sees the reports tab nor reads a report (403); anonymous is 401', async () => {
  const cashier = await signedIn(browser, 'cashier1', { viewport: desktop, acceptDownloads: true });
  for (const path of ['/api/v1/reports/sales?group=day', '/api/v1/reports/sales?group=method&format=csv',
                      '/api/v1/reports/top-sellers', '/api/v1/reports/commission', '/api/v1/reports/stock-value',
                      '/api/v1/reports/slow-movers', '/api/v1/reports/expiring']) {
    const refused = await call(cashier, 'GET', path);
    assert.equal(refused.status, 403, `${path}: ${refused.status}`);
    assert.equal(typeof refused.body, 'object', `${path}: a JSON error, not a CSV`);
  }
  const page = await cashier.newPage();
  const problems = watch(page);
  await page.goto(`${base}/admin/`);
  await page.waitForURL(/\/login\.html/);
  assert.equal(await page.getByRole('button', { name: '报表 Reports' }).count(), 0, 'no reports tab for a cashier');
  const status = await page.evaluate(async () => (await fetch('/api/v1/reports/sales')).status);
  assert.equal(status, 403, 'from the page too');
  assert.deepEqual(problems, []);
  await cashier.close();

  const anonymous = await browser.newContext({ baseURL: base });
  assert.equal((await call(anonymous, 'GET', '/api/v1/reports/sales')).status, 401);
  await anonymous.close();
});
