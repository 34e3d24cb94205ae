// The village portal: a village collective's own figures on its phone. Today and this month at a
// glance, sales by day and by product (Apache ECharts), what the station owes it now, its goods
// on the shelf and lots near expiry, its settlements, its terms. Admins may look at any village;
// a village account sees only its own (the API enforces it: another village's ids are 403).
import { api, formatFen } from '/assets/js/api.js';
import { language, localName, t } from '/assets/js/i18n.js';
import { startStaffPage } from '/assets/js/staff.js';

let villageId = null;
const charts = {};

const $ = (selector) => document.querySelector(selector);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** A quantity in its unit: pieces, or grams shown as kilograms. */
function quantityText(quantity, unit) {
  return unit === 'g' ? t('village.kg', { kg: (quantity / 1000).toFixed(3) }) : t('village.pieces', { pieces: quantity });
}

function figures(list, totals) {
  const rows = [
    ['village.share', formatFen(totals.share_fen), 'share'],
    ['village.gross', formatFen(totals.gross_fen)],
    ['village.units', totals.grams
      ? `${t('village.pieces', { pieces: totals.pieces })} · ${quantityText(totals.grams, 'g')}`
      : t('village.pieces', { pieces: totals.pieces })],
    ['village.sales_count', String(totals.sales_count)],
  ];
  if (totals.refund_fen) rows.push(['village.refunds', `-${formatFen(totals.refund_fen)}`]);
  rows.push(['village.counter', formatFen(totals.channels.counter.gross_fen), 'channel'],
            ['village.online', formatFen(totals.channels.online.gross_fen), 'channel']);
  list.replaceChildren();
  for (const [key, value, className] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (className) {
      dd.className = className;
      dt.className = className;
    }
    dd.dataset.field = key.replace('village.', '');
    list.append(dt, dd);
  }
}

async function showSummary() {
  const summary = await api(`/api/v1/villages/${villageId}/summary`);
  $('#village-name').textContent = language() === 'en' && summary.village_name_en
    ? summary.village_name_en : summary.village_name;
  $('#village-day').textContent = t('village.business_day', { day: summary.business_day });
  figures($('#today .figures'), summary.today);
  figures($('#month .figures'), summary.month);
  $('#balance').textContent = formatFen(summary.balance_fen);
}

/** A chart in `element`, made once and given new options after. */
function chart(element) {
  if (!charts[element.id]) charts[element.id] = window.echarts.init(element, null, { renderer: 'canvas' });
  return charts[element.id];
}

async function showByDay() {
  const report = await api(`/api/v1/villages/${villageId}/revenue?group=day`);
  const element = $('#chart-day');
  element.setAttribute('aria-label', t('village.by_day'));
  chart(element).setOption({
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (fen) => formatFen(fen) },
    legend: { top: 0, data: [t('village.gross'), t('village.share')] },
    grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
    xAxis: { type: 'category', data: report.items.map((item) => item.day.slice(5)) },
    yAxis: { type: 'value', axisLabel: { formatter: (fen) => formatFen(fen) } },
    series: [
      { name: t('village.gross'), type: 'bar', data: report.items.map((item) => item.gross_fen) },
      { name: t('village.share'), type: 'line', data: report.items.map((item) => item.share_fen) },
    ],
  }, true);
  element.dataset.points = String(report.items.length);
}

async function showByProduct() {
  const report = await api(`/api/v1/villages/${villageId}/revenue?group=product`);
  const items = report.items.filter((item) => item.gross_fen !== 0 || item.quantity !== 0);
  const element = $('#chart-product');
  element.setAttribute('aria-label', t('village.by_product'));
  element.style.height = `${Math.max(10, 3 + items.length * 2.2)}rem`;
  const names = items.map((item) => localName(item)).reverse();
  chart(element).setOption({
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (fen) => formatFen(fen) },
    legend: { top: 0, data: [t('village.gross'), t('village.share')] },
    grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
    xAxis: { type: 'value', axisLabel: { formatter: (fen) => formatFen(fen), hideOverlap: true } },
    yAxis: { type: 'category', data: names, axisLabel: { width: 96, overflow: 'truncate' } },
    series: [
      { name: t('village.gross'), type: 'bar', data: items.map((item) => item.gross_fen).reverse() },
      { name: t('village.share'), type: 'bar', data: items.map((item) => item.share_fen).reverse() },
    ],
  }, true);
  chart(element).resize();
  element.dataset.points = String(items.length);
  const body = $('#product-table tbody');
  body.replaceChildren(...items.map((item) => {
    const row = document.createElement('tr');
    row.append(cell(localName(item)), cell(quantityText(item.quantity, item.unit)),
               cell(formatFen(item.gross_fen)), cell(formatFen(item.share_fen)));
    return row;
  }));
  $('#product-empty').hidden = items.length > 0;
}

