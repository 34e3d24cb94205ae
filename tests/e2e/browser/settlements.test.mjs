// A month's settlement as the manager and the village run it: the manager opens 结算 in the
// admin, drafts the village's settlement (a counter sale of a moment ago is in it), confirms it,
// records a partial payout, is refused a second one above what remains, then pays the rest; the
// village collective on its phone sees the settlement paid (已付款) with both payouts, and
// downloads the CSV (BOM, totals, the payouts). A village account cannot reach another village's
// settlement. Screenshots go to $ARTIFACTS.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';

import { artifacts, base, call, desktop, launchBrowser, money, openShift, parseCsv, phone, shanghaiToday, signedIn, watch, yuan } from './support.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => browser?.close());

test('the manager drafts, confirms and pays a settlement in two parts; the village sees it paid and downloads the CSV', async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop });
  const villages = (await call(admin, 'GET', '/api/v1/villages')).body.items;
  const products = (await call(admin, 'GET', '/api/v1/products?page_size=100')).body.items;
  // The last village with a piece product (the portal test takes the first one).
  const product = products.filter((p) => p.unit === 'piece' && p.kind !== 'bundle' && p.price_fen < 10000 &&
                                         villages.some((v) => v.id === p.village_id)).at(-1);
  assert.ok(product, 'a demo product sold by the piece');
  const village = villages.find((v) => v.id === product.village_id);
  const other = villages.find((v) => v.id !== village.id);

  // A counter sale for the village, a moment ago.
  const received = await call(admin, 'POST', '/api/v1/stock/receipts', {
    village_id: village.id, note: 'settlement page test',
    lines: [{ product_id: product.id, quantity: 10, lot: `ST-${Date.now()}`, produced_on: shanghaiToday() }],
  });
  assert.equal(received.status, 201, JSON.stringify(received.body));
  const { shift, opened } = await openShift(admin);
  const total = product.price_fen * 3;
  const sale = await call(admin, 'POST', '/api/v1/pos/sales', {
    lines: [{ product_id: product.id, quantity: 3 }],
    tenders: [{ method: 'cash', amount_fen: total, tendered_fen: total }],
  }, { 'Idempotency-Key': `settlement-page-${Date.now()}` });
  assert.equal(sale.status, 201, JSON.stringify(sale.body));

  // The manager opens 结算 and drafts this month's settlement for the village.
  const page = await admin.newPage();
  const problems = watch(page);
  await page.goto(`${base}/admin/`);
  await page.getByRole('button', { name: '结算 Settlements' }).click();
  const tab = page.locator('#tab-settlements');
  await tab.locator('tbody tr').first().waitFor();
  await tab.locator('.toolbar select[name="village_id"]').selectOption(String(village.id));
  await tab.getByRole('button', { name: '生成草稿' }).click();
  await tab.getByText('已保存。').waitFor();
  const drafts = (await call(admin, 'GET', `/api/v1/settlements?village_id=${village.id}&state=draft`)).body.items;
  assert.equal(drafts.length, 1, 'one draft for the village');
  const id = drafts[0].id;
  const settlement = (await call(admin, 'GET', `/api/v1/settlements/${id}`)).body;
  assert.ok(settlement.lines.some((line) => line.kind === 'sale' && line.document === sale.body.number),
            'the sale of a moment ago is a line of the draft');
  const owed = settlement.total_fen;
  assert.ok(owed > 0, 'something is owed');
  const row = tab.locator(`tr[data-settlement="${id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('td.state').getAttribute('data-state'), 'draft');
  assert.ok((await row.textContent()).includes(money(owed)), 'the row shows what is owed');

  // Confirm (the page asks first).
  page.once('dialog', (dialog) => dialog.accept());
  await row.getByRole('button', { name: '确认', exact: true }).click();
  await row.locator('td.state[data-state="confirmed"]').waitFor();

  // A first payout, part of the total, by bank transfer.
  const first = Math.max(1, Math.floor(owed / 3));
  await row.getByRole('button', { name: '登记付款' }).click();
  let dialog = page.locator('dialog[open]');
  const amount = dialog.locator('input[name="amount"]');
  assert.equal(await amount.inputValue(), yuan(owed), 'the dialog offers the whole total first');
  await amount.fill(yuan(first));
  await dialog.locator('select[name="method"]').selectOption('bank');
  await dialog.locator('input[name="reference"]').fill('农商行 转账 0042');
  await dialog.getByRole('button', { name: '提交' }).click();
  await row.locator(`td.state[data-paid-fen="${first}"]`).waitFor();
  assert.equal(await row.locator('td.state').getAttribute('data-state'), 'confirmed', 'partly paid is still confirmed');
  assert.equal(await row.locator('td.state').getAttribute('data-remaining-fen'), String(owed - first));
  assert.equal(await row.locator('ul.payouts li').count(), 1);

  // The second: more than remains is refused in the dialog, naming the amount; then the rest in cash.
  await row.getByRole('button', { name: '登记付款' }).click();
  dialog = page.locator('dialog[open]');
  assert.equal(await dialog.locator('input[name="amount"]').inputValue(), yuan(owed - first), 'what remains is offered');
  await dialog.locator('input[name="amount"]').fill(yuan(owed - first + 1));
  await dialog.locator('select[name="method"]').selectOption('cash');
  await dialog.getByRole('button', { name: '提交' }).click();
  await dialog.locator('.form-error:not([hidden])').waitFor();
  assert.match(await dialog.locator('.form-error').textContent(), /amount_fen/);
  assert.equal((await call(admin, 'GET', `/api/v1/settlements/${id}`)).body.paid_fen, first, 'nothing more was paid');
  await dialog.locator('input[name="amount"]').fill(yuan(owed - first));
  await dialog.getByRole('button', { name: '提交' }).click();
  await row.locator('td.state[data-state="paid"]').waitFor();
  assert.equal(await row.locator('td.state').getAttribute('data-paid-fen'), String(owed));
  assert.equal(await row.locator('td.state').getAttribute('data-remaining-fen'), '0');
  assert.equal(await row.locator('ul.payouts li').count(), 2);
  assert.equal(await row.getByRole('button', { name: '登记付款' }).count(), 0, 'nothing left to pay');
  await page.screenshot({ path: `${artifacts}/settlements-admin.png`, fullPage: true });
  assert.deepEqual(problems, []);

  const paid = (await call(admin, 'GET', `/api/v1/settlements/${id}`)).body;
  assert.equal(paid.state, 'paid');
  assert.deepEqual(paid.payouts.map((p) => [p.amount_fen, p.method, p.reference]),
                   [[first, 'bank', '农商行 转账 0042'], [owed - first, 'cash', '']]);

  // The village on its phone: the settlement is paid, with both payouts.
  const villageContext = await signedIn(browser, village.code);
  const portal = await villageContext.newPage();
  const portalProblems = watch(portal);
  await portal.goto(`${base}/village/`);
  await portal.locator('body[data-ready="true"]').waitFor();
  const item = portal.locator(`#settlement-list li[data-settlement="${id}"]`);
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'paid');
  const itemText = await item.textContent();
  assert.match(itemText, /已付款/);
  assert.ok(itemText.includes(money(owed)), itemText);
  const payouts = item.locator('.payout-list li');
  assert.equal(await payouts.count(), 2);
  assert.ok((await payouts.nth(0).textContent()).includes(money(first)));
  assert.ok((await payouts.nth(0).textContent()).includes('银行转账'));
  assert.ok((await payouts.nth(1).textContent()).includes(money(owed - first)));
  assert.ok((await payouts.nth(1).textContent()).includes('现金'));
  await portal.screenshot({ path: `${artifacts}/settlements-village-phone.png`, fullPage: true });

  // The CSV it downloads: a BOM, the line of the sale, the totals, both payouts, nothing left.
  const [download] = await Promise.all([
    portal.waitForEvent('download'),
    item.getByRole('link', { name: '下载对账单（CSV）' }).click(),
  ]);
  assert.match(download.suggestedFilename(), new RegExp(`^statement-S${id}-.*\\.csv$`));
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, for Excel');
  const text = bytes.subarray(3).toString('utf8');
  assert.ok(text.endsWith('\r\n'), 'CRLF rows');
  const rows = parseCsv(text);
  assert.match(rows[0][0], /^序号/);
  const lineRows = rows.filter((r) => /^\d+$/.test(r[0]));
  assert.equal(lineRows.length, paid.line_count);
  assert.ok(lineRows.some((r) => r[3] === sale.body.number), 'the sale is on the statement');
  const totalRow = rows.find((r) => r[2] === '本期应付 Total payable');
  assert.ok(totalRow, 'the totals row');
  assert.equal(totalRow.at(-1), yuan(owed));
  const shareSum = lineRows.reduce((sum, r) => sum + Math.round(Number(r[9]) * 100), 0);
  assert.equal(shareSum, owed, 'the lines add up to the total');
  const payoutRows = rows.filter((r) => r[2] === '付款 Payout');
  assert.deepEqual(payoutRows.map((r) => r.at(-1)), [yuan(first), yuan(owed - first)]);
  assert.equal(payoutRows[0][4], '农商行 转账 0042');
  assert.equal(rows.find((r) => r[2] === '已付合计 Paid').at(-1), yuan(owed));
  assert.equal(rows.at(-1)[2], '未付 Remaining');
  assert.equal(rows.at(-1).at(-1), '0.00');
  assert.deepEqual(portalProblems, []);

  if (opened) {
    const x = (await call(admin, 'GET', `/api/v1/pos/shifts/${shift.id}/report`)).body;
    await call(admin, 'POST', `/api/v1/pos/shifts/${shift.id}/close`, { counted_cash_fen: x.expected_cash_fen });
  }
  await Promise.all([admin.close(), villageContext.close()]);
});

