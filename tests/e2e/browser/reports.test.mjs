// The manager's reports tab (报表) as the manager uses it on a 1280×900 desktop: a counter sale of
// a moment ago, the tab opened, the sales chart drawn (an ECharts canvas of real size, fed with
// the API's figures), every grouping the page offers with its table equal to the JSON report of
// the same period, the CSV downloaded (BOM, header row, the items adding up to the 合计 Total
// row), Chinese first and English by the switch. The payments reconciliation (支付对账) after a
// WeChat and an Alipay 付款码 sale (the simulator), a card sale and a WeChat refund: its providers'
// figures and movements equal to the API, the provider filter asking the API and carried by the
// CSV link. A cashier neither reaches the tab nor the API
// (403). No page or console errors. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { artifacts, base, call, desktop, launchBrowser, money, openAdmin, openShift, parseCsv, shanghaiToday, signedIn, watch, yuan } from './support.mjs';

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

  const { page, problems } = await openAdmin(admin, '报表 Reports');
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

/** The payments reconciliation's kinds of movement, as the page names them. */
const KINDS = {
  sale: '柜台销售', refund: '柜台退款', refund_failed: '退款未成功冲回', order_payment: '网店付款',
  order_refund: '网店退款', surplus_payment: '重复付款', surplus_return: '重复付款退回',
};
const PROVIDERS = { wechat: '微信支付', alipay: '支付宝', card: '银行卡', other: '其他' };

/** A table's body rows as the cells' text. */
const tableRows = (table) => table.locator('tbody tr').evaluateAll((rows) =>
  rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent.trim())));

/** What the page shows of a report of payments: the providers with the totals, the movements. */
function paymentRows(report) {
  const figures = (t) => [money(t.received_fen), money(-t.refunded_fen), money(t.net_fen),
                          String(t.received_count + t.refunded_count)];
  return {
    providers: [...report.providers.map((p) => [PROVIDERS[p.provider], ...figures(p)]), ['合计', ...figures(report)]],
    movements: report.items.map((m) => [
      `${m.booked_at.slice(0, 10)} ${m.booked_at.slice(11, 19)}`,
      m.method.endsWith('_code') ? `${PROVIDERS[m.provider]} · 付款码` : PROVIDERS[m.provider],
      KINDS[m.kind], m.document, m.trade_no, m.transaction_id, money(m.amount_fen)]),
  };
}

