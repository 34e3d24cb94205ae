// The product form's gift box part (礼盒, README "Gift boxes"): a box is a product of kind
// "bundle" made of other products (active, sold by the piece, not boxes themselves), each with a
// quantity. The manager ticks 礼盒, then adds rows of product + quantity. The server checks the
// rules and names the field of a mistake (components[1].quantity…): each row has its own error
// slot and inputs named like that, so the form's showError puts the message beside it.
import { api } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { language } from '/assets/js/i18n.js';

const words = {
  zh: {
    box: '礼盒（由其他商品组成）', product: '商品', quantity: '数量', add: '添加商品', remove: '移除',
    hint: '礼盒不单独入库：可售盒数取决于各组成商品的库存。至少两种商品，或一种商品数量 ≥ 2。',
  },
  en: {
    box: 'Gift box (made of other products)', product: 'Product', quantity: 'Quantity', add: 'Add a product',
    remove: 'Remove',
    hint: 'A box holds no stock of its own: the boxes for sale follow its contents\' stock. At least two products, or one with quantity ≥ 2.',
  },
};
const w = (key) => words[language()][key] ?? words.zh[key];

export class BundleEditor {
  /** `box` is an empty element inside `form`; the editor fills it. */
  constructor(box, form) {
    this.box = box;
    this.form = form;
    this.choices = [];
  }

  /** Fills the part for `product` (null: a new product); loads the products a box may hold. */
  async open(product) {
    // The list's rows may not carry a box's contents: read the box itself.
    if (product?.kind === 'bundle' && !product.components?.length) product = await api(`/api/v1/products/${product.id}`);
    this.product = product;
    const { items } = await api('/api/v1/products?page_size=100');
    this.choices = items.filter((p) => p.active && p.kind !== 'bundle' && p.unit === 'piece' && p.id !== product?.id);
    this.toggle = element('input', { attributes: { type: 'checkbox', name: 'bundle' } });
    this.toggle.checked = product?.kind === 'bundle';
    this.toggle.addEventListener('change', () => this.update());
    this.rows = element('tbody');
    const add = element('button', { className: 'secondary', text: w('add'), attributes: { type: 'button', name: 'add_component' } });
    add.addEventListener('click', () => this.addRow());
    this.details = element('div', { className: 'bundle-details' }, [
      element('p', { className: 'hint', text: w('hint') }),
      element('table', { className: 'data-table bundle-table' }, [
        element('thead', {}, [element('tr', {}, [
          element('th', { text: w('product') }), element('th', { text: w('quantity') }), element('th')])]),
        this.rows,
      ]),
      add,
      element('p', { className: 'field-error', attributes: { 'data-for': 'components' } }),
    ]);
    this.box.replaceChildren(
      element('label', { className: 'bundle-toggle' }, [this.toggle, ' ', element('span', { text: w('box') })]),
      this.details);
    for (const component of product?.components ?? []) this.addRow(component);
    this.update();
  }

  /** Shows the rows when the product is a box (two empty rows to start); a box is sold by the piece. */
  update() {
    this.details.hidden = !this.toggle.checked;
    if (!this.toggle.checked) return;
    this.form.elements.unit.value = 'piece';
    while (this.rows.children.length < 2) this.addRow();
  }

  addRow(component = null) {
    const select = element('select', {}, [
      element('option', { text: '—', attributes: { value: '' } }),
      ...this.choices.map((p) => element('option', {
        text: `${language() === 'en' && p.name_en ? p.name_en : p.name} · ${p.village_name}`,
        attributes: { value: String(p.id) } })),
    ]);
    // A component no longer offered stays listed under its own name, so saving keeps it.
    if (component && !this.choices.some((p) => p.id === component.product_id)) {
      select.append(element('option', { text: component.name, attributes: { value: String(component.product_id) } }));
    }
    if (component) select.value = String(component.product_id);
    const quantity = element('input', { attributes: { inputmode: 'numeric', size: '4' } });
    quantity.value = String(component?.quantity ?? 1);
    const remove = element('button', { className: 'link-button', text: w('remove'), attributes: { type: 'button' } });
    const row = element('tr', { className: 'component' }, [
      element('td', {}, [select, element('p', { className: 'field-error' })]),
      element('td', {}, [quantity, element('p', { className: 'field-error' })]),
      element('td', {}, [remove]),
    ]);
    remove.addEventListener('click', () => { row.remove(); this.renumber(); });
    this.rows.append(row);
    this.renumber();
  }

  /** Names the rows' inputs and error slots by their place, as the API names a mistake. */
  renumber() {
    [...this.rows.children].forEach((row, i) => {
      const [select, quantity] = row.querySelectorAll('select, input');
      const [productError, quantityError] = row.querySelectorAll('.field-error');
      select.name = `components[${i}].product_id`;
      quantity.name = `components[${i}].quantity`;
      productError.dataset.for = select.name;
      quantityError.dataset.for = quantity.name;
      select.setAttribute('aria-label', `${w('product')} ${i + 1}`);
      quantity.setAttribute('aria-label', `${w('quantity')} ${i + 1}`);
    });
  }

  /** What the product's body gets: kind and components for a box; kind item for a box undone. */
  body() {
    if (!this.toggle.checked) return this.product?.kind === 'bundle' ? { kind: 'item' } : {};
    const components = [...this.rows.children].map((row, i) => {
      const [select, quantity] = row.querySelectorAll('select, input');
      const text = quantity.value.trim();
      if (!/^\d+$/.test(text)) {
        throw Object.assign(new Error(language() === 'en' ? 'Enter a whole number' : '请输入整数'),
                            { field: `components[${i}].quantity` });
      }
      return { product_id: Number(select.value), quantity: Number(text) };
    });
    return { kind: 'bundle', unit: 'piece', components };
  }
}