async function showStock() {
  const stock = await api(`/api/v1/villages/${villageId}/stock`);
  $('#stock-table tbody').replaceChildren(...stock.items.map((item) => {
    const row = document.createElement('tr');
    const name = cell(localName(item));
    if (item.low) {
      const tag = document.createElement('span');
      tag.className = 'low-tag';
      tag.textContent = t('village.low');
      name.append(tag);
    }
    row.append(name, cell(quantityText(item.available, item.unit)),
               cell(quantityText(item.on_hand, item.unit)), cell(quantityText(item.reserved, item.unit)));
    return row;
  }));
  const list = $('#expiring');
  list.replaceChildren(...stock.expiring.map((lot) => {
    const li = document.createElement('li');
    const when = lot.days_left < 0 ? t('village.expired', { days: -lot.days_left })
      : t('village.expires_in', { days: lot.days_left });
    li.textContent = `${localName(lot)} · ${t('village.lot')} ${lot.lot} · ${quantityText(lot.remaining, lot.unit)} · ${lot.expires_on} `;
    const tag = document.createElement('span');
    tag.textContent = when;
    if (lot.days_left < 0) tag.className = 'expired';
    li.append(tag);
    return li;
  }));
  if (!stock.expiring.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = t('village.no_expiring');
    list.append(li);
  }
}

/** Settlements arrive with the settlement module; until its endpoint answers, none are shown. */
async function showSettlements() {
  let items = [];
  try {
    items = (await api(`/api/v1/settlements?village_id=${villageId}`)).items ?? [];
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  $('#settlement-list').replaceChildren(...items.map((settlement) => {
    const li = document.createElement('li');
    li.dataset.settlement = String(settlement.id);
    li.dataset.state = settlement.state;
    const payouts = settlement.payouts ?? [];
    const paid = payouts.length
      ? ` · ${t('village.paid_remaining', { paid: formatFen(settlement.paid_fen), remaining: formatFen(settlement.remaining_fen) })}`
      : '';
    li.textContent = `${settlement.from} – ${settlement.to} · ${t(`village.state_${settlement.state}`)} · ${formatFen(settlement.total_fen)}${paid} `;
    for (const [key, href] of [
      ['village.statement_csv', `/api/v1/settlements/${settlement.id}/statement?format=csv`],
      ['village.statement_print', `/api/v1/settlements/${settlement.id}/statement`]]) {
      const link = document.createElement('a');
      link.href = href;
      link.textContent = t(key);
      link.className = 'statement-link';
      li.append(' ', link);
    }
    // Each payout the station made against it: when, how, how much.
    if (payouts.length) {
      const list = document.createElement('ul');
      list.className = 'payout-list';
      list.append(...payouts.map((payout) => {
        const item = document.createElement('li');
        item.dataset.payout = String(payout.id);
        item.textContent = t('village.payout', {
          paid_on: payout.paid_on, method: t(`village.payout_${payout.method}`), amount: formatFen(payout.amount_fen) });
        return item;
      }));
      li.append(list);
    }
    return li;
  }));
  $('#settlements-empty').hidden = items.length > 0;
}

/** A rate in basis points as a percentage ("15.00%"); an ended override says so. */
function rateText(bps) {
  return bps === null ? t('village.override_ended') : `${(bps / 100).toFixed(2)}%`;
}

function scopeText(term) {
  return term.product_id === null ? t('village.scope_default') : term.product_name;
}

async function showTerms() {
  const [terms, history] = await Promise.all([
    api(`/api/v1/villages/${villageId}/terms`),
    api(`/api/v1/villages/${villageId}/commission`)]);
  const share = formatFen(10000 - terms.commission_bps).replace('¥', '');
  $('#village-terms').textContent =
    t('village.commission', { percent: (terms.commission_bps / 100).toFixed(2), share });
  // Scheduled changes first, soonest first: what will change for the village.
  const scheduled = [...history.scheduled].reverse();
  $('#terms-scheduled').replaceChildren(...scheduled.map((term) => {
    const li = document.createElement('li');
    li.textContent = t('village.scheduled_notice',
      { day: term.effective_from, scope: scopeText(term), rate: rateText(term.bps) });
    return li;
  }));
  $('#terms-table tbody').replaceChildren(...history.items.map((term) => {
    const row = document.createElement('tr');
    row.className = term.status;
    row.dataset.status = term.status;
    row.append(cell(term.effective_from), cell(scopeText(term)), cell(rateText(term.bps)),
               cell(t(`village.status_${term.status}`)), cell(term.note));
    return row;
  }));
}

async function showAll() {
  // The summary first (the figures a villager looks for), then the rest side by side.
  await showSummary();
  await Promise.all([showByDay(), showByProduct(), showStock(), showSettlements(), showTerms()]);
  document.body.dataset.ready = 'true';
}

window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

const user = await startStaffPage(['admin', 'village'], () => showAll());
if (user) {
  if (user.role === 'village') {
    villageId = user.village_id;
  } else {
    const { items } = await api('/api/v1/villages');
    const select = $('#village-select');
    for (const village of items) select.append(new Option(localName(village), village.id));
    $('#village-picker').hidden = false;
    villageId = items[0]?.id;
    select.addEventListener('change', () => { villageId = select.value; showAll(); });
  }
  if (villageId) await showAll();
}
