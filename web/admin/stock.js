// The manager's stock tab: levels with filters, a product's lots and ledger, receiving goods
// (入库) with a printable note, write-offs (报损), returns to the village (退货给村) and counts (盘点).
import { api, ApiError } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { language } from '/assets/js/i18n.js';

const words = {
  zh: {
    village: '村', all_villages: '全部村', low: '只看低库存', expiring: '几天内到期', filter: '筛选',
    sku: '货号', name: '商品', on_hand: '在库', reserved: '预留', available: '可售', next_expiry: '最近到期',
    low_badge: '低库存', expired: '已过期', details: '批次与流水', receive: '入库', receipts: '入库单',
    lots: '批次', lot: '批号', quantity: '数量', remaining: '余量', produced_on: '生产日期', expires_on: '到期日',
    certificate: '合格证/追溯码', note: '备注', add_line: '加一行', remove: '删除', save: '提交', cancel: '取消',
    moves: '库存流水', kind: '类型', balance: '结存', when: '时间', by: '经办', more: '更早的流水',
    write_off: '报损', reason: '原因', return_to_village: '退货给村', count: '盘点', counted: '实盘数',
    expected: '账面数', difference: '差异', print: '打印入库单', saved: '已保存。', unit_g: '克', unit_piece: '件',
    'reason.spoiled': '变质', 'reason.damaged': '破损', 'reason.sample': '样品', 'reason.other': '其他（需备注）',
    'kind.receipt': '入库', 'kind.sale': '销售', 'kind.refund': '退款回库', 'kind.return': '退货给村',
    'kind.adjustment': '盘点调整', 'kind.write_off': '报损', 'kind.shortfall': '短缺补记', 'kind.reserve': '预留',
    'kind.release': '释放预留', out_of_stock: '库存不足：可用 {available}。', error: '出错了：',
    fix_fields: '请修改标红的项目。', created_at: '入库时间', line_count: '行数',
  },
  en: {
    village: 'Village', all_villages: 'All villages', low: 'Low stock only', expiring: 'Expiring within days',
    filter: 'Filter', sku: 'SKU', name: 'Product', on_hand: 'On hand', reserved: 'Reserved', available: 'Available',
    next_expiry: 'Next expiry', low_badge: 'Low', expired: 'Expired', details: 'Lots and moves', receive: 'Receive goods',
    receipts: 'Receipts', lots: 'Lots', lot: 'Lot', quantity: 'Quantity', remaining: 'Left',
    produced_on: 'Produced', expires_on: 'Expires', certificate: 'Certificate', note: 'Note', add_line: 'Add line',
    remove: 'Remove', save: 'Submit', cancel: 'Cancel', moves: 'Stock ledger', kind: 'Kind', balance: 'Balance',
    when: 'When', by: 'By', more: 'Older moves', write_off: 'Write off', reason: 'Reason',
    return_to_village: 'Return to village', count: 'Count', counted: 'Counted', expected: 'Expected',
    difference: 'Difference', print: 'Print receiving note', saved: 'Saved.', unit_g: 'g', unit_piece: 'pcs',
    'reason.spoiled': 'Spoiled', 'reason.damaged': 'Damaged', 'reason.sample': 'Sample', 'reason.other': 'Other (note required)',
    'kind.receipt': 'Receipt', 'kind.sale': 'Sale', 'kind.refund': 'Refund', 'kind.return': 'Return to village',
    'kind.adjustment': 'Count adjustment', 'kind.write_off': 'Write-off', 'kind.shortfall': 'Shortfall',
    'kind.reserve': 'Reserved', 'kind.release': 'Released', out_of_stock: 'Not enough in stock: {available} available.',
    error: 'Error: ', fix_fields: 'Please correct the marked fields.', created_at: 'Received', line_count: 'Lines',
  },
};

