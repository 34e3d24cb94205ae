// The manager's settlements tab (结算): list, a draft for a village and a month, confirm, record
// payouts (the whole remaining total or part of it), open or print the statement, download the
// CSV; and manual adjustments.
import { api, ApiError, formatFen, parseYuan } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { language } from '/assets/js/i18n.js';

const words = {
  zh: {
    village: '村', all_villages: '全部村', month: '月份', state: '状态', all_states: '全部状态',
    new_draft: '生成草稿', period: '结算期', lines: '明细', sales: '销售所得', refunds: '退款',
    adjustments: '调整', total: '本期应付', actions: '操作', confirm: '确认', pay: '登记付款',
    statement: '结算单', csv: '下载 CSV', 'state.draft': '草稿', 'state.confirmed': '已确认', 'state.paid': '已付款',
    confirm_question: '确认后结算单冻结，明细和金额不再改变。确认？', amount: '金额（元）', method: '付款方式',
    bank: '银行转账', cash: '现金', reference: '转账凭证号', paid_on: '付款日期', save: '提交', cancel: '取消',
    adjust: '记一笔调整', reason: '事由', adjust_hint: '正数：驿站多付给村；负数：向村扣回（如包装费）',
    saved: '已保存。', error: '出错了：', none: '还没有结算单。', more: '下一页',
    paid_info: '已付 {paid}，未付 {remaining}', payout_info: '{paid_on} {method} {amount}',
    remaining: '未付 {remaining}；可分次付款，每次不超过未付金额。',
  },
  en: {
    village: 'Village', all_villages: 'All villages', month: 'Month', state: 'State', all_states: 'All states',
    new_draft: 'Make draft', period: 'Period', lines: 'Lines', sales: 'Sales share', refunds: 'Refunds',
    adjustments: 'Adjustments', total: 'Payable', actions: 'Actions', confirm: 'Confirm', pay: 'Record payout',
    statement: 'Statement', csv: 'Download CSV', 'state.draft': 'Draft', 'state.confirmed': 'Confirmed',
    'state.paid': 'Paid', confirm_question: 'Once confirmed the statement is frozen. Confirm?',
    amount: 'Amount (yuan)', method: 'Method', bank: 'Bank transfer', cash: 'Cash', reference: 'Reference',
    paid_on: 'Paid on', save: 'Submit', cancel: 'Cancel', adjust: 'Record an adjustment', reason: 'Reason',
    adjust_hint: 'Positive: the station owes the village more; negative: charged back (e.g. packaging)',
    saved: 'Saved.', error: 'Error: ', none: 'No settlements yet.', more: 'Next page',
    paid_info: 'paid {paid}, remaining {remaining}', payout_info: '{paid_on} {method} {amount}',
    remaining: 'Remaining {remaining}; pay it at once or in parts, each at most what remains.',
  },
};

