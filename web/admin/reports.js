// The manager's reports tab (报表): sales by day, month, village, product, category, channel or
// payment method with a chart (Apache ECharts, loaded by index.html as window.echarts), top
// sellers, commission, stock value by village, slow movers, expiring lots and the payments
// reconciliation (支付对账: every movement through WeChat Pay, Alipay, card…, to tick off the
// providers' statements); every table has its CSV (for Excel) beside it. Amounts arrive in fen and
// are shown by formatFen.
import { api, ApiError, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { language } from '/assets/js/i18n.js';

/** So many products at most in the sales chart (the table lists them all). */
const CHART_PRODUCTS = 20;

const words = {
  zh: {
    from: '开始日期', to: '结束日期', group: '分组', show: '查询', csv: '下载 CSV',
    'group.day': '按日', 'group.month': '按月', 'group.village': '按村', 'group.product': '按商品',
    'group.category': '按品类', 'group.channel': '按渠道', 'group.method': '按支付方式',
    sales: '销售', gross: '净销售额（已扣退款）', fee: '佣金', share: '村集体所得', refunds: '退款', count: '笔数',
    rate: '佣金率', counter: '柜台', online: '网店', total: '合计', name: '名称', quantity: '数量',
    top: '畅销商品', commission: '佣金收入（按月）', stock_value: '各村库存货值', value: '货值',
    pieces: '件数', grams: '克', products: '有货商品', slow: '滞销商品（期间销量最少）', on_hand: '库存',
    sold: '期间销量', cover: '可售天数', never: '未售出', expiring: '临期批次（60天内）', lot: '批次',
    expires: '到期日', days_left: '剩余天数', village: '村', error: '出错了：',
    'method.cash': '现金', 'method.wechat': '微信支付', 'method.alipay': '支付宝', 'method.card': '银行卡',
    'method.other': '其他', 'method.wechat_code': '微信付款码', 'method.alipay_code': '支付宝付款码',
    chart_top: `图中为销售额前 ${CHART_PRODUCTS} 的商品，表中列出全部。`,
    method_note: '按支付方式只统计货款（不含配送费），佣金和村集体所得不按支付方式拆分，见其他分组。',
    payments: '支付对账', provider: '支付渠道', 'provider.all': '全部', 'provider.wechat': '微信支付',
    'provider.alipay': '支付宝', 'provider.card': '银行卡', 'provider.other': '其他', received: '收入',
    paid_out: '支出', net: '净额', movements: '笔数', time: '时间', kind: '类型', document: '单据',
    trade_no: '商户单号', transaction_id: '渠道单号', amount: '金额', code: '付款码',
    'kind.sale': '柜台销售', 'kind.refund': '柜台退款', 'kind.refund_failed': '退款未成功冲回',
    'kind.order_payment': '网店付款', 'kind.order_refund': '网店退款', 'kind.surplus_payment': '重复付款',
    'kind.surplus_return': '重复付款退回', no_payments: '期间内没有经支付渠道的收付款（现金不在此列）。',
    payments_note: '逐笔列出经各支付渠道的收付款，用于核对微信支付、支付宝的对账单；现金不在此列。一次最多核对 31 天（期间更长时为其最后 31 天）。',
  },
  en: {
    from: 'From', to: 'To', group: 'Group', show: 'Show', csv: 'Download CSV',
    'group.day': 'By day', 'group.month': 'By month', 'group.village': 'By village',
    'group.product': 'By product', 'group.category': 'By category', 'group.channel': 'By channel',
    'group.method': 'By payment method', sales: 'Sales', gross: 'Net takings (after refunds)', fee: 'Commission',
    share: 'Village share', refunds: 'Refunds', count: 'Sales', rate: 'Rate', counter: 'Counter',
    online: 'Online', total: 'Total', name: 'Name', quantity: 'Quantity', top: 'Top sellers',
    commission: 'Commission earned (by month)', stock_value: 'Stock value by village', value: 'Value',
    pieces: 'Pieces', grams: 'Grams', products: 'Products in stock', slow: 'Slow movers (least sold)',
    on_hand: 'On hand', sold: 'Sold', cover: 'Days of cover', never: 'not sold',
    expiring: 'Lots expiring within 60 days', lot: 'Lot', expires: 'Expires', days_left: 'Days left',
    village: 'Village', error: 'Error: ', 'method.cash': 'Cash', 'method.wechat': 'WeChat Pay',
    'method.alipay': 'Alipay', 'method.card': 'Card', 'method.other': 'Other',
    'method.wechat_code': 'WeChat code', 'method.alipay_code': 'Alipay code',
    chart_top: `The chart shows the ${CHART_PRODUCTS} best-selling products; the table lists them all.`,
    method_note: 'By payment method counts the goods only (no delivery fees); commission and village share are not split by payment method: see the other groupings.',
    payments: 'Payments reconciliation', provider: 'Provider', 'provider.all': 'All',
    'provider.wechat': 'WeChat Pay', 'provider.alipay': 'Alipay', 'provider.card': 'Card',
    'provider.other': 'Other', received: 'In', paid_out: 'Out', net: 'Net', movements: 'Count',
    time: 'Time', kind: 'Kind', document: 'Document', trade_no: 'Merchant trade no.',
    transaction_id: "Provider's no.", amount: 'Amount', code: 'payment code',
    'kind.sale': 'Counter sale', 'kind.refund': 'Counter refund', 'kind.refund_failed': 'Refund not paid, reversed',
    'kind.order_payment': 'Online payment', 'kind.order_refund': 'Online refund',
    'kind.surplus_payment': 'Second payment', 'kind.surplus_return': 'Second payment returned',
    no_payments: 'No money moved through a provider in this period (cash is not listed).',
    payments_note: 'Every movement through each provider, to tick off the WeChat Pay and Alipay statements; cash is not listed. At most 31 days at a time (the last 31 days of a longer period).',
  },
};

const GROUPS = ['day', 'month', 'village', 'product', 'category', 'channel', 'method'];
/** The payments reconciliation's filter: every provider ('' = all) or one. */
const PROVIDERS = ['', 'wechat', 'alipay', 'card', 'other'];
/** The payments reconciliation's longest period, in days (the API's). */
const PAYMENT_DAYS = 31;

function w(key) {
  return words[language()][key] ?? words.zh[key] ?? key;
}

/** Today's business date in Asia/Shanghai, "YYYY-MM-DD". */
function shanghaiToday() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function daysBefore(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86400000).toISOString().slice(0, 10);
}