function w(key, values = {}) {
  const text = words[language()][key] ?? words.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

const unitText = (unit) => (unit === 'g' ? w('unit_g') : w('unit_piece'));
const cell = (text) => element('td', { text: text ?? '—' });
const head = (...keys) => element('thead', {}, [element('tr', {}, keys.map((key) => element('th', { text: w(key) })))]);

function input(name, { type = 'text', value = '', attributes = {}, width } = {}) {
  const node = element('input', { attributes: { name, type, ...attributes } });
  node.value = value;
  // Through the CSSOM: the pages' Content-Security-Policy refuses style attributes.
  if (width) node.style.width = width;
  return node;
}

function labelled(labelKey, control) {
  return element('label', { className: 'stock-field' }, [element('span', { text: w(labelKey) }), control]);
}

function button(textKey, onClick, className = 'secondary') {
  const node = element('button', { className, text: w(textKey), attributes: { type: 'button' } });
  node.addEventListener('click', onClick);
  return node;
}

/** An API error as text; `field` errors are marked on the form's control of that name. */
function explain(error, form) {
  if (!(error instanceof ApiError)) return w('error') + String(error);
  if (error.code === 'out_of_stock') return w('out_of_stock', { available: error.details.available ?? 0 });
  const field = error.details?.field;
  const control = field && form?.querySelector(`[data-field="${CSS.escape(field)}"]`);
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    control.focus();
    return `${w('fix_fields')}（${error.message}）`;
  }
  return w('error') + error.message;
}

function numberOrUndefined(text) {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed === '' ? undefined : Number.NaN;
}

export class StockTab {
  constructor(root, villages) {
    this.root = root;
    this.villages = villages;
    this.products = [];
  }

  /** (Re)builds the tab; `villages` are the admin's village list. */
  async show(villages = this.villages) {
    this.villages = villages;
    // Shown again before the products came (the village list arrived): the later call draws.
    const generation = (this.generation = (this.generation ?? 0) + 1);
    const products = (await api('/api/v1/products?page_size=100')).items;
    if (generation !== this.generation) return;
    this.products = products;
    const villageSelect = element('select', { attributes: { name: 'village_id' } }, [
      element('option', { text: w('all_villages'), attributes: { value: '' } }),
      ...this.villages.map((v) => element('option', { text: v.name, attributes: { value: String(v.id) } })),
    ]);
    const low = input('low', { type: 'checkbox' });
    const expiring = input('expiring_days', { attributes: { inputmode: 'numeric', size: '4' } });
    this.filters = { villageSelect, low, expiring };
    this.levels = element('tbody');
    this.detail = element('section', { className: 'stock-detail', attributes: { hidden: '' } });
    this.message = element('p', { className: 'form-error', attributes: { role: 'alert', hidden: '' } });
    this.receiptsBody = element('tbody');
    this.root.replaceChildren(
      element('div', { className: 'toolbar' }, [
        labelled('village', villageSelect), labelled('low', low), labelled('expiring', expiring),
        button('filter', () => {
          this.say('');
          this.loadLevels();
        }),
        button('receive', () => this.openReceive(), 'primary'),
      ]),
      this.message,
      element('table', { className: 'data-table', attributes: { id: 'stock-levels' } }, [
        head('sku', 'name', 'village', 'on_hand', 'reserved', 'available', 'next_expiry', ''), this.levels]),
      this.detail,
      element('h2', { text: w('receipts') }),
      element('table', { className: 'data-table' }, [head('', 'village', 'created_at', 'line_count', 'note', ''), this.receiptsBody]),
    );
    await Promise.all([this.loadLevels(), this.loadReceipts()]);
  }

  /**
   * A message for the manager. With a form, it goes beside the form (the form sits under a long
   * table: a message at the top of the tab is out of sight); `ok` shows it as done, not as an error.
   */
  say(text, { form = null, ok = false } = {}) {
    let target = this.message;
    if (form) {
      target = form.querySelector(':scope > .form-message');
      if (!target) {
        target = element('p', { className: 'form-message', attributes: { role: 'alert' } });
        form.append(target);
      }
      this.message.hidden = true;
    }
    target.textContent = text;
    target.hidden = !text;
    target.classList.toggle('form-error', !ok);
    target.classList.toggle('form-ok', ok);
    if (form && text) target.scrollIntoView({ block: 'nearest' });
  }

