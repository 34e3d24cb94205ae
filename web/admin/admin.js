// The station manager's catalog: products and villages, with errors shown beside their field.
import { api, ApiError, fenToInput, formatFen, parseYuan } from '/assets/js/api.js';
import { element, imageOf } from '/assets/js/catalog-view.js';
import { localName, t, translatePage } from '/assets/js/i18n.js';
import { startStaffPage } from '/assets/js/staff.js';
import { StockTab } from '/admin/stock.js';
import { SettlementsTab } from '/admin/settlements.js';
import { ReportsTab } from '/admin/reports.js';
import { BundleEditor } from '/admin/bundle-editor.js';

const state = {
  villages: [], categories: [], editingProduct: null, editingVillage: null, editingTerms: null,
};

// --- forms -----------------------------------------------------------------------------------

function clearErrors(form) {
  for (const node of form.querySelectorAll('.field-error')) node.textContent = '';
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  const message = form.querySelector('.form-error[role=alert]');
  message.hidden = true;
}

/** Shows an error beside `field` (the API's details.field) or at the bottom of the form. */
function showError(form, field, text) {
  const slot = field && form.querySelector(`.field-error[data-for="${field}"]`);
  if (slot) {
    slot.textContent = text;
    form.elements[field]?.setAttribute('aria-invalid', 'true');
    form.elements[field]?.focus();
  }
  const message = form.querySelector('.form-error[role=alert]');
  message.textContent = slot ? t('admin.fix_fields') : text;
  message.hidden = false;
}

/** Chinese first: the code decides the words; the server's (English) detail follows. */
function apiErrorText(error) {
  if (!(error instanceof ApiError)) return t('error.generic');
  switch (error.code) {
    case 'invalid': return `${t('field.invalid')}（${error.message}）`;
    case 'duplicate': return t('field.duplicate');
    case 'unsupported_media':
    case 'too_large': return `${t('admin.photo_hint')}（${error.message}）`;
    case 'unavailable': return t('login.unavailable');
    default: return t('error.generic');
  }
}

/** An optional whole number from an input: undefined when empty, NaN when not a number. */
function wholeNumber(input) {
  const text = input.value.trim();
  if (text === '') return null;
  return /^\d+$/.test(text) ? Number(text) : Number.NaN;
}

function option(value, text) {
  return element('option', { text, attributes: { value: String(value) } });
}

// --- products --------------------------------------------------------------------------------

const productForm = document.querySelector('#product-form');
const productDialog = document.querySelector('#product-dialog');
const bundleEditor = new BundleEditor(document.querySelector('#bundle-box'), productForm);

async function loadProducts() {
  const q = document.querySelector('#product-search').value.trim();
  const query = new URLSearchParams({ page_size: '100' });
  if (q) query.set('q', q);
  const { items } = await api(`/api/v1/products?${query}`);
  document.querySelector('#product-rows').replaceChildren(...items.map((product) => {
    const status = !product.active ? t('admin.inactive') : product.online ? t('admin.on_sale') : t('admin.hidden');
    const edit = element('button', { className: 'link-button', text: t('admin.edit') });
    edit.addEventListener('click', () => openProduct(product));
    return element('tr', {}, [
      element('td', { text: product.sku }),
      element('td', { text: localName(product) }),
      element('td', { text: product.village_name }),
      element('td', { text: `${formatFen(product.price_fen)}${product.unit === 'g' ? '/kg' : ''}` }),
      element('td', { text: status }),
      element('td', {}, [edit]),
    ]);
  }));
}

