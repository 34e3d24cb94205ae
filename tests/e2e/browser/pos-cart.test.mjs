// The counter's arithmetic and search without a browser: weighed lines rounded half up once,
// discounts and 抹零 as the server computes them, split tenders and change, the sale body, scale
// labels (the README's worked example), and 拼音 search through the vendored pinyin-pro.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import {
  addTender, cartTotals, eanCheckDigit, emptyCart, isEan13, labelLine, makeScaleLabel, newLine,
  parseScaleLabel, paymentCodeMethod, saleBody, settle, weighedFen,
} from '../../../web/assets/js/pos-cart.js';
import { ProductIndex } from '../../../web/assets/js/pos-search.js';

const tea = { id: 1, name: '瑶前铁观音（清香型）', unit: 'g', price_fen: 36000, barcode: '2000000000015' };
const tin = { id: 2, name: '瑶前手工乌龙茶礼罐 250g', unit: 'piece', price_fen: 16800 };
const peanuts = { id: 3, name: '瑶前炒花生', unit: 'g', price_fen: 3600, plu: 10007 };

test('a weighed line is price per kg × grams ÷ 1000, rounded half up once', () => {
  assert.equal(weighedFen(36000, 250), 9000);
  assert.equal(weighedFen(3333, 15), 50);   // 49.995 → 50
  assert.equal(weighedFen(3333, 3), 10);    // 9.999 → 10
  assert.equal(weighedFen(1001, 500), 501); // 500.5 → 501
  assert.equal(weighedFen(999, 500), 500);  // 499.5 → 500
});

test('line and sale discounts, then 抹零 of what remains', () => {
  const cart = emptyCart();
  cart.lines.push(newLine(tea, 333), newLine(tin, 2));
  cart.lines[1].discount_fen = 800;
  let totals = cartTotals(cart);
  assert.equal(totals.subtotal_fen, 11988 + 33600);
  assert.equal(totals.total_fen, 11988 + 33600 - 800);
  cart.discount_fen = 1000;
  cart.rounding = 'jiao';
  totals = cartTotals(cart);
  assert.equal(totals.rounding_fen, 8);  // 43788 → 43780
  assert.equal(totals.total_fen, 43780);
  cart.rounding = 'yuan';
  totals = cartTotals(cart);
  assert.equal(totals.rounding_fen, 88);
  assert.equal(totals.total_fen, 43700);
  assert.equal(totals.discount_fen, 800 + 1000 + 88);
});

test('split tenders: non-cash first, cash pays the rest and gives change; one cash tender', () => {
  let tenders = [];
  tenders = addTender(tenders, { method: 'wechat', amount_fen: 1000 });
  tenders = addTender(tenders, { method: 'cash', amount_fen: 2000, tendered_fen: 2000 });
  tenders = addTender(tenders, { method: 'cash', amount_fen: 5000, tendered_fen: 5000 });
  assert.equal(tenders.length, 2);
  const settled = settle(4330, tenders);
  assert.equal(settled.remaining_fen, 0);
  assert.equal(settled.change_fen, 1000 + 7000 - 4330);
  assert.deepEqual(settled.tenders.map((t) => [t.method, t.amount_fen, t.tendered_fen]),
                   [['wechat', 1000, undefined], ['cash', 3330, 7000]]);
  assert.equal(settle(4330, [{ method: 'alipay', amount_fen: 4000 }]).remaining_fen, 330);
});

test('the sale body: product lines with quantity, labels by code alone, offline sales stamped', () => {
  const cart = emptyCart();
  cart.lines.push(newLine(tin, 1));
  const label = makeScaleLabel('21', 10007, 1080);
  cart.lines.push(labelLine(parseScaleLabel(label), label, peanuts));
  cart.rounding = 'jiao';
  const body = saleBody(cart, [{ method: 'cash', amount_fen: 20000, tendered_fen: 20000 }],
                        { offline: true, rungAt: '2026-12-02T03:04:05.000Z' });
  assert.deepEqual(body, {
    lines: [{ product_id: 2, quantity: 1, discount_fen: 0, unit_price_fen: 16800 },
            { code: label, discount_fen: 0, unit_price_fen: 3600 }],
    discount_fen: 0,
    rounding: 'jiao',
    tenders: [{ method: 'cash', amount_fen: 17880, tendered_fen: 20000 }],
    offline: true,
    rung_at: '2026-12-02T03:04:05.000Z',
  });
  const online = saleBody(cart, []);
  assert.equal(online.offline, undefined);
  assert.equal(online.lines[0].unit_price_fen, undefined);  // online, the server's price is asked
});