const option = (value, text) => element('option', { text, attributes: { value } });
const labelled = (key, control) =>
  element('label', { className: 'stock-field' }, [element('span', { text: w(key) }), control]);
const cell = (text) => element('td', { text: String(text) });
/** A figure's cell: right-aligned so that yuan and counts line up. */
const num = (text) => element('td', { className: 'num', text: String(text) });
const percent = (bps) => `${(bps / 100).toFixed(2)}%`;
/** An axis's amount, short: ¥30万 / ¥300k for ¥300000.00 (the tooltip and the table have the fen). */
function axisYuan(fen) {
  const yuan = fen / 100;
  if (Math.abs(yuan) < 10000) return `¥${Math.round(yuan)}`;
  return language() === 'en' ? `¥${+(yuan / 1000).toFixed(1)}k` : `¥${+(yuan / 10000).toFixed(1)}万`;
}

/** What a report row is called: a village's or product's name, a channel, a method or a day. */
function label(item) {
  if (item.name) return language() === 'en' && item.name_en ? item.name_en : item.name;
  if (item.key === 'counter' || item.key === 'online') return w(item.key);
  if (words.zh[`method.${item.key}`]) return w(`method.${item.key}`);
  return item.key;
}

/** A provider's name, or the key when the page does not know it. */
const providerName = (key) => (words.zh[`provider.${key}`] ? w(`provider.${key}`) : key);
/** Money out (negative) in red, so that refunds stand apart from payments in a column. */
function signed(fen) {
  const node = num(formatFen(fen));
  if (fen < 0) node.classList.add('out');
  return node;
}
/** When a movement was booked, as the API gives it in Asia/Shanghai: "2026-12-08 10:15:00". */
const bookedAt = (at) => `${at.slice(0, 10)} ${at.slice(11, 19)}`;