function w(key, values = {}) {
  const text = words[language()][key] ?? words.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

/** Today's business date in Asia/Shanghai, "YYYY-MM-DD". */
function shanghaiToday() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** The first and last day of a month "YYYY-MM"; the last is today when the month is running. */
export function monthPeriod(month, today = shanghaiToday()) {
  const [year, number] = month.split('-').map(Number);
  const last = new Date(Date.UTC(year, number, 0)).toISOString().slice(0, 10);
  return { from: `${month}-01`, to: last > today ? today : last };
}

const button = (key, onClick, className = 'secondary') => {
  const node = element('button', { className, text: w(key), attributes: { type: 'button' } });
  node.addEventListener('click', onClick);
  return node;
};
const labelled = (key, control) =>
  element('label', { className: 'stock-field' }, [element('span', { text: w(key) }), control]);
const option = (value, text) => element('option', { text, attributes: { value } });

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

export class SettlementsTab {
  constructor(root) {
    this.root = root;
    this.page = 1;
  }

  /** (Re)builds the tab; `villages` are the admin's village list. */
  async show(villages) {
    this.villages = villages;
    const villageOptions = () => villages.map((v) => option(String(v.id), `${v.name} (${v.code})`));
    this.village = element('select', { attributes: { name: 'village_id' } }, villageOptions());
    const today = shanghaiToday();
    this.month = element('input', { attributes: { type: 'month', name: 'month', max: today.slice(0, 7) } });
    this.month.value = today.slice(0, 7);
    this.filterVillage = element('select', { attributes: { name: 'filter_village' } },
                                 [option('', w('all_villages')), ...villageOptions()]);
    this.filterState = element('select', { attributes: { name: 'state' } },
                               [option('', w('all_states')),
                                ...['draft', 'confirmed', 'paid'].map((s) => option(s, w(`state.${s}`)))]);
    for (const filter of [this.filterVillage, this.filterState]) {
      filter.addEventListener('change', () => { this.page = 1; this.load(); });
    }
    this.rows = element('tbody');
    this.message = element('p', { className: 'form-error', attributes: { role: 'alert', hidden: '' } });
    this.more = button('more', () => { this.page += 1; this.load(); });
    this.root.replaceChildren(
      element('div', { className: 'toolbar' }, [
        labelled('village', this.village), labelled('month', this.month),
        button('new_draft', () => this.makeDraft(), 'primary'),
        button('adjust', () => this.openAdjustment()),
      ]),
      this.message,
      element('div', { className: 'toolbar' }, [labelled('village', this.filterVillage), labelled('state', this.filterState)]),
      element('table', { className: 'data-table' }, [
        element('thead', {}, [element('tr', {}, ['#', 'village', 'period', 'state', 'lines', 'sales', 'refunds',
          'adjustments', 'total', 'actions'].map((key) => element('th', { text: key === '#' ? '#' : w(key) })))]),
        this.rows,
      ]),
      element('nav', { className: 'pager' }, [this.more]),
    );
    await this.load();
  }

  say(text, isError = true) {
    this.message.textContent = text;
    this.message.hidden = !text;
    this.message.className = isError ? 'form-error' : 'form-ok';
  }

  fail(error) {
    const field = error instanceof ApiError ? error.details?.field : undefined;
    this.say(`${w('error')}${error.message}${field ? ` (${field})` : ''}`);
  }

  async load() {
    const query = new URLSearchParams({ page: String(this.page), page_size: '20' });
    if (this.filterVillage.value) query.set('village_id', this.filterVillage.value);
    if (this.filterState.value) query.set('state', this.filterState.value);
    try {
      const result = await api(`/api/v1/settlements?${query}`);
      this.rows.replaceChildren(...(result.items.length
        ? result.items.map((s) => this.row(s))
        : [element('tr', {}, [element('td', { text: w('none'), attributes: { colspan: '10' } })])]));
      this.more.hidden = result.page * result.page_size >= result.total;
    } catch (error) {
      this.fail(error);
    }
  }

  row(s) {
    const statement = `/api/v1/settlements/${s.id}/statement`;
    const actions = [
      element('a', { text: w('statement'), attributes: { href: statement, target: '_blank', rel: 'noopener' } }),
      element('a', { text: w('csv'), attributes: { href: `${statement}?format=csv`, download: '' } }),
    ];
    if (s.state === 'draft') actions.push(button('confirm', () => this.confirm(s), 'primary'));
    if (s.state === 'confirmed' && s.remaining_fen > 0) actions.push(button('pay', () => this.openPayout(s), 'primary'));
    const payouts = s.payouts ?? [];
    const state = element('td', { className: 'state', attributes: {
      'data-state': s.state, 'data-paid-fen': String(s.paid_fen), 'data-remaining-fen': String(s.remaining_fen) } }, [
      element('span', { text: w(`state.${s.state}`) +
        (payouts.length ? ` · ${w('paid_info', { paid: formatFen(s.paid_fen), remaining: formatFen(s.remaining_fen) })}` : '') }),
      ...(payouts.length ? [element('ul', { className: 'payouts' }, payouts.map((p) => element('li', {
        attributes: { 'data-payout': String(p.id) },
        text: w('payout_info', { paid_on: p.paid_on, method: w(p.method), amount: formatFen(p.amount_fen) }) +
          (p.reference ? ` · ${p.reference}` : ''),
      })))] : []),
    ]);
    return element('tr', { attributes: { 'data-settlement': String(s.id) } }, [
      element('td', { text: `S${s.id}` }),
      element('td', { text: s.village_name }),
      element('td', { text: `${s.from} ~ ${s.to}` }),
      state,
      element('td', { text: String(s.line_count) }),
      element('td', { className: 'num', text: formatFen(s.sales_share_fen) }),
      element('td', { className: 'num', text: formatFen(s.refund_share_fen) }),
      element('td', { className: 'num', text: formatFen(s.adjustments_fen) }),
      element('td', { className: 'num', text: formatFen(s.total_fen) }),
      element('td', { className: 'actions' }, actions),
    ]);
  }

  async makeDraft() {
    this.say('');
    if (!this.month.value) return;
    const period = monthPeriod(this.month.value);
    try {
      await api('/api/v1/settlements', {
        method: 'POST',
        body: { village_id: Number(this.village.value), from: period.from, to: period.to },
        headers: { 'Idempotency-Key': newKey() },
      });
      this.say(w('saved'), false);
      this.page = 1;
      await this.load();
    } catch (error) {
      this.fail(error);
    }
  }

  async confirm(s) {
    if (!window.confirm(w('confirm_question'))) return;
    try {
      await api(`/api/v1/settlements/${s.id}/confirm`, { method: 'POST' });
      this.say(w('saved'), false);
      await this.load();
    } catch (error) {
      this.fail(error);
    }
  }

  /** A small form dialog; `submit` gets the form and returns a promise. */
  dialog(title, fields, submit) {
    const form = element('form', { attributes: { method: 'dialog', novalidate: '' } }, [
      element('h2', { text: title }),
      ...fields,
      element('p', { className: 'form-error', attributes: { role: 'alert', hidden: '' } }),
    ]);
    const dialog = element('dialog', { className: 'card form-dialog' }, [form]);
    const error = form.querySelector('.form-error');
    // One key per dialog: a double click or a retry after a timeout pays once.
    const key = newKey();
    form.append(element('div', { className: 'toolbar' }, [
      button('cancel', () => dialog.close()),
      button('save', async () => {
        error.hidden = true;
        try {
          await submit(form, key);
          dialog.close();
          this.say(w('saved'), false);
          await this.load();
        } catch (failure) {
          const field = failure instanceof ApiError ? failure.details?.field : undefined;
          error.textContent = `${failure.message}${field ? ` (${field})` : ''}`;
          error.hidden = false;
        }
      }, 'primary'),
    ]));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  openPayout(s) {
    // The whole remaining total by default; the manager may pay less (a partial payout).
    const amount = element('input', { attributes: { name: 'amount', inputmode: 'decimal' } });
    amount.value = formatFen(s.remaining_fen).replace('¥', '');
    const method = element('select', { attributes: { name: 'method' } }, [option('bank', w('bank')), option('cash', w('cash'))]);
    const reference = element('input', { attributes: { name: 'reference', maxlength: '100' } });
    const paidOn = element('input', { attributes: { name: 'paid_on', type: 'date', min: s.to, max: shanghaiToday() } });
    paidOn.value = shanghaiToday();
    this.dialog(`${w('pay')} · S${s.id} · ${s.village_name}`,
      [element('p', { className: 'hint', text: w('remaining', { remaining: formatFen(s.remaining_fen) }) }),
       labelled('amount', amount), labelled('method', method), labelled('reference', reference), labelled('paid_on', paidOn)],
      (form, key) => {
        const fen = parseYuan(amount.value.trim());
        if (fen === null) throw new ApiError(422, 'invalid', w('amount'), { field: 'amount_fen' });
        return api(`/api/v1/settlements/${s.id}/payouts`, {
          method: 'POST',
          headers: { 'Idempotency-Key': key },
          body: { amount_fen: fen, method: method.value, reference: reference.value, paid_on: paidOn.value },
        });
      });
  }

  openAdjustment() {
    const village = element('select', { attributes: { name: 'village_id' } },
                            this.villages.map((v) => option(String(v.id), v.name)));
    village.value = this.village.value;
    const amount = element('input', { attributes: { name: 'amount', inputmode: 'decimal' } });
    const reason = element('input', { attributes: { name: 'reason', maxlength: '200' } });
    this.dialog(w('adjust'),
      [labelled('village', village), labelled('amount', amount),
       element('p', { className: 'hint', text: w('adjust_hint') }), labelled('reason', reason)],
      (form, key) => {
        const text = amount.value.trim();
        const negative = text.startsWith('-');
        const fen = parseYuan(negative ? text.slice(1) : text);
        if (fen === null) throw new ApiError(422, 'invalid', w('amount'), { field: 'amount_fen' });
        return api(`/api/v1/villages/${village.value}/adjustments`, {
          method: 'POST',
          headers: { 'Idempotency-Key': key },
          body: { amount_fen: negative ? -fen : fen, reason: reason.value },
        });
      });
  }
}
