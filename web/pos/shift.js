// Shifts: opening with a float, cash in and out, the X report and closing with the Z report.
import { api, formatFen, parseYuan } from '/assets/js/api.js';
import { element } from '/assets/js/catalog-view.js';
import { t } from '/assets/js/i18n.js';
import { getMeta, setMeta } from '/assets/js/pos-store.js';
import { $, ask, errorText, newKey, renderStatus, say, setOnline, state, sync } from './common.js';
import { printFrame } from './checkout.js';

// --- shifts ----------------------------------------------------------------------------------

export async function loadShift() {
  try {
    state.shift = await api('/api/v1/pos/shifts/current');
    await setMeta('shift', state.shift);
    setOnline(true);
  } catch (error) {
    if (error.status === 404) {
      state.shift = null;
      await setMeta('shift', null);
    } else if (error.status === 0) {
      setOnline(false);
      state.shift = (await getMeta('shift')) ?? null;
    } else {
      say(errorText(error), 'error');
    }
  }
  renderStatus();
}

/** The station's tills: names for the shift dialog, and which has a receipt printer. */
export async function loadRegisters() {
  try {
    state.registers = (await api('/api/v1/pos/registers')).items ?? [];
    await setMeta('registers', state.registers);
  } catch {
    state.registers = (await getMeta('registers')) ?? [];
  }
}

export function currentRegister() {
  const shift = state.shift;
  if (!shift) return null;
  return state.registers.find((register) => register.id === shift.register_id || register.name === shift.register) ?? null;
}

export async function openShiftDialog() {
  const dialog = $('#shift-dialog');
  await loadRegisters();
  $('#register-list').replaceChildren(...state.registers.map((register) =>
    element('option', { attributes: { value: register.name } })));
  $('#shift-register').value = localStorage.getItem('yz_pos_register') ?? '柜台1';
  $('#shift-error').textContent = '';
  if (!dialog.open) dialog.showModal();
  $('#shift-float').focus();
  $('#shift-float').select();
}

export async function submitShift(event) {
  event.preventDefault();
  const register = $('#shift-register').value.trim();
  const float = parseYuan($('#shift-float').value);
  if (!register) return void ($('#shift-error').textContent = t('pos.register_required'));
  if (float === null) return void ($('#shift-error').textContent = t('field.price_invalid'));
  try {
    state.shift = await api('/api/v1/pos/shifts', { method: 'POST', body: { register, float_fen: float } });
    localStorage.setItem('yz_pos_register', register);
    await setMeta('shift', state.shift);
    $('#shift-dialog').close();
    renderStatus();
    say(t('pos.shift_opened', { register }), 'ok');
    $('#scan').focus();
  } catch (error) {
    if (error.code === 'shift_open') {
      await loadShift();
      if (state.shift) {
        $('#shift-dialog').close();
        return;
      }
      // Not ours: the register is someone else's until they close their shift.
      $('#shift-error').textContent = t('pos.register_taken', { register: error.details?.register ?? register });
      return;
    }
    $('#shift-error').textContent = error.status === 0 ? t('pos.needs_server') : errorText(error);
  }
}

export function needShift() {
  if (state.shift) return true;
  if (state.online) openShiftDialog();
  else say(t('pos.needs_server'), 'error');
  return false;
}

export async function cashMovement() {
  if (!needShift()) return;
  if (!state.online) return say(t('pos.needs_server'), 'error');
  const answer = await ask({
    title: t('pos.cash_title'), label: t('pos.cash_label'), hint: t('pos.cash_hint'), inputmode: 'decimal',
    parse: (text) => {
      const negative = /^\s*-/.test(text);
      const fen = parseYuan(text.replace(/^\s*-/, ''));
      return fen ? (negative ? -fen : fen) : { error: t('field.price_invalid') };
    },
    second: { label: t('pos.cash_reason'), required: t('pos.cash_reason_required') },
  });
  if (!answer) return;
  const [amount, reason] = answer;
  const body = { amount_fen: amount, reason };
  // The same movement entered again after an unknown outcome is sent with the same key, so a
  // lost answer never books it twice; any other movement gets a new key.
  if (state.cashBody !== JSON.stringify(body)) state.cashKey = null;
  state.cashBody = JSON.stringify(body);
  state.cashKey ??= newKey();
  try {
    await api(`/api/v1/pos/shifts/${state.shift.id}/cash`, { method: 'POST', body, headers: { 'Idempotency-Key': state.cashKey } });
    state.cashKey = null;
    say(t('pos.cash_done', { amount: formatFen(amount) }), 'ok');
  } catch (error) {
    if (error.status !== 0 && error.status < 500) state.cashKey = null;
    say(errorText(error), 'error');
  }
}