async function openProduct(product) {
  state.editingProduct = product;
  clearErrors(productForm);
  productForm.reset();
  const f = productForm.elements;
  f.village_id.replaceChildren(...state.villages.map((v) => option(v.id, localName(v))));
  f.category_id.replaceChildren(...state.categories.map((c) => option(c.id, localName(c))));
  document.querySelector('#product-form-title').textContent = product ? localName(product) : t('admin.new_product');
  if (product) {
    for (const name of ['sku', 'name', 'name_en', 'description', 'origin', 'unit']) f[name].value = product[name] ?? '';
    f.barcode.value = product.barcode ?? '';
    f.village_id.value = String(product.village_id);
    f.category_id.value = String(product.category_id);
    f.price_fen.value = fenToInput(product.price_fen);
    f.commission_bps.value = product.commission_bps ?? '';
    f.shelf_life_days.value = product.shelf_life_days ?? '';
    f.plu.value = product.plu ?? '';
    f.low_stock.value = product.low_stock ?? '';
    f.active.checked = product.active;
    f.online.checked = product.online;
    f.featured.checked = product.featured;
    document.querySelector('#photo-preview').src = imageOf(product);
  }
  document.querySelector('#photo-box').hidden = !product;
  await bundleEditor.open(product);
  if (!productDialog.open) productDialog.showModal();
}

function productBody() {
  const f = productForm.elements;
  const price = parseYuan(f.price_fen.value);
  if (price === null) throw Object.assign(new Error(t('field.price_invalid')), { field: 'price_fen' });
  const body = {
    sku: f.sku.value.trim(),
    barcode: f.barcode.value.trim() || null,
    name: f.name.value.trim(),
    name_en: f.name_en.value.trim(),
    description: f.description.value.trim(),
    origin: f.origin.value.trim(),
    village_id: Number(f.village_id.value),
    category_id: Number(f.category_id.value),
    unit: f.unit.value,
    price_fen: price,
    active: f.active.checked,
    online: f.online.checked,
    featured: f.featured.checked,
    ...bundleEditor.body(),
  };
  for (const name of ['commission_bps', 'shelf_life_days', 'plu', 'low_stock']) {
    const value = wholeNumber(f[name]);
    if (Number.isNaN(value)) throw Object.assign(new Error(t('field.number_invalid')), { field: name });
    body[name] = value;
  }
  return body;
}

productForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(productForm);
  let body;
  try {
    body = productBody();
  } catch (error) {
    return showError(productForm, error.field, error.message);
  }
  try {
    const saved = state.editingProduct
      ? await api(`/api/v1/products/${state.editingProduct.id}`, { method: 'PATCH', body })
      : await api('/api/v1/products', { method: 'POST', body });
    await loadProducts();
    if (state.editingProduct) {
      productDialog.close();
    } else {
      await openProduct(saved);  // now it can get a photo
      const message = productForm.querySelector('.form-error[role=alert]');
      message.textContent = t('admin.saved');
      message.hidden = false;
    }
  } catch (error) {
    showError(productForm, error.details?.field, apiErrorText(error));
  }
});

document.querySelector('#p-photo').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file || !state.editingProduct) return;
  clearErrors(productForm);
  try {
    const product = await api(`/api/v1/products/${state.editingProduct.id}/image`, {
      method: 'POST', body: file, headers: { 'Content-Type': file.type || 'application/octet-stream' },
    });
    state.editingProduct = product;
    document.querySelector('#photo-preview').src = imageOf(product);
    const message = productForm.querySelector('.form-error[role=alert]');
    message.textContent = t('admin.uploaded');
    message.hidden = false;
    await loadProducts();
  } catch (error) {
    showError(productForm, 'image', apiErrorText(error));
  }
});

// --- villages --------------------------------------------------------------------------------

const villageForm = document.querySelector('#village-form');
const villageDialog = document.querySelector('#village-dialog');

