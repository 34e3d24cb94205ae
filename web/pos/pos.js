// The counter (收银台), keyboard first: a scanner types digits + Enter; F-keys do the rest and are
// shown on screen. Sales go through an outbox in IndexedDB with their Idempotency-Key, so when
// the server is unreachable the counter sells on from the cached catalog and the queued sales
// are sent later, exactly once, in order.
import { api, currentUser, formatFen } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { installLanguageSwitch, t, translatePage } from '/assets/js/i18n.js';
import { cartTotals, tenderMethods } from '/assets/js/pos-cart.js';
import { getMeta, setMeta } from '/assets/js/pos-store.js';
import { $, renderStatus, say, setOnline, state, sync, watchConnection } from './common.js';
import {
  clearSearch, cycleRounding, editLineDiscount, editQuantity, editSaleDiscount, editWeight,
  loadCatalog, moveSelection, onScanInput, onScanSubmit, removeLine, renderCart, renderResults,
} from './cart.js';
import {
  cashMovement, closeShift, loadRegisters, loadShift, openShiftDialog, printReport, submitShift,
  xReport,
} from './shift.js';
import {
  chooseMethod, openTender, previewChange, printReceipt, renderTender, reprintLast,
  submitTenderAmount, undoTender,
} from './checkout.js';
import { findRefundSale, openRefund, submitRefund } from './refund.js';
import { holdCart, openHeld, openQueue, renderQueue } from './held.js';

// --- the frame: who is signed in, language, online state --------------------------------------

function buildTopbar() {
  $('#topbar').replaceChildren(
    element('a', { className: 'brand', attributes: { href: '/', 'data-i18n': 'station.name' } }),
    element('strong', { className: 'pos-title', attributes: { 'data-i18n': 'page.pos' } }),
    element('nav', {}, [
      element('span', { attributes: { id: 'who' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'lang-switch', 'data-i18n': 'lang.switch' } }),
      element('button', { className: 'link-button', attributes: { type: 'button', id: 'logout', 'data-i18n': 'nav.logout' } }),
    ]));
  translatePage();
  installLanguageSwitch($('#lang-switch'), renderAll);
  $('#logout').addEventListener('click', async () => {
    const { waiting, rejected } = await sync.counts();
    if ((waiting || rejected) && !confirm(t('pos.logout_queue', { count: waiting + rejected }))) return;
    await api('/api/v1/auth/logout', { method: 'POST' }).catch(() => {});
    await setMeta('user', null);
    location.href = '/login.html';
  });
}

/** The signed-in cashier; offline, the one this till last saw (sales then wait for the server). */
async function signedInUser() {
  try {
    const user = await currentUser();
    if (user && ['admin', 'cashier'].includes(user.role)) {
      await setMeta('user', user);
      return user;
    }
  } catch (error) {
    if (error.status === 0) {
      setOnline(false);
      const cached = await getMeta('user');
      if (cached) return cached;
    }
  }
  location.href = `/login.html?next=${encodeURIComponent(location.pathname)}`;
  return null;
}

// --- keys --------------------------------------------------------------------------------------

/** Every action with its key; the buttons on screen are made from this list. */
const actions = [
  { key: 'F1', label: 'pos.key_search', run: () => { $('#scan').focus(); $('#scan').select(); } },
  { key: 'F2', label: 'pos.key_qty', run: editQuantity },
  { key: 'F3', label: 'pos.key_weigh', run: editWeight },
  { key: 'F4', label: 'pos.key_line_discount', run: editLineDiscount },
  { key: 'F5', label: 'pos.key_sale_discount', run: editSaleDiscount },
  { key: 'F6', label: 'pos.key_rounding', run: cycleRounding },
  { key: 'F7', label: 'pos.key_hold', run: holdCart },
  { key: 'F8', label: 'pos.key_resume', run: openHeld },
  { key: 'F9', label: 'pos.key_refund', run: () => openRefund() },
  { key: 'Delete', label: 'pos.key_delete', run: removeLine },
  { key: 'F10', label: 'pos.key_pay', run: openTender, primary: true },
  { key: 'Shift+F2', label: 'pos.key_cash', run: cashMovement },
  { key: 'Shift+F3', label: 'pos.key_x', run: xReport },
  { key: 'Shift+F4', label: 'pos.key_z', run: closeShift },
  { key: 'Shift+F5', label: 'pos.key_reprint', run: reprintLast },
  { key: 'Shift+F6', label: 'pos.key_queue', run: openQueue },
];

function keyName(event) {
  return `${event.shiftKey && event.key !== 'Shift' ? 'Shift+' : ''}${event.key}`;
}

function keyLabel(key) {
  return key.replace('Shift+', '⇧').replace('Delete', 'Del');
}

function renderKeys() {
  $('#fkeys').replaceChildren(...actions.map((action) => {
    const button = element('button', {
      className: `fkey${action.primary ? ' primary' : ''}`,
      attributes: { type: 'button', 'data-key': action.key },
    }, [element('kbd', { text: keyLabel(action.key) }), element('span', { text: t(action.label) })]);
    button.addEventListener('click', () => action.run());
    return button;
  }));
}