test('scale labels: the README example, 18 digits, a wrong check digit, not a label', () => {
  assert.deepEqual(parseScaleLabel('2110007035207'), { plu: 10007, amount_fen: 3520, grams: null });
  assert.deepEqual(parseScaleLabel(makeScaleLabel('22', 42, 350)), { plu: 42, amount_fen: null, grams: 350 });
  assert.deepEqual(parseScaleLabel(makeScaleLabel('26', 7, 1260, 350)), { plu: 7, amount_fen: 1260, grams: 350 });
  assert.deepEqual(parseScaleLabel(makeScaleLabel('27', 7, 350, 1260)), { plu: 7, amount_fen: 1260, grams: 350 });
  assert.deepEqual(parseScaleLabel('2110007035208'), { error: 'check_digit' });
  assert.equal(parseScaleLabel('6901234567892'), null);
  assert.ok(isEan13('6901234567892'));
  assert.equal(eanCheckDigit('690123456789'), 2);
  const line = labelLine(parseScaleLabel(makeScaleLabel('22', 10007, 350)), 'x', peanuts);
  assert.equal(line.label_fen, 1260);
  assert.equal(line.quantity, 350);
});

const vendored = new URL('../../../web/assets/vendor/pinyin-pro/index.js', import.meta.url);
test('拼音 search: initials, syllables, Chinese and codes', { skip: !existsSync(vendored) && 'run deploy/test (it vendors pinyin-pro)' }, async () => {
  await import(vendored.href);  // the browser build: sets globalThis.pinyinPro as in the page
  const index = new ProductIndex([tea, tin, peanuts, { id: 4, name: '型厝头水紫菜 100g', unit: 'piece', price_fen: 1500, sku: 'XC-ZC' }]);
  assert.equal(index.search('tgy')[0].id, 1);
  assert.equal(index.search('tieguanyin')[0].id, 1);
  assert.equal(index.search('yqtgy')[0].id, 1);
  assert.equal(index.search('铁观音')[0].id, 1);
  assert.equal(index.search('xczc')[0].id, 4);
  assert.equal(index.search('zicai')[0].id, 4);
  assert.equal(index.search('chs')[0].id, 3);
  assert.equal(index.search('xc-zc')[0].id, 4);
  assert.deepEqual(index.search('瑶前').map((p) => p.id).sort(), [1, 2, 3]);
  assert.equal(index.byPlu(10007).id, 3);
  assert.equal(index.byBarcode('2000000000015').id, 1);
  assert.deepEqual(index.search('qqqqq'), []);
});

test('a scanned 付款码 is WeChat (18 digits, 10–15) or Alipay (16–24 digits, 25–30) and rides its tender', () => {
  assert.equal(paymentCodeMethod('134567890123456789'), 'wechat_code');
  assert.equal(paymentCodeMethod('2512345678901234'), 'alipay_code');
  assert.equal(paymentCodeMethod('301234567890123456789012'), 'alipay_code');
  assert.equal(paymentCodeMethod('164567890123456789'), null);
  assert.equal(paymentCodeMethod('2110007035207'), null, 'a scale label is no payment code');
  assert.equal(paymentCodeMethod('13456789012345678a'), null);
  const cart = emptyCart();
  cart.lines.push(newLine({ id: 7, price_fen: 1500, unit: 'piece' }, 1));
  const body = saleBody(cart, [{ method: 'wechat_code', amount_fen: 1500, auth_code: '134567890123456789' }]);
  assert.deepEqual(body.tenders, [{ method: 'wechat_code', amount_fen: 1500, auth_code: '134567890123456789' }]);
});