async function loadVillages() {
  state.villages = (await api('/api/v1/villages')).items;
  // A tab opened before the list came (a quick click after sign-in) shows it now.
  if (!document.querySelector('#tab-stock').hidden) stockTab.show(state.villages);
  if (!document.querySelector('#tab-settlements').hidden) settlementsTab.show(state.villages);
  document.querySelector('#village-rows').replaceChildren(...state.villages.map((village) => {
    const edit = element('button', { className: 'link-button', text: t('admin.edit') });
    edit.addEventListener('click', () => openVillage(village));
    const terms = element('button', { className: 'link-button', text: t('admin.terms_title') });
    terms.dataset.terms = String(village.id);
    terms.addEventListener('click', () => openTerms(village));
    return element('tr', {}, [
      element('td', { text: village.code }),
      element('td', { text: localName(village) }),
      element('td', { text: `${village.commission_bps} (${(village.commission_bps / 100).toFixed(2)}%)` }),
      element('td', { text: village.active ? t('field.active') : t('admin.inactive') }),
      element('td', {}, [edit, ' ', terms]),
    ]);
  }));
}

function openVillage(village) {
  state.editingVillage = village;
  clearErrors(villageForm);
  villageForm.reset();
  const f = villageForm.elements;
  document.querySelector('#village-form-title').textContent = village ? localName(village) : t('admin.new_village');
  if (village) {
    for (const name of ['code', 'name', 'name_en', 'description', 'contact']) f[name].value = village[name] ?? '';
    f.commission_bps.value = village.commission_bps;
    f.active.checked = village.active;
  }
  villageDialog.showModal();
}

villageForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(villageForm);
  const f = villageForm.elements;
  const commission = wholeNumber(f.commission_bps);
  if (Number.isNaN(commission)) return showError(villageForm, 'commission_bps', t('field.number_invalid'));
  const body = {
    code: f.code.value.trim(), name: f.name.value.trim(), name_en: f.name_en.value.trim(),
    description: f.description.value.trim(), contact: f.contact.value.trim(), active: f.active.checked,
  };
  if (commission !== null) body.commission_bps = commission;
  try {
    if (state.editingVillage) {
      await api(`/api/v1/villages/${state.editingVillage.id}`, { method: 'PATCH', body });
    } else {
      await api('/api/v1/villages', { method: 'POST', body });
    }
    villageDialog.close();
    await loadVillages();
  } catch (error) {
    showError(villageForm, error.details?.field, apiErrorText(error));
  }
});

// --- commission terms ------------------------------------------------------------------------

const termsForm = document.querySelector('#terms-form');
const termsDialog = document.querySelector('#terms-dialog');
let termsKey = null;  // one Idempotency-Key per term being added: a retried submit adds it once

function rateText(bps) {
  return bps === null ? t('village.override_ended') : `${bps} (${(bps / 100).toFixed(2)}%)`;
}

async function loadTerms() {
  const village = state.editingTerms;
  const history = await api(`/api/v1/villages/${village.id}/commission`);
  document.querySelector('#terms-rows').replaceChildren(...history.items.map((term) => {
    const row = element('tr', {}, [
      element('td', { text: term.effective_from }),
      element('td', { text: term.product_id === null ? t('village.scope_default') : term.product_name }),
      element('td', { text: rateText(term.bps) }),
      element('td', { text: t(`village.status_${term.status}`) }),
      element('td', { text: [term.note, term.created_by].filter(Boolean).join(' · ') }),
    ]);
    row.dataset.status = term.status;
    return row;
  }));
  termsForm.elements.effective_from.min = history.today;
  if (!termsForm.elements.effective_from.value) termsForm.elements.effective_from.value = history.today;
}

async function openTerms(village) {
  state.editingTerms = village;
  termsKey = null;
  clearErrors(termsForm);
  termsForm.reset();
  document.querySelector('#terms-village').textContent = localName(village);
  const { items } = await api(`/api/v1/products?village_id=${village.id}&page_size=100`);
  termsForm.elements.product_id.replaceChildren(option('', t('village.scope_default')),
    ...items.map((product) => option(product.id, `${product.sku} ${localName(product)}`)));
  await loadTerms();
  termsDialog.showModal();
}

termsForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(termsForm);
  const f = termsForm.elements;
  const productId = f.product_id.value ? Number(f.product_id.value) : null;
  const ending = f.end_override.checked;
  if (ending && productId === null) return showError(termsForm, 'product_id', t('field.invalid'));
  const bps = ending ? null : wholeNumber(f.bps);
  if (!ending && (bps === null || Number.isNaN(bps))) return showError(termsForm, 'bps', t('field.number_invalid'));
  const body = { bps, product_id: productId, effective_from: f.effective_from.value, note: f.note.value.trim() };
  termsKey ??= crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  try {
    await api(`/api/v1/villages/${state.editingTerms.id}/commission`,
      { method: 'POST', body, headers: { 'Idempotency-Key': termsKey } });
    termsKey = null;
    f.bps.value = '';
    f.note.value = '';
    f.end_override.checked = false;
    const message = termsForm.querySelector('.form-error[role=alert]');
    message.textContent = t('admin.terms_added');
    message.hidden = false;
    await Promise.all([loadTerms(), loadVillages()]);
  } catch (error) {
    // The answer was a refusal, so the next submit is a different request with its own key.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500) termsKey = null;
    showError(termsForm, error.details?.field, apiErrorText(error));
  }
});

// --- audit log -------------------------------------------------------------------------------

let auditNext = null;  // the next (older) page's cursor, from the last answer

/** "price_fen: 36000 → 38800" for each field that changed (or was set). */
function describeChange(before, after) {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...names]
    .filter((name) => (before ?? {})[name] !== (after ?? {})[name])
    .map((name) => `${name}: ${before?.[name] ?? '—'} → ${after?.[name] ?? '—'}`)
    .join('；');
}

async function loadAudit(before) {
  const cursor = before ? `&before=${before}` : '';
  const { items, next_before: next } = await api(`/api/v1/audit?limit=50${cursor}`);
  auditNext = next;
  document.querySelector('#audit-rows').replaceChildren(...items.map((row) => element('tr', {}, [
    element('td', { text: row.occurred_at.replace('T', ' ').slice(0, 19) }),
    element('td', { text: row.actor }),
    element('td', { text: row.action }),
    element('td', { text: `${row.entity_type} ${row.entity_id}` }),
    element('td', { text: describeChange(row.before, row.after) }),
  ])));
  document.querySelector('#audit-more').hidden = auditNext === null;
}

document.querySelector('#audit-more').addEventListener('click', () => loadAudit(auditNext));

// --- page ------------------------------------------------------------------------------------

for (const dialog of [productDialog, villageDialog, termsDialog]) {
  dialog.querySelector('[data-close]').addEventListener('click', () => dialog.close());
}
for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('.tab')) other.classList.toggle('selected', other === tab);
    for (const name of ['products', 'villages', 'stock', 'settlements', 'audit', 'reports']) {
      document.querySelector(`#tab-${name}`).hidden = tab.dataset.tab !== name;
    }
    if (tab.dataset.tab === 'audit') loadAudit(null);
    if (tab.dataset.tab === 'stock') stockTab.show(state.villages);
    if (tab.dataset.tab === 'settlements') settlementsTab.show(state.villages);
    if (tab.dataset.tab === 'reports') reportsTab.show();
  });
}
const stockTab = new StockTab(document.querySelector('#tab-stock'), state.villages);
const settlementsTab = new SettlementsTab(document.querySelector('#tab-settlements'));
const reportsTab = new ReportsTab(document.querySelector('#tab-reports'));
let searchTimer;
document.querySelector('#product-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadProducts, 250);
});
document.querySelector('#new-product').addEventListener('click', () => openProduct(null));
document.querySelector('#new-village').addEventListener('click', () => openVillage(null));

async function refresh() {
  translatePage();
  // The reports tab draws its own words: draw it again in the language just chosen.
  if (!document.querySelector('#tab-reports').hidden) reportsTab.show();
  await Promise.all([loadVillages(), loadProducts()]);
}

const user = await startStaffPage(['admin'], refresh);
if (user) {
  state.categories = (await api('/api/v1/categories')).items;
  await refresh();
}
