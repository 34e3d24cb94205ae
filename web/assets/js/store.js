// The storefront: home, village, category and search lists, product page.
import { api, formatFen } from './api.js';
import { element, imageOf, priceLabel, productCard } from './catalog-view.js';
import { installLanguageSwitch, localName, t, translatePage } from './i18n.js';
import { cartCount } from './order-store.js';

const params = new URLSearchParams(location.search);

/** The header and footer every storefront page shares; returns what redraws the cart link. */
function renderFrame() {
  // One cart link, with what is in the cart (the product page's "add" updates it).
  const cartLink = element('a', { className: 'cart-link', attributes: { href: '/cart.html', id: 'cart-link' } });
  const drawCount = () => {
    const count = cartCount();
    cartLink.textContent = count ? t('cart.nav_count', { count }) : t('cart.nav');
  };
  drawCount();
  document.addEventListener('yz-cart', drawCount);
  const search = element('form', { className: 'search', attributes: { action: '/products.html', role: 'search' } }, [
    element('input', { attributes: { type: 'search', name: 'q', id: 'search-input', 'data-i18n-placeholder': 'nav.search_placeholder', 'aria-label': t('nav.search') } }),
    element('button', { className: 'primary', attributes: { type: 'submit', 'data-i18n': 'nav.search' } }),
  ]);
  document.querySelector('#site-header').replaceChildren(
    element('a', { className: 'brand', attributes: { href: '/', 'data-i18n': 'station.name' } }),
    search,
    element('nav', { className: 'store-nav' }, [
      element('a', { attributes: { href: '/products.html', 'data-i18n': 'nav.all_products' } }),
      cartLink,
      element('a', { attributes: { href: '/orders.html', 'data-i18n': 'orders.nav' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'lang-switch', 'data-i18n': 'lang.switch' } }),
      element('a', { attributes: { href: '/login.html', 'data-i18n': 'nav.login' } }),
    ]));
  document.querySelector('#site-footer').replaceChildren(element('p', { attributes: { 'data-i18n': 'footer.text' } }));
  return drawCount;
}
const pageSize = 12;

function showError(container, message) {
  container.replaceChildren(element('p', { className: 'form-error', text: message }));
}

async function renderCategories(selected) {
  const container = document.querySelector('#categories');
  if (!container) return;
  const { items } = await api('/api/v1/categories');
  container.replaceChildren(...items.map((category) => {
    const link = element('a', {
      className: `chip${String(category.id) === selected ? ' selected' : ''}`,
      text: localName(category),
      attributes: { href: `/products.html?category_id=${category.id}` },
    });
    return link;
  }));
}

async function renderHome() {
  await renderCategories();
  const [{ items: featured }, { items: villages }] = await Promise.all([
    api('/api/v1/products?featured=1&page_size=12'),
    api('/api/v1/villages'),
  ]);
  document.querySelector('#featured').replaceChildren(...featured.map(productCard));
  document.querySelector('#villages').replaceChildren(...villages.map((village) =>
    element('a', { className: 'village-card', attributes: { href: `/village.html?id=${village.id}` } }, [
      element('h3', { text: localName(village) }),
      element('p', { text: village.description }),
    ])));
}

async function renderVillage() {
  const id = params.get('id');
  const container = document.querySelector('#village');
  try {
    const village = await api(`/api/v1/villages/${encodeURIComponent(id)}`);
    document.title = `${localName(village)} · ${t('station.name')}`;
    container.replaceChildren(
      element('h1', { text: localName(village) }),
      element('p', { text: village.description }),
      ...(village.contact ? [element('p', { className: 'hint', text: `${t('village.contact')}：${village.contact}` })] : []));
    const { items } = await api(`/api/v1/products?village_id=${village.id}&page_size=100`);
    document.querySelector('#products').replaceChildren(...items.map(productCard));
  } catch (error) {
    showError(container, error.status === 404 ? t('product.not_found') : t('error.generic'));
  }
}