test('支付对账: the manager reads each provider\'s money in and out and every movement with its trade numbers, filters by provider and downloads its CSV', async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop, acceptDownloads: true });
  const villages = (await call(admin, 'GET', '/api/v1/villages')).body.items;
  const products = (await call(admin, 'GET', '/api/v1/products?page_size=100')).body.items;
  const product = products.filter((p) => p.unit === 'piece' && p.kind !== 'bundle' && p.price_fen < 10000 &&
                                         villages.some((v) => v.id === p.village_id))[2];
  assert.ok(product, 'a demo product sold by the piece');
  const received = await call(admin, 'POST', '/api/v1/stock/receipts', {
    village_id: product.village_id, note: 'payments reconciliation page test',
    lines: [{ product_id: product.id, quantity: 6, lot: `PR-${Date.now()}`, produced_on: shanghaiToday() }],
  });
  assert.equal(received.status, 201, JSON.stringify(received.body));
  const { shift, opened } = await openShift(admin);

  // Today: a WeChat 付款码 sale (the simulator pays it at once) refunded the same way, an Alipay
  // 付款码 sale and a card sale: movements in and out through three providers.
  const sell = async (tender) => {
    const sale = await call(admin, 'POST', '/api/v1/pos/sales', {
      lines: [{ product_id: product.id, quantity: 1 }],
      tenders: [{ amount_fen: product.price_fen, ...tender }],
    }, { 'Idempotency-Key': `payments-page-${tender.method}-${Date.now()}` });
    assert.equal(sale.status, 201, JSON.stringify(sale.body));
    return sale.body;
  };
  const wechat = await sell({ method: 'wechat_code', auth_code: '134567890123456789' });
  await sell({ method: 'alipay_code', auth_code: '281234567890123456' });
  await sell({ method: 'card', reference: '6222' });
  const refund = await call(admin, 'POST', '/api/v1/pos/refunds', { sale_id: wechat.id, method: 'wechat_code' },
                            { 'Idempotency-Key': `payments-page-refund-${Date.now()}` });
  assert.equal(refund.status, 201, JSON.stringify(refund.body));

  const { page, problems } = await openAdmin(admin, '报表 Reports');
  const tab = page.locator('#tab-reports');
  const section = tab.locator('#report-payments section.report');
  await section.locator('table').nth(1).locator('tbody tr').first().waitFor();
  assert.match(await tab.locator('section.report').last().locator('h2').textContent(), /^支付对账 \(/,
               'after the other reports');
  const from = await tab.locator('input[name="from"]').inputValue();
  const to = await tab.locator('input[name="to"]').inputValue();
  const period = `from=${from}&to=${to}`;

  // All providers: the page shows the API's figures and every movement, today's among them.
  const all = (await call(admin, 'GET', `/api/v1/reports/payments?${period}`)).body;
  assert.equal(all.provider, null);
  for (const provider of ['wechat', 'alipay', 'card']) {
    assert.ok(all.providers.some((p) => p.provider === provider && p.received_count > 0), `${provider} has money in`);
  }
  const refundItem = all.items.find((m) => m.kind === 'refund' && m.document === wechat.number);
  assert.ok(refundItem && refundItem.amount_fen === -product.price_fen && refundItem.trade_no,
            `the WeChat refund is listed with its number: ${JSON.stringify(refundItem)}`);
  const saleItem = all.items.find((m) => m.kind === 'sale' && m.document === wechat.number);
  assert.ok(saleItem?.trade_no && saleItem.transaction_id, `the WeChat sale has both numbers: ${JSON.stringify(saleItem)}`);
  const expected = paymentRows(all);
  assert.deepEqual(await section.locator('table').first().locator('thead th').allTextContents(),
                   ['支付渠道', '收入', '支出', '净额', '笔数']);
  assert.deepEqual(await tableRows(section.locator('table').first()), expected.providers);
  const movements = section.locator('table').nth(1);
  const shownRows = await tableRows(movements);
  assert.deepEqual(shownRows, expected.movements);
  assert.deepEqual(shownRows.find((r) => r[4] === refundItem.trade_no).slice(1, 4),
                   ['微信支付 · 付款码', '柜台退款', wechat.number]);
  // Money out stands apart: negative, and in another colour than money in.
  const amount = (trade) => movements.locator('tbody tr', { hasText: trade }).locator('td').last();
  const colour = (locator) => locator.evaluate((td) => getComputedStyle(td).color);
  assert.equal(await amount(refundItem.trade_no).textContent(), money(-product.price_fen));
  assert.equal(await amount(refundItem.trade_no).getAttribute('class'), 'num out');
  assert.notEqual(await colour(amount(refundItem.trade_no)), await colour(amount(saleItem.transaction_id)));
  assert.equal(await section.getByRole('link', { name: '下载 CSV' }).getAttribute('href'),
               `/api/v1/reports/payments?${period}&format=csv`);
  await section.scrollIntoViewIfNeeded();
  await section.screenshot({ path: `${artifacts}/payments-all.png` });

  // WeChat Pay only: the page asks the API with provider=wechat, shows its answer, and the CSV
  // link carries the filter.
  const [asked] = await Promise.all([
    page.waitForRequest((request) => request.url().includes('/api/v1/reports/payments?')),
    section.locator('select[name="provider"]').selectOption('wechat'),
  ]);
  assert.equal(new URL(asked.url()).searchParams.get('provider'), 'wechat');
  assert.equal(new URL(asked.url()).searchParams.get('from'), from);
  await section.locator('h2', { hasText: '支付对账 · 微信支付' }).waitFor();
  assert.equal(await section.locator('select[name="provider"]').inputValue(), 'wechat');
  const onlyWechat = (await call(admin, 'GET', `/api/v1/reports/payments?${period}&provider=wechat`)).body;
  assert.equal(onlyWechat.provider, 'wechat');
  assert.ok(onlyWechat.items.length > 0 && onlyWechat.items.every((m) => m.provider === 'wechat'));
  const wechatRows = paymentRows(onlyWechat);
  assert.deepEqual(await tableRows(section.locator('table').first()), wechatRows.providers);
  assert.deepEqual(await tableRows(section.locator('table').nth(1)), wechatRows.movements);
  const link = section.getByRole('link', { name: '下载 CSV' });
  assert.equal(await link.getAttribute('href'), `/api/v1/reports/payments?${period}&provider=wechat&format=csv`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), `payments-wechat-${from}-${to}.csv`);
  const rows = parseCsv((await readFile(await download.path())).toString('utf8'));
  assert.equal(rows[0][0], '业务日 Business day');
  assert.equal(rows.at(-1)[0], '合计 Total');
  assert.equal(rows.at(-1)[8], yuan(onlyWechat.received_fen), 'the CSV total is the API total');
  assert.ok(rows.some((r) => r[6] === refundItem.trade_no), 'the refund\'s trade number is in the CSV');
  assert.ok(rows.slice(1, -1).every((r) => r[2] === '' || r[2].startsWith('微信支付')), 'WeChat Pay only');
  await section.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artifacts}/payments.png` });

  // The filter outlives the switch to English; the kinds and providers are named in English.
  await page.getByRole('button', { name: 'English' }).click();
  await section.locator('h2', { hasText: 'Payments reconciliation · WeChat Pay' }).waitFor();
  assert.equal(await section.locator('select[name="provider"]').inputValue(), 'wechat');
  const english = await tableRows(section.locator('table').nth(1));
  assert.ok(english.some((r) => r[1] === 'WeChat Pay · payment code' && r[2] === 'Counter refund' &&
                                r[4] === refundItem.trade_no), 'the refund in English');
  assert.deepEqual((await tableRows(section.locator('table').first())).at(-1)[0], 'Total');
  await page.getByRole('button', { name: '中文' }).click();
  await section.locator('h2', { hasText: '支付对账 · 微信支付' }).waitFor();

  // Back to all providers.
  await section.locator('select[name="provider"]').selectOption('');
  await section.locator('h2', { hasText: /^支付对账 \(/ }).waitFor();
  assert.equal(await section.getByRole('link', { name: '下载 CSV' }).getAttribute('href'),
               `/api/v1/reports/payments?${period}&format=csv`);

  // A period of 90 days: the other reports cover it, the reconciliation its last 31 days (the
  // API's most), as its title says.
  const shiftDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
  await tab.locator('input[name="from"]').fill(shiftDays(to, -89));
  const [longer] = await Promise.all([
    page.waitForRequest((request) => request.url().includes('/api/v1/reports/payments?')),
    tab.getByRole('button', { name: '查询' }).click(),
  ]);
  assert.equal(new URL(longer.url()).searchParams.get('from'), shiftDays(to, -30));
  assert.equal(new URL(longer.url()).searchParams.get('to'), to);
  await section.locator('h2', { hasText: `支付对账 (${shiftDays(to, -30)} – ${to})` }).waitFor();
  await tab.locator('h2', { hasText: shiftDays(to, -89) }).first().waitFor();

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
                      '/api/v1/reports/slow-movers', '/api/v1/reports/expiring', '/api/v1/reports/payments',
                      '/api/v1/reports/payments?provider=wechat&format=csv']) {
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

test('stock receiving: a refusal is shown beside the form, in sight, not at the top of the long tab', async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop });
  const { page, problems } = await openAdmin(admin, '库存 Stock');
  const tab = page.locator('#tab-stock');
  await tab.getByRole('button', { name: '入库', exact: true }).click();
  const form = tab.locator('#receive-form');
  await form.waitFor();
  await form.getByRole('button', { name: '提交' }).click();  // no quantity: 422 naming it
  const message = form.locator('.form-message');
  await message.waitFor();
  assert.notEqual((await message.textContent()).trim(), '');
  const box = await message.boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box.y >= 0 && box.y + box.height <= viewport.height, `in sight: y ${box.y} of ${viewport.height}`);
  assert.ok(problems.every((p) => p.includes('422')), problems.join('\n'));
  await admin.close();
});