/** A long table scrolls in its box under a sticky header, its totals row kept in view. */
const scroll = (node) => element('div', { className: 'report-scroll' }, [node]);

/** A table whose columns after the first `textColumns` hold figures (right-aligned). */
function table(headers, rows, textColumns = 1) {
  return element('table', { className: 'data-table' }, [
    element('thead', {}, [element('tr', {}, headers.map((h, i) =>
      element('th', { text: h, className: i < textColumns ? '' : 'num' })))]),
    element('tbody', {}, rows),
  ]);
}

export class ReportsTab {
  constructor(root) {
    this.root = root;
    this.charts = {};
    // The payments reconciliation lives in its own box, so that a provider's answer and the
    // period's can arrive in any order: the latest asked is the one shown.
    this.paymentsBox = element('div', { attributes: { id: 'report-payments' } });
    this.paymentsAsked = 0;
    // Charts follow the window's width (ECharts draws at a fixed size otherwise).
    window.addEventListener('resize', () => {
      for (const chart of Object.values(this.charts)) chart.resize();
    });
  }

  /** (Re)builds the tab: the sales report with its chart, then the other reports. A rebuild (say
   *  after the language switch) keeps the period and grouping chosen. */
  async show() {
    const today = shanghaiToday();
    const chosen = this.from ? { from: this.from.value, to: this.to.value, group: this.group.value } : null;
    // The payments reconciliation's provider ('' = all) outlives a rebuild too.
    this.provider ??= '';
    this.from = element('input', { attributes: { type: 'date', name: 'from', max: today } });
    this.to = element('input', { attributes: { type: 'date', name: 'to', max: today } });
    this.from.value = chosen?.from ?? daysBefore(today, 29);
    this.to.value = chosen?.to ?? today;
    this.group = element('select', { attributes: { name: 'group' } },
                         GROUPS.map((g) => option(g, w(`group.${g}`))));
    if (chosen) this.group.value = chosen.group;
    const go = element('button', { className: 'primary', text: w('show'), attributes: { type: 'button', name: 'show' } });
    go.addEventListener('click', () => this.load());
    this.message = element('p', { className: 'form-error', attributes: { role: 'alert', hidden: '' } });
    this.sections = element('div');
    this.root.replaceChildren(
      element('div', { className: 'toolbar report-toolbar' }, [labelled('from', this.from), labelled('to', this.to),
                                                 labelled('group', this.group), go]),
      this.message, this.sections);
    await this.load();
  }

  fail(error) {
    const field = error instanceof ApiError ? error.details?.field : undefined;
    this.message.textContent = `${w('error')}${error.message}${field ? ` (${field})` : ''}`;
    this.message.hidden = false;
  }

  /** A chart in a new block, made by ECharts (never drawn by hand). */
  chart(id, options, height = '20rem') {
    const box = element('div', { className: 'report-chart', attributes: { id, role: 'img', 'aria-label': id } });
    box.style.height = height;
    box.style.width = '100%';
    requestAnimationFrame(() => {
      this.charts[id]?.dispose();
      this.charts[id] = window.echarts.init(box, null, { renderer: 'canvas' });
      this.charts[id].setOption({ animation: false, ...options });
      box.dataset.ready = 'true';
    });
    return box;
  }

  /** A report: its title with the CSV link beside it, then its chart and table. */
  section(title, csvPath, children) {
    const link = element('a', { className: 'report-csv', text: w('csv'), attributes: { href: csvPath, download: '' } });
    return element('section', { className: 'report' }, [
      element('header', { className: 'report-head' }, [element('h2', { text: title }), link]), ...children]);
  }