  async loadLevels() {
    const query = new URLSearchParams({ page_size: '100' });
    const { villageSelect, low, expiring } = this.filters;
    if (villageSelect.value) query.set('village_id', villageSelect.value);
    if (low.checked) query.set('low', 'true');
    if (expiring.value.trim()) query.set('expiring_days', expiring.value.trim());
    try {
      const { items } = await api(`/api/v1/stock?${query}`);
      this.levels.replaceChildren(...items.map((level) => {
        const open = button('details', () => this.openProduct(level.product_id), 'link-button');
        const name = element('td', {}, [element('span', { text: level.name })]);
        if (level.low) name.append(' ', element('mark', { className: 'badge', text: w('low_badge') }));
        return element('tr', { attributes: { 'data-product': String(level.product_id) } }, [
          cell(level.sku), name, cell(level.village_name),
          cell(`${level.on_hand} ${unitText(level.unit)}`), cell(String(level.reserved)),
          cell(String(level.available)), cell(level.next_expiry), element('td', {}, [open]),
        ]);
      }));
    } catch (error) {
      this.say(explain(error));
    }
  }

  async loadReceipts() {
    const { items } = await api('/api/v1/stock/receipts?page_size=20');
    this.receiptsBody.replaceChildren(...items.map((receipt) => element('tr', {}, [
      cell(`R${receipt.id}`), cell(receipt.village_name), cell(receipt.created_at.replace('T', ' ').slice(0, 16)),
      cell(String(receipt.line_count)), cell(receipt.note),
      element('td', {}, [element('a', { text: w('print'), attributes: { href: `/api/v1/stock/receipts/${receipt.id}/note`, target: '_blank' } })]),
    ])));
  }

  /** A product's lots (with write-off and return per lot), a count, and its ledger. */
  async openProduct(productId, before = null) {
    const level = await api(`/api/v1/stock/${productId}`);
    const moves = await api(`/api/v1/stock/${productId}/moves?limit=20${before ? `&before=${before}` : ''}`);
    const form = element('form', { attributes: { novalidate: '' } });
    const lotRows = level.lots.map((lot) => {
      const quantity = input('quantity', { width: '6rem', attributes: { inputmode: 'numeric', 'data-field': 'lines[0].quantity' } });
      const reason = element('select', { attributes: { name: 'reason', 'data-field': 'lines[0].reason' } },
        ['spoiled', 'damaged', 'sample', 'other'].map((r) => element('option', { text: w(`reason.${r}`), attributes: { value: r } })));
      const note = input('note', { width: '9rem', attributes: { placeholder: w('note'), 'data-field': 'lines[0].note' } });
      reason.style.width = '9rem';
      const take = async (path, body) => {
        try {
          await api(path, { method: 'POST', body });
          await Promise.all([this.loadLevels(), this.openProduct(productId)]);
          this.say(w('saved'), { ok: true });
        } catch (error) {
          this.say(explain(error, form), { form });
        }
      };
      const line = () => ({ product_id: productId, lot_id: lot.lot_id, quantity: numberOrUndefined(quantity.value) });
      return element('tr', {}, [
        cell(lot.lot), cell(String(lot.quantity)), cell(lot.produced_on),
        cell(lot.expired ? `${lot.expires_on} (${w('expired')})` : lot.expires_on), cell(lot.certificate || '—'),
        element('td', { className: 'stock-actions' }, [quantity, ' ', reason, ' ', note, ' ',
          button('write_off', () => take('/api/v1/stock/write-offs', { lines: [{ ...line(), reason: reason.value, note: note.value }] })),
          button('return_to_village', () => take('/api/v1/stock/returns', { village_id: level.village_id, lines: [line()] }))]),
      ]);
    });
    const counted = input('counted', { value: String(level.on_hand), width: '9rem', attributes: { inputmode: 'numeric', 'data-field': 'lines[0].counted' } });
    const countButton = button('count', async () => {
      try {
        const booked = await api('/api/v1/stock/counts', {
          method: 'POST', body: { lines: [{ product_id: productId, counted: numberOrUndefined(counted.value) }] },
        });
        const line = booked.lines[0];
        await Promise.all([this.loadLevels(), this.openProduct(productId)]);
        this.say(`${w('expected')} ${line.expected} · ${w('counted')} ${line.counted} · ${w('difference')} ${line.difference}`, { ok: true });
      } catch (error) {
        this.say(explain(error, form), { form });
      }
    });
    const more = moves.next_before ? [button('more', () => this.openProduct(productId, moves.next_before))] : [];
    form.replaceChildren(
      element('h2', { text: `${level.name} · ${level.on_hand} ${unitText(level.unit)}` }),
      element('h3', { text: w('lots') }),
      element('table', { className: 'data-table' }, [head('lot', 'remaining', 'produced_on', 'expires_on', 'certificate', ''), element('tbody', {}, lotRows)]),
      element('div', { className: 'toolbar' }, [labelled('counted', counted), countButton]),
      element('h3', { text: w('moves') }),
      element('table', { className: 'data-table' }, [
        head('when', 'kind', 'quantity', 'balance', 'lot', 'by'),
        element('tbody', {}, moves.items.map((move) => element('tr', {}, [
          cell(move.at.replace('T', ' ').slice(0, 16)), cell(w(`kind.${move.kind}`)),
          cell(move.quantity > 0 ? `+${move.quantity}` : String(move.quantity)), cell(String(move.balance)),
          cell(move.lot), cell(move.by),
        ])))]),
      element('nav', { className: 'pager' }, more),
    );
    this.detail.replaceChildren(form);
    this.detail.hidden = false;
    this.detail.scrollIntoView({ block: 'nearest' });
  }