function reportRows(report) {
  const rows = [
    [t('pos.report_sales'), String(report.sales_count ?? 0)],
    [t('pos.report_gross'), formatFen(report.gross_fen ?? 0)],
    [t('pos.report_discount'), formatFen(report.discount_fen ?? 0)],
    [t('pos.report_refunds'), formatFen(report.refund_fen ?? report.refunds_fen ?? 0)],
  ];
  // Each way of paying: what came in, what went back, net (as the printed slip has them).
  for (const method of report.by_method ?? []) {
    const name = t(`method.${method.method}`);
    if (method.refunds_fen) {
      rows.push([t('pos.report_method_sales', { method: name }), formatFen(method.sales_fen ?? 0)]);
      rows.push([t('pos.report_method_refunds', { method: name }), formatFen(-(method.refunds_fen ?? 0))]);
    }
    rows.push([name, formatFen(method.amount_fen ?? method.net_fen ?? 0)]);
  }
  // What each village sold in the shift (its takings before the station's fee).
  for (const village of report.by_village ?? []) {
    rows.push([t('pos.report_village', { village: village.village_name }), formatFen(village.gross_fen ?? 0)]);
  }
  if (report.float_fen !== undefined) rows.push([t('pos.float_short'), formatFen(report.float_fen)]);
  // The drawer's own movements, which 应有现金 counts: without them it looks short.
  if (report.cash_in_fen) rows.push([t('pos.report_cash_in'), formatFen(report.cash_in_fen)]);
  if (report.cash_out_fen) rows.push([t('pos.report_cash_out'), formatFen(-Math.abs(report.cash_out_fen))]);
  if (report.owed_repaid_count) {
    rows.push([t('pos.report_owed_repaid', { count: report.owed_repaid_count }), formatFen(-(report.owed_repaid_fen ?? 0))]);
  }
  if (report.orders_paid_count) {
    rows.push([t('pos.report_orders_paid', { count: report.orders_paid_count }), formatFen(report.orders_paid_fen ?? 0)]);
  }
  rows.push([t('pos.report_expected_cash'), formatFen(report.expected_cash_fen ?? 0)]);
  if (report.counted_cash_fen !== undefined && report.counted_cash_fen !== null) {
    rows.push([t('pos.report_counted_cash'), formatFen(report.counted_cash_fen)]);
    const difference = report.difference_fen ?? 0;
    rows.push([t(difference > 0 ? 'pos.report_over' : difference < 0 ? 'pos.report_short' : 'pos.report_difference'),
               formatFen(difference)]);
  }
  return rows;
}

function showReport(kind, report) {
  const shift = report.shift ?? state.shift ?? {};
  const body = $('#report-body');
  body.replaceChildren(
    element('h2', { text: t(kind === 'z' ? 'pos.z_title' : 'pos.x_title') }),
    element('p', { className: 'hint', text: t('pos.shift_info', { register: shift.register?.name ?? shift.register ?? '', id: shift.id ?? '', cashier: shift.cashier?.username ?? shift.cashier ?? '' }) }),
    element('table', { className: 'data-table report-table', attributes: { id: `report-${kind}` } }, [
      element('tbody', {}, reportRows(report).map(([name, value]) =>
        element('tr', {}, [element('th', { text: name }), element('td', { className: 'num', text: value })]))),
    ]));
  $('#report-dialog').dataset.kind = kind;
  $('#report-dialog').dataset.shiftId = String(shift.id ?? '');
  $('#report-dialog').showModal();
}

export async function xReport() {
  if (!needShift()) return;
  try {
    showReport('x', await api(`/api/v1/pos/shifts/${state.shift.id}/report`));
  } catch (error) {
    say(error.status === 0 ? t('pos.needs_server') : errorText(error), 'error');
  }
}

export async function closeShift() {
  if (!needShift()) return;
  if (!state.online) return say(t('pos.needs_server'), 'error');
  const { waiting } = await sync.counts();
  if (waiting) return say(t('pos.close_queue', { count: waiting }), 'error');
  if (state.cart.lines.length) return say(t('pos.close_cart'), 'error');
  const counted = await ask({
    title: t('pos.z_title'), label: t('pos.counted_label'), hint: t('pos.counted_hint'), inputmode: 'decimal',
    parse: (text) => parseYuan(text) ?? { error: t('field.price_invalid') },
  });
  if (counted === null) return;
  try {
    const report = await api(`/api/v1/pos/shifts/${state.shift.id}/close`, { method: 'POST', body: { counted_cash_fen: counted } });
    showReport('z', { ...report, shift: report.shift ?? state.shift });
    state.shift = null;
    await setMeta('shift', null);
    renderStatus();
    $('#report-dialog').addEventListener('close', () => openShiftDialog(), { once: true });
  } catch (error) {
    say(errorText(error), 'error');
  }
}

/** The server's printable X/Z report (58 or 80 mm, as the register prints) in the print frame. */
export function printReport() {
  const id = $('#report-dialog').dataset.shiftId;
  if (!id) return;
  printFrame(`/api/v1/pos/shifts/${id}/report/print`);
}