function onKeyDown(event) {
  const name = keyName(event);
  const dialog = document.querySelector('dialog[open]');
  if (dialog) return dialogKey(dialog, name, event);
  if (/^(Shift\+)?F\d+$/.test(name)) event.preventDefault();  // no browser help, find or reload
  const action = actions.find((candidate) => candidate.key === name);
  const inScan = document.activeElement === $('#scan');
  if (action && (name !== 'Delete' || !inScan || !$('#scan').value)) {
    event.preventDefault();
    action.run();
    return;
  }
  if (name === 'ArrowDown' || name === 'ArrowUp') {
    event.preventDefault();
    const step = name === 'ArrowDown' ? 1 : -1;
    if (state.results.length) {
      state.resultIndex = (state.resultIndex + step + state.results.length) % state.results.length;
      renderResults();
    } else {
      moveSelection(step);
    }
    return;
  }
  if (name === 'Escape') {
    $('#scan').value = '';
    clearSearch();
    return;
  }
  // A scanner types wherever the focus is: send printable keys to the scan box.
  if (!inScan && event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey
      && !(document.activeElement instanceof HTMLInputElement)) {
    $('#scan').focus();
  }
}

function dialogKey(dialog, name, event) {
  if (/^(Shift\+)?F\d+$/.test(name)) event.preventDefault();
  if (dialog.id === 'tender-dialog') {
    const index = ['F1', 'F2', 'F3', 'F4', 'F5', 'F6'].indexOf(name);
    if (index >= 0) chooseMethod(tenderMethods[index]);
    else if (name === 'Delete') {
      event.preventDefault();
      undoTender();
    } else if (name === 'F10') $('#tender-form').requestSubmit();
  } else if (dialog.id === 'done-dialog') {
    if (name === 'F2') printReceipt(state.doneSale);
    else if (name === 'Enter') {
      event.preventDefault();
      dialog.close();
    }
  } else if (dialog.id === 'refund-dialog') {
    if (name === 'F10') submitRefund();
  } else if (dialog.id === 'report-dialog') {
    if (name === 'F2') printReport();
    else if (name === 'Enter') {
      event.preventDefault();
      dialog.close();
    }
  } else if (dialog.id === 'held-dialog') {
    const digit = /^[1-9]$/.test(event.key) ? Number(event.key) : 0;
    const buttons = dialog.querySelectorAll('.held-item');
    if (digit && buttons[digit - 1]) buttons[digit - 1].click();
  } else if (dialog.id === 'shift-dialog' && name === 'Escape') {
    event.preventDefault();  // no selling without a shift
  }
}

// --- start -------------------------------------------------------------------------------------

function renderAll() {
  translatePage();
  renderKeys();
  renderCart();
  renderResults();
  renderStatus();
  if ($('#tender-dialog').open) renderTender();
  const who = $('#who');
  if (who && state.user) who.textContent = t('page.signed_in_as', { username: state.user.username, role: t(`role.${state.user.role}`) });
}

function wire() {
  $('#scan-form').addEventListener('submit', onScanSubmit);
  $('#scan').addEventListener('input', onScanInput);
  $('#shift-form').addEventListener('submit', submitShift);
  $('#tender-form').addEventListener('submit', submitTenderAmount);
  $('#tender-amount').addEventListener('input', () => {
    $('#tender-change').textContent = formatFen(previewChange(cartTotals(state.cart).total_fen));
  });
  $('#tender-undo').addEventListener('click', undoTender);
  $('#done-print').addEventListener('click', () => printReceipt(state.doneSale));
  $('#refund-find').addEventListener('submit', findRefundSale);
  $('#refund-submit').addEventListener('click', submitRefund);
  $('#report-print').addEventListener('click', printReport);
  $('#queue-badge').addEventListener('click', openQueue);
  $('#queue-retry').addEventListener('click', async () => {
    await sync.kick();
    renderQueue();
  });
  for (const button of document.querySelectorAll('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog').close());
  }
  for (const dialog of document.querySelectorAll('dialog')) {
    if (dialog.id !== 'prompt-dialog') dialog.addEventListener('close', () => $('#scan').focus());
  }
  $('#shift-dialog').addEventListener('cancel', (event) => event.preventDefault());
  document.addEventListener('keydown', onKeyDown);

  sync.addEventListener('change', () => {
    renderStatus();
    if ($('#queue-dialog').open) renderQueue();
  });
  sync.addEventListener('online', () => setOnline(true));
  sync.addEventListener('offline', () => setOnline(false));
  sync.addEventListener('synced', (event) => {
    const { item, sale } = event.detail;
    if (item.handed_over) say(t('pos.synced', { seq: item.seq, number: sale?.number ?? '' }), 'ok');
  });
  sync.addEventListener('rejected', (event) => {
    if (event.detail.item.handed_over) say(t('pos.queue_rejected_note', { seq: event.detail.item.seq }), 'error');
  });
  sync.addEventListener('signed_out', () => say(t('pos.signed_out'), 'error'));
  window.addEventListener('online', () => sync.kick());
  watchConnection();
}

async function start() {
  buildTopbar();
  renderKeys();
  wire();
  state.user = await signedInUser();
  if (!state.user) return;
  renderAll();
  renderCart();
  await Promise.all([loadCatalog(), loadShift(), loadRegisters()]);
  sync.kick();
  if (!state.shift && state.online) openShiftDialog();
  $('#scan').focus();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/pos/sw.js', { scope: '/pos/' }).catch(() => {});
  }
  document.body.dataset.ready = 'true';
}

start();