async function renderList() {
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const query = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
  for (const name of ['q', 'category_id', 'village_id']) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  document.querySelector('#search-input').value = q;
  await renderCategories(params.get('category_id'));
  const title = document.querySelector('#list-title');
  if (q) {
    title.removeAttribute('data-i18n');
    title.textContent = t('list.search_for', { q });
  }
  const { items, total } = await api(`/api/v1/products?${query}`);
  document.querySelector('#list-count').textContent = t('list.results', { total });
  const grid = document.querySelector('#products');
  grid.replaceChildren(...(items.length ? items.map(productCard)
    : [element('p', { className: 'hint', text: t('list.none') })]));
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const pager = document.querySelector('#pager');
  const link = (target, key) => {
    const next = new URLSearchParams(params);
    next.set('page', String(target));
    return element('a', { className: 'secondary', text: t(key), attributes: { href: `?${next}` } });
  };
  pager.replaceChildren(
    ...(page > 1 ? [link(page - 1, 'list.prev')] : []),
    element('span', { text: t('list.page', { page, pages }) }),
    ...(page < pages ? [link(page + 1, 'list.next')] : []));
}

/** A gift box's contents, each with its village, and how many boxes can be sold now. */
function bundleContents(product) {
  const villages = [...new Set(product.components.map((c) => c.village_name))].join('、');
  const availability = element('p', { className: 'hint', attributes: { id: 'bundle-available' } });
  api(`/api/v1/products/${product.id}/availability`).then((answer) => {
    availability.textContent = answer.available > 0
      ? t('product.bundle_available', { count: answer.available })
      : t('product.bundle_sold_out');
  }).catch(() => {});
  return [
    element('h2', { text: t('product.bundle_contents') }),
    element('ul', { className: 'bundle-contents', attributes: { id: 'bundle-contents' } }, product.components.map((c) => element('li', {}, [
      element('a', { text: t('product.bundle_item', { name: localName(c), quantity: c.quantity }), attributes: { href: `/product.html?id=${c.product_id}` } }),
      element('span', { className: 'hint', text: ` · ${c.village_name}` }),
    ]))),
    element('p', { className: 'hint', text: t('product.bundle_villages', { villages }) }),
    availability,
  ];
}

async function renderProduct() {
  const container = document.querySelector('#product');
  try {
    const product = await api(`/api/v1/products/${encodeURIComponent(params.get('id'))}`);
    document.title = `${localName(product)} · ${t('station.name')}`;
    const bundle = product.kind === 'bundle';
    const facts = [
      [t(bundle ? 'product.bundle_packer' : 'product.village'), element('a', { text: product.village_name, attributes: { href: `/village.html?id=${product.village_id}` } })],
      [t('product.category'), element('a', { text: product.category_name, attributes: { href: `/products.html?category_id=${product.category_id}` } })],
      [t('product.shelf_life'), product.shelf_life_days ? t('product.days', { days: product.shelf_life_days }) : t('product.no_shelf_life')],
      [t('product.sku'), product.sku],
      ...(product.barcode ? [[t('product.barcode'), product.barcode]] : []),
    ];
    container.replaceChildren(
      element('img', { className: 'product-photo', attributes: { src: imageOf(product), alt: localName(product) } }),
      element('div', { className: 'product-info' }, [
        element('h1', { text: localName(product) }),
        ...(product.name_en && localName(product) !== product.name ? [element('p', { className: 'hint', text: product.name })] : []),
        element('p', { className: 'price big', text: priceLabel(product) }),
        ...(product.unit === 'g' ? [element('p', { className: 'hint', text: `${t('product.by_weight')} · ${t('product.per_kg', { price: formatFen(product.price_fen) })}` })] : []),
        element('p', { text: product.description }),
        ...(bundle ? bundleContents(product) : []),
        element('h2', { text: t('product.origin') }),
        element('p', { text: product.origin }),
        element('dl', { className: 'facts' }, facts.flatMap(([term, value]) => [
          element('dt', { text: term }), element('dd', {}, [value]),
        ])),
        element('button', { className: 'primary', text: t('product.add_to_cart'), attributes: { disabled: '', id: 'add-to-cart' } }),
      ]));
  } catch (error) {
    showError(container, error.status === 404 ? t('product.not_found') : t('error.generic'));
  }
}

const renderers = { home: renderHome, village: renderVillage, products: renderList, product: renderProduct };

async function render() {
  translatePage();
  const renderer = renderers[document.body.dataset.page];
  if (renderer) await renderer().catch(() => showError(document.querySelector('main'), t('error.generic')));
}

const drawCartCount = renderFrame();
installLanguageSwitch(document.querySelector('#lang-switch'), () => { drawCartCount(); render(); });
render();