  async load() {
    this.message.hidden = true;
    const period = new URLSearchParams({ from: this.from.value, to: this.to.value });
    const group = this.group.value;
    const sales = new URLSearchParams(period);
    sales.set('group', group);
    this.period = period;
    const payments = this.paymentsQuery(period);
    const asked = ++this.paymentsAsked;
    try {
      const [report, top, commission, value, slow, expiring, money] = await Promise.all([
        api(`/api/v1/reports/sales?${sales}`),
        api(`/api/v1/reports/top-sellers?${period}&limit=10`),
        api(`/api/v1/reports/commission?${period}&group=month`),
        api('/api/v1/reports/stock-value'),
        api(`/api/v1/reports/slow-movers?${period}&limit=15`),
        api('/api/v1/reports/expiring?days=60'),
        api(`/api/v1/reports/payments?${payments}`),
      ]);
      // Slow movers and lots name their village in Chinese only; the stock value has both names.
      this.villageNames = new Map(value.items.map((v) => [v.village_id, v]));
      this.sections.replaceChildren(
        this.salesSection(report, sales), this.topSection(top, period),
        this.commissionSection(commission, period), this.stockSection(value),
        this.slowSection(slow, period), this.expiringSection(expiring), this.paymentsBox);
      if (asked === this.paymentsAsked) this.paymentsBox.replaceChildren(this.paymentsSection(money, payments));
    } catch (error) {
      this.fail(error);
    }
  }

  /** The payments reconciliation's query: the period, and the provider when one is chosen. */
  paymentsQuery(period) {
    const query = new URLSearchParams(period);
    // At most a month (the API refuses more): the period's last PAYMENT_DAYS days, which the
    // section's title shows.
    const to = query.get('to');
    if (to && query.get('from') < daysBefore(to, PAYMENT_DAYS - 1)) query.set('from', daysBefore(to, PAYMENT_DAYS - 1));
    if (this.provider) query.set('provider', this.provider);
    return query;
  }

  /** Another provider chosen: the payments reconciliation alone is asked again, for the period
   *  shown (an answer overtaken by a later choice is dropped). */
  async reloadPayments() {
    this.message.hidden = true;
    const query = this.paymentsQuery(this.period);
    const asked = ++this.paymentsAsked;
    try {
      const report = await api(`/api/v1/reports/payments?${query}`);
      if (asked === this.paymentsAsked) this.paymentsBox.replaceChildren(this.paymentsSection(report, query));
    } catch (error) {
      if (asked === this.paymentsAsked) this.fail(error);
    }
  }