  /** The receiving form: one village, lines of its products. */
  openReceive() {
    const form = element('form', { className: 'card', attributes: { novalidate: '', id: 'receive-form' } });
    const village = element('select', { attributes: { name: 'village_id', 'data-field': 'village_id' } },
      this.villages.map((v) => element('option', { text: v.name, attributes: { value: String(v.id) } })));
    const note = input('note', { attributes: { 'data-field': 'note' } });
    const lines = element('tbody');
    const productsOf = () => this.products.filter((p) => String(p.village_id) === village.value);
    const addLine = () => {
      const index = lines.children.length;
      const product = element('select', { attributes: { name: 'product_id', 'data-field': `lines[${index}].product_id` } },
        productsOf().map((p) => element('option', { text: `${p.name}（${unitText(p.unit)}）`, attributes: { value: String(p.id) } })));
      const field = (name, type = 'text') => input(name, { type, attributes: { 'data-field': `lines[${index}].${name}` } });
      const row = element('tr', {}, [
        element('td', {}, [product]), element('td', {}, [field('quantity')]), element('td', {}, [field('lot')]),
        element('td', {}, [field('produced_on', 'date')]), element('td', {}, [field('expires_on', 'date')]),
        element('td', {}, [field('certificate')]),
        element('td', {}, [button('remove', () => row.remove(), 'link-button')]),
      ]);
      lines.append(row);
    };
    village.addEventListener('change', () => {
      lines.replaceChildren();
      addLine();
    });
    const submit = button('save', async () => {
      for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
      const body = { village_id: Number(village.value), note: note.value.trim(), lines: [] };
      for (const row of lines.children) {
        const value = (name) => row.querySelector(`[name="${name}"]`).value.trim();
        const line = { product_id: Number(value('product_id')), quantity: numberOrUndefined(value('quantity')) };
        for (const name of ['lot', 'produced_on', 'expires_on', 'certificate']) {
          if (value(name)) line[name] = value(name);
        }
        body.lines.push(line);
      }
      try {
        const receipt = await api('/api/v1/stock/receipts', { method: 'POST', body });
        form.replaceChildren(element('p', {}, [
          element('span', { text: `${w('saved')} R${receipt.id} ` }),
          element('a', { text: w('print'), attributes: { href: `/api/v1/stock/receipts/${receipt.id}/note`, target: '_blank' } }),
        ]));
        await Promise.all([this.loadLevels(), this.loadReceipts()]);
        this.say('');
      } catch (error) {
        this.say(explain(error, form), { form });
      }
    }, 'primary');
    form.append(
      element('h2', { text: w('receive') }),
      element('div', { className: 'toolbar' }, [labelled('village', village), labelled('note', note)]),
      element('table', { className: 'data-table' }, [head('name', 'quantity', 'lot', 'produced_on', 'expires_on', 'certificate', ''), lines]),
      element('div', { className: 'form-actions' }, [
        button('add_line', addLine), button('cancel', () => { this.detail.hidden = true; }), submit]),
    );
    addLine();
    this.detail.replaceChildren(form);
    this.detail.hidden = false;
    this.detail.scrollIntoView({ block: 'nearest' });
  }
}