test("a village account cannot reach another village's settlement", async () => {
  const admin = await signedIn(browser, 'admin', { viewport: desktop });
  const villages = (await call(admin, 'GET', '/api/v1/villages')).body.items;
  // The other village: one with nothing settled yet, so that a draft of today may be made.
  const settled = new Set((await call(admin, 'GET', '/api/v1/settlements?page_size=100')).body.items
    .filter((s) => s.state !== 'draft').map((s) => s.village_id));
  const theirs = villages.find((v) => !settled.has(v.id));
  const mine = villages.find((v) => v.id !== theirs.id);
  // A settlement of the other village (a draft of today: it may hold nothing, it still exists).
  const today = shanghaiToday();
  const made = await call(admin, 'POST', '/api/v1/settlements', { village_id: theirs.id, from: today, to: today },
                          { 'Idempotency-Key': `other-village-${Date.now()}` });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;

  const village = await signedIn(browser, mine.code);
  for (const path of [`/api/v1/settlements/${id}`, `/api/v1/settlements/${id}/statement`,
                      `/api/v1/settlements/${id}/statement?format=csv`]) {
    const refused = await call(village, 'GET', path);
    assert.ok([403, 404].includes(refused.status), `${path}: ${refused.status}`);
    assert.equal(JSON.stringify(refused.body).includes(theirs.name), false, `${path}: nothing of theirs`);
  }
  const listed = await call(village, 'GET', `/api/v1/settlements?village_id=${theirs.id}`);
  assert.ok([403, 404].includes(listed.status), `list: ${listed.status}`);
  const own = await call(village, 'GET', '/api/v1/settlements');
  assert.equal(own.status, 200);
  assert.ok(own.body.items.every((s) => s.village_id === mine.id), 'only its own in its list');
  // Nor may it pay or confirm anything.
  const pay = await call(village, 'POST', `/api/v1/settlements/${id}/payouts`,
                         { amount_fen: 1, method: 'cash', paid_on: today }, { 'Idempotency-Key': `v-${Date.now()}` });
  assert.equal(pay.status, 403);
  // And not from its portal page either.
  const page = await village.newPage();
  await page.goto(`${base}/village/`);
  await page.locator('body[data-ready="true"]').waitFor();
  assert.equal(await page.locator(`#settlement-list li[data-settlement="${id}"]`).count(), 0);
  const status = await page.evaluate(async (other) => (await fetch(`/api/v1/settlements/${other}`)).status, id);
  assert.ok([403, 404].includes(status), `from the page: ${status}`);
  await Promise.all([admin.close(), village.close()]);
});