  salesSection(report, query) {
    // The best-selling products only in the chart: forty bars leave no room for their names.
    const items = report.group === 'product' ? report.items.slice(0, CHART_PRODUCTS) : report.items;
    const dated = report.group === 'day' || report.group === 'month';
    const names = items.map((item) => (report.group === 'day' ? item.key.slice(5) : label(item)));
    const slanted = !dated && items.length > 8;
    const chart = this.chart('chart-sales', {
      tooltip: { trigger: 'axis', valueFormatter: (fen) => formatFen(fen) },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: names,
               axisLabel: slanted ? { interval: 0, rotate: 35, width: 110, overflow: 'truncate' } : { hideOverlap: true } },
      yAxis: { type: 'value', axisLabel: { formatter: axisYuan } },
      series: dated || report.group === 'channel' || report.group === 'method'
        ? [
          { name: w('counter'), type: 'bar', stack: 'gross', barMaxWidth: 48, data: items.map((i) => i.channels.counter.gross_fen) },
          { name: w('online'), type: 'bar', stack: 'gross', barMaxWidth: 48, data: items.map((i) => i.channels.online.gross_fen) },
          ...(report.group === 'method' ? [] : [{ name: w('fee'), type: 'line', data: items.map((i) => i.fee_fen) }]),
        ]
        : [
          { name: w('gross'), type: 'bar', barMaxWidth: 48, data: items.map((i) => i.gross_fen) },
          { name: w('share'), type: 'bar', barMaxWidth: 48, data: items.map((i) => i.share_fen) },
        ],
    });
    // A tender is not split by village, so by payment method there is no commission or share per
    // row (the API answers 0): those columns would read 0 above a total that is not.
    const split = report.group !== 'method';
    const figures = (f) => [num(formatFen(f.gross_fen)), num(formatFen(f.refund_fen)),
      ...(split ? [num(formatFen(f.fee_fen)), num(formatFen(f.share_fen)), num(percent(f.effective_bps))] : []),
      num(f.sales_count)];
    const rows = report.items.map((i) => element('tr', {}, [cell(label(i)), ...figures(i)]));
    rows.push(element('tr', { className: 'total' }, [cell(w('total')), ...figures(report)]));
    const headers = [w('name'), w('gross'), w('refunds'),
                     ...(split ? [w('fee'), w('share'), w('rate')] : []), w('count')];
    return this.section(`${w('sales')} · ${w(`group.${report.group}`)} (${report.from} – ${report.to})`,
      `/api/v1/reports/sales?${query}&format=csv`,
      [chart, ...(report.items.length > items.length ? [element('p', { className: 'hint', text: w('chart_top') })] : []),
       ...(split ? [] : [element('p', { className: 'hint', text: w('method_note') })]),
       scroll(table(headers, rows))]);
  }

  topSection(report, period) {
    const items = [...report.items].reverse();
    return this.section(w('top'), `/api/v1/reports/top-sellers?${period}&limit=10&format=csv`, [
      this.chart('chart-top', {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (fen) => formatFen(fen) },
        grid: { left: 8, right: 16, bottom: 8, top: 8, containLabel: true },
        xAxis: { type: 'value', axisLabel: { formatter: axisYuan, hideOverlap: true } },
        yAxis: { type: 'category', data: items.map(label), axisLabel: { width: 120, overflow: 'truncate' } },
        series: [{ name: w('gross'), type: 'bar', barMaxWidth: 28, data: items.map((i) => i.gross_fen) }],
      }, `${Math.max(8, 2 + items.length * 2)}rem`),
    ]);
  }

  commissionSection(report, period) {
    return this.section(w('commission'), `/api/v1/reports/commission?${period}&group=month&format=csv`, [
      this.chart('chart-commission', {
        tooltip: { trigger: 'axis', valueFormatter: (fen) => formatFen(fen) },
        grid: { left: 8, right: 8, bottom: 8, top: 16, containLabel: true },
        xAxis: { type: 'category', data: report.items.map((i) => i.key) },
        yAxis: { type: 'value', axisLabel: { formatter: axisYuan } },
        series: [{ name: w('fee'), type: 'bar', barMaxWidth: 48, data: report.items.map((i) => i.fee_fen) }],
      }, '14rem'),
      element('p', { text: `${w('total')}: ${formatFen(report.fee_fen)} · ${w('rate')} ${percent(report.effective_bps)}` }),
    ]);
  }

  stockSection(report) {
    const rows = report.items.map((v) => element('tr', {}, [
      cell(label(v)), num(v.products), num(v.pieces), num(v.grams), num(formatFen(v.value_fen))]));
    rows.push(element('tr', { className: 'total' }, [cell(w('total')), num(''), num(report.pieces),
                                                     num(report.grams), num(formatFen(report.value_fen))]));
    return this.section(w('stock_value'), '/api/v1/reports/stock-value?format=csv', [
      this.chart('chart-stock', {
        tooltip: { trigger: 'item', valueFormatter: (fen) => formatFen(fen) },
        series: [{ type: 'pie', radius: ['35%', '70%'],
                   data: report.items.filter((v) => v.value_fen > 0).map((v) => ({ name: label(v), value: v.value_fen })) }],
      }, '16rem'),
      table([w('village'), w('products'), w('pieces'), w('grams'), w('value')], rows),
    ]);
  }

  /** A slow mover's or lot's village, in English when chosen and known. */
  villageName(item) {
    const village = this.villageNames?.get(item.village_id);
    return village ? label(village) : item.village_name;
  }

  slowSection(report, period) {
    return this.section(w('slow'), `/api/v1/reports/slow-movers?${period}&limit=15&format=csv`, [scroll(
      table([w('name'), w('village'), w('on_hand'), w('sold'), w('cover'), w('value')],
        report.items.map((p) => element('tr', {}, [
          cell(label(p)), cell(this.villageName(p)), num(`${p.on_hand}${p.unit === 'g' ? ' g' : ''}`), num(p.sold),
          num(p.days_of_cover ?? w('never')), num(formatFen(p.value_fen))])), 2)),
    ]);
  }

  expiringSection(report) {
    return this.section(w('expiring'), '/api/v1/reports/expiring?days=60&format=csv', [scroll(
      table([w('name'), w('village'), w('lot'), w('expires'), w('days_left'), w('on_hand'), w('value')],
        report.items.map((l) => element('tr', { className: l.days_left < 0 ? 'expired' : '' }, [
          cell(label(l)), cell(this.villageName(l)), cell(l.lot), cell(l.expires_on), num(l.days_left),
          num(`${l.remaining}${l.unit === 'g' ? ' g' : ''}`), num(formatFen(l.value_fen))])), 4)),
    ]);
  }

  /** 支付对账: per provider what came in, went out and is left (the totals below), then every
   *  movement as booked with our trade number and the provider's, money out in red. */
  paymentsSection(report, query) {
    const provider = element('select', { attributes: { name: 'provider' } },
                             PROVIDERS.map((p) => option(p, w(`provider.${p || 'all'}`))));
    provider.value = this.provider;
    provider.addEventListener('change', () => {
      this.provider = provider.value;
      this.reloadPayments();
    });
    const figures = (t) => [num(formatFen(t.received_fen)), signed(-t.refunded_fen), num(formatFen(t.net_fen)),
                            num(t.received_count + t.refunded_count)];
    const summary = report.providers.map((p) => element('tr', {}, [cell(providerName(p.provider)), ...figures(p)]));
    summary.push(element('tr', { className: 'total' }, [cell(w('total')), ...figures(report)]));
    // Short texts on one line; the long trade numbers break where they must (anywhere: they are
    // one word of up to 32 characters).
    const line = (text) => {
      const node = cell(text);
      node.classList.add('nowrap');
      return node;
    };
    const number = (text) => {
      const node = cell(text);
      node.classList.add('trade-no');
      return node;
    };
    const movements = report.items.map((m) => element('tr', {}, [
      line(bookedAt(m.booked_at)),
      line(m.method.endsWith('_code') ? `${providerName(m.provider)} · ${w('code')}` : providerName(m.provider)),
      line(words.zh[`kind.${m.kind}`] ? w(`kind.${m.kind}`) : m.kind),
      line(m.document), number(m.trade_no), number(m.transaction_id), signed(m.amount_fen)]));
    const title = `${w('payments')}${report.provider ? ` · ${providerName(report.provider)}` : ''} (${report.from} – ${report.to})`;
    const totals = table([w('provider'), w('received'), w('paid_out'), w('net'), w('movements')], summary);
    totals.classList.add('report-summary');
    return this.section(title, `/api/v1/reports/payments?${query}&format=csv`, [
      element('div', { className: 'toolbar report-toolbar' }, [labelled('provider', provider)]),
      element('p', { className: 'hint', text: w('payments_note') }),
      totals,
      ...(report.items.length
        ? [scroll(table([w('time'), w('provider'), w('kind'), w('document'), w('trade_no'), w('transaction_id'),
                         w('amount')], movements, 6))]
        : [element('p', { className: 'hint', text: w('no_payments') })]),
    ]);
  }
}
