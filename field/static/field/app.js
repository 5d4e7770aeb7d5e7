// The field app's screens (docs/field-app.md): today's sheet, the book, recording, the records
// with their answers, a new member's application. Everything shown comes from IndexedDB, so the
// app works the same with and without a network; sync.js uploads in the background.

import { downscaledJpeg } from "field/images.js";
import { formatMinor, locale, minorToInput, parseAmount } from "field/money.js";
import { getDownload, getMeta, putDownload, recordsOf, requeue } from "field/store.js";
import {
  currentDevice,
  DeviceRefused,
  deviceGet,
  ensureDevice,
  localDate,
  onChange,
  pendingCount,
  record,
  syncNow,
} from "field/sync.js";
import { config, t } from "field/text.js";

const SYNC_EVERY_MS = 60_000;
const SEARCH_LIMIT = 50;
const MONEY_IN = new Set(["instalment", "savings_deposit"]);

const state = {
  device: null,
  sheet: null, // {body, fetched_at}
  book: null,
  history: [],
  entry: null, // what the entry form records
  attendance: null,
  syncing: false,
};

const $ = (selector) => document.querySelector(selector);

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") element.className = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function money(minor) {
  return formatMinor(minor, { ...config.currency, language: config.language, native: config.nativeDigits });
}

function when(iso) {
  const options = { dateStyle: "medium", timeStyle: "short" };
  if (!config.nativeDigits) options.numberingSystem = "latn";
  return new Intl.DateTimeFormat(locale(config.language), options).format(new Date(iso));
}

// --- Notices --------------------------------------------------------------------------------------

function notice(id, text, tone = "warning") {
  let element = document.getElementById(`notice-${id}`);
  if (!text) {
    if (element) element.remove();
    return;
  }
  if (!element) {
    element = h("p", { id: `notice-${id}`, class: `notice notice-${tone}`, role: tone === "danger" ? "alert" : "status" });
    $("#notices").append(element);
  }
  element.className = `notice notice-${tone}`;
  element.textContent = text;
}

function showRefused(device) {
  if (!device?.refused) return;
  notice("device", t("device_refused", { reason: device.refused.message }), "danger");
  $("#sync-now").disabled = true;
  $("#download").disabled = true;
}

// --- Views ----------------------------------------------------------------------------------------

function showView(name, { remember = true } = {}) {
  const current = document.querySelector("[data-view]:not([hidden])")?.dataset.view;
  if (remember && current && current !== name) state.history.push(current);
  for (const view of document.querySelectorAll("[data-view]")) view.hidden = view.dataset.view !== name;
  for (const tab of document.querySelectorAll("[data-tab]")) {
    if (tab.dataset.tab === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  window.scrollTo(0, 0);
}

function back() {
  showView(state.history.pop() || "today", { remember: false });
}

// --- Connection and sync state ---------------------------------------------------------------------

function renderConnection() {
  const online = navigator.onLine;
  const pill = $("#connection");
  pill.dataset.state = online ? "online" : "offline";
  pill.textContent = online ? t("online") : t("offline");
}

async function renderSyncState() {
  const pending = await pendingCount();
  const badge = $("#pending-badge");
  badge.hidden = pending === 0;
  badge.textContent = String(pending);
  const device = state.device;
  const synced = device ? await getMeta(`synced:${device.id}`) : null;
  const parts = [];
  if (state.syncing) parts.push(t("syncing"));
  parts.push(t("pending_count", { count: pending }));
  parts.push(synced ? t("last_sync", { time: when(synced.at) }) : t("never_synced"));
  $("#sync-state").textContent = parts.join(" · ");
  $("#sync-state").dataset.pending = String(pending);
}

function sync() {
  if (!state.device || state.device.refused) return Promise.resolve(null);
  return syncNow();
}

onChange(async (event) => {
  if (event.type === "sync-start") state.syncing = true;
  if (event.type === "sync-end") {
    state.syncing = false;
    const error = event.result.error;
    if (error && !(error instanceof DeviceRefused)) notice("sync", t("sync_failed", { reason: error.message }));
    else notice("sync", "");
  }
  if (event.type === "refused") {
    state.device = event.device;
    showRefused(event.device);
  }
  await renderSyncState();
  await renderRecords();
});

// --- Downloads: the day's sheet and the book --------------------------------------------------------

async function download() {
  const button = $("#download");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  $("#download-state").textContent = t("downloading");
  try {
    state.device = state.device || (await ensureDevice());
    const day = localDate();
    const sheet = await deviceGet(state.device, `${config.urls.sheet}?date=${day}`);
    const book = await deviceGet(state.device, config.urls.book);
    await putDownload("sheet", sheet);
    await putDownload("book", book);
    await loadDownloads();
  } catch (error) {
    $("#download-state").textContent = t("download_failed", { reason: error.message });
    button.removeAttribute("aria-busy");
    button.disabled = Boolean(state.device?.refused);
    return;
  }
  button.removeAttribute("aria-busy");
  button.disabled = false;
}

async function loadDownloads() {
  state.sheet = (await getDownload("sheet")) || null;
  state.book = (await getDownload("book")) || null;
  renderSheet();
  renderSearch();
  renderAdmissionGroups();
}

function dueOf(member) {
  let due = 0;
  let overdue = 0;
  for (const loan of member.loans) {
    due += loan.due_today_minor;
    overdue += loan.overdue_minor;
  }
  return { due, overdue };
}

function memberButton(member, source) {
  const { due, overdue } = dueOf(member);
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "member-row", "data-member": member.id, onclick: () => openMember(member.id, source) },
      h("span", { class: "member-name" }, member.name),
      h("span", { class: "field-muted" }, [member.number, member.phone].filter(Boolean).join(" · ")),
      due || overdue
        ? h(
            "span",
            { class: "member-due" },
            due ? `${t("due_today")}: ${money(due)}` : "",
            due && overdue ? " · " : "",
            overdue ? h("span", { class: "overdue" }, `${t("overdue")}: ${money(overdue)}`) : "",
          )
        : null,
    ),
  );
}

function renderSheet() {
  const target = $("#sheet");
  target.replaceChildren();
  const sheet = state.sheet;
  if (!sheet) {
    $("#download-state").textContent = t("not_downloaded");
    return;
  }
  $("#download-state").textContent = t("downloaded_at", { time: when(sheet.fetched_at) });
  if (!sheet.body.groups.length) {
    target.append(h("p", { class: "field-muted" }, t("no_meetings")));
    return;
  }
  for (const group of sheet.body.groups) {
    target.append(
      h(
        "article",
        { class: "group-card", "data-group": group.id },
        h("h2", {}, `${group.name} (${group.code})`),
        h(
          "p",
          { class: "field-muted" },
          [group.meeting_place, group.leader ? `${t("leader")}: ${group.leader.name}` : ""].filter(Boolean).join(" · "),
        ),
        h("button", { type: "button", class: "secondary", onclick: () => openAttendance(group) }, t("attendance")),
        h("ul", { class: "member-list" }, group.members.map((member) => memberButton(member, "sheet"))),
      ),
    );
  }
}

// --- The book: search offline ------------------------------------------------------------------------

// Lower case, Latin accents removed (Vietnamese), đ as d, Bangla/Thai digits as 0-9. Bangla and
// Thai vowel signs are letters of their own and stay.
function normalise(text) {
  return String(text || "")
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/g, "d")
    .replace(/[০-৯]/g, (digit) => String("০১২৩৪৫৬৭৮৯".indexOf(digit)))
    .replace(/[๐-๙]/g, (digit) => String("๐๑๒๓๔๕๖๗๘๙".indexOf(digit)));
}

function bookMembers() {
  if (!state.book) return [];
  return state.book.body.groups.flatMap((group) => group.members.map((member) => ({ member, group })));
}

function renderSearch() {
  const query = normalise($("#book-search").value.trim());
  const words = query.split(/\s+/).filter(Boolean);
  const digits = query.replace(/\D/g, "");
  const found = bookMembers().filter(({ member }) => {
    if (!words.length) return true;
    const text = normalise(`${member.name} ${member.number}`);
    if (words.every((word) => text.includes(word))) return true;
    return digits.length >= 4 && member.phone.replace(/\D/g, "").includes(digits);
  });
  $("#book-count").textContent = state.book ? (found.length ? t("search_results", { count: found.length }) : t("search_empty")) : t("not_downloaded");
  $("#book-results").replaceChildren(...found.slice(0, SEARCH_LIMIT).map(({ member }) => memberButton(member, "book")));
}

// --- A member: loans and savings, and what can be recorded --------------------------------------------

function findMember(memberId, source) {
  const bodies = source === "sheet" ? [state.sheet, state.book] : [state.book, state.sheet];
  for (const download of bodies) {
    if (!download) continue;
    for (const group of download.body.groups) {
      const member = group.members.find((candidate) => candidate.id === memberId);
      if (member) return { member, group };
    }
  }
  return null;
}

function figure(label, minor, tone = "") {
  return h("div", { class: `figure ${tone}` }, h("span", { class: "field-muted" }, label), h("strong", {}, money(minor)));
}

function openMember(memberId, source) {
  const found = findMember(memberId, source);
  if (!found) return;
  const { member, group } = found;
  const loans = member.loans.map((loan) =>
    h(
      "article",
      { class: "account-card", "data-loan": loan.id },
      h("h3", {}, loan.number),
      h(
        "div",
        { class: "figures" },
        figure(t("due_today"), loan.due_today_minor),
        figure(t("overdue"), loan.overdue_minor, loan.overdue_minor ? "overdue" : ""),
        figure(t("instalment"), loan.instalment_minor),
        figure(t("outstanding"), loan.outstanding_minor),
      ),
      h(
        "button",
        { type: "button", class: "wide", "data-action": "instalment", onclick: () => openEntry("instalment", member, group, loan) },
        t("record_instalment"),
      ),
    ),
  );
  const savings = member.savings.map((account) =>
    h(
      "article",
      { class: "account-card", "data-account": account.id },
      h("h3", {}, `${account.number} · ${account.product}`),
      h("div", { class: "figures" }, figure(t("balance"), account.balance_minor), figure(t("available"), account.available_minor)),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", "data-action": "deposit", onclick: () => openEntry("savings_deposit", member, group, account) }, t("record_deposit")),
        h(
          "button",
          { type: "button", class: "secondary", "data-action": "withdrawal", onclick: () => openEntry("withdrawal_request", member, group, account) },
          t("record_withdrawal"),
        ),
      ),
    ),
  );
  $("#member-detail").replaceChildren(
    h("h1", {}, member.name),
    h("p", { class: "field-muted" }, [member.number, member.phone, `${group.name} (${group.code})`].filter(Boolean).join(" · ")),
    ...(loans.length ? loans : [h("p", { class: "field-muted" }, t("no_loans"))]),
    ...(savings.length ? savings : [h("p", { class: "field-muted" }, t("no_savings"))]),
  );
  showView("member");
}

function savedNotice() {
  notice("saved", t("saved"), "success");
  setTimeout(() => notice("saved", ""), 4000);
}

// --- Recording money ----------------------------------------------------------------------------------

function openEntry(kind, member, group, target) {
  state.entry = { kind, member, group, target };
  $("#entry-title").textContent = t(`kind_${kind}`);
  $("#entry-subject").textContent = `${member.name} (${member.number}) · ${target.number}`;
  let suggested = null;
  if (kind === "instalment") {
    const owed = target.due_today_minor + target.overdue_minor;
    suggested = owed || target.instalment_minor || null;
  } else if (kind === "savings_deposit") {
    suggested = target.savings_instalment_minor || null;
  }
  const amount = $("#entry-amount");
  amount.value = suggested ? minorToInput(suggested, config.currency.exponent) : "";
  amount.inputMode = config.currency.exponent ? "decimal" : "numeric";
  $("#entry-date").value = localDate();
  const paidBy = $("#entry-paid-by");
  const others = group.members.filter((other) => other.id !== member.id);
  paidBy.replaceChildren(
    h("option", { value: "" }, "—"),
    ...others.map((other) => h("option", { value: other.id }, `${other.name} (${other.number})`)),
  );
  $("#entry-paid-by-row").hidden = kind === "withdrawal_request" || !others.length;
  $("#entry-error").textContent = "";
  showAmount();
  showView("entry");
  amount.focus();
}

function showAmount() {
  const minor = parseAmount($("#entry-amount").value, config.currency.exponent);
  $("#entry-amount-shown").textContent = minor ? money(minor) : "";
}

async function saveEntry(event) {
  event.preventDefault();
  const entry = state.entry;
  if (!entry || !state.device) return;
  const amountMinor = parseAmount($("#entry-amount").value, config.currency.exponent);
  const valueDate = $("#entry-date").value;
  if (!amountMinor) {
    $("#entry-error").textContent = t("amount_invalid", { digits: config.currency.exponent });
    return;
  }
  if (!valueDate) {
    $("#entry-error").textContent = t("required");
    return;
  }
  const paidBy = Number($("#entry-paid-by").value) || null;
  const body =
    entry.kind === "instalment"
      ? { loan: entry.target.id, amount_minor: amountMinor, value_date: valueDate }
      : { account: entry.target.id, amount_minor: amountMinor, value_date: valueDate };
  if (paidBy && entry.kind !== "withdrawal_request") body.paid_by_member = paidBy;
  const payer = paidBy ? entry.group.members.find((other) => other.id === paidBy) : null;
  await record(state.device, entry.kind, body, {
    label: { member: entry.member.name, number: entry.member.number, target: entry.target.number, paid_by: payer?.name || null },
  });
  savedNotice();
  state.entry = null;
  back();
  if (navigator.onLine) sync();
}

// --- Attendance -------------------------------------------------------------------------------------------

function openAttendance(group) {
  state.attendance = group;
  $("#attendance-group").textContent = `${group.name} (${group.code})`;
  $("#attendance-date").value = state.sheet?.body.date || localDate();
  $("#attendance-members").replaceChildren(
    h("legend", {}, $("#attendance-members legend")?.textContent || t("present")),
    ...group.members.map((member) =>
      h("label", { class: "check-row" }, h("input", { type: "checkbox", value: member.id, checked: true }), ` ${member.name} (${member.number})`),
    ),
  );
  showView("attendance");
}

async function saveAttendance(event) {
  event.preventDefault();
  const group = state.attendance;
  if (!group || !state.device) return;
  const boxes = [...document.querySelectorAll("#attendance-members input[type=checkbox]")];
  const present = boxes.filter((box) => box.checked).map((box) => Number(box.value));
  const absent = boxes.filter((box) => !box.checked).map((box) => Number(box.value));
  await record(
    state.device,
    "attendance",
    { group: group.id, meeting_date: $("#attendance-date").value, present, absent },
    { label: { member: group.name, number: group.code, target: t("present_absent", { present: present.length, absent: absent.length }) } },
  );
  savedNotice();
  state.attendance = null;
  back();
  if (navigator.onLine) sync();
}

// --- A new member's application ------------------------------------------------------------------------

const pictures = { photo: null, id_scan: null };

function renderAdmissionGroups() {
  const select = $("#admission-group");
  const groups = state.book ? state.book.body.groups : [];
  select.replaceChildren(h("option", { value: "" }, t("choose")), ...groups.map((group) => h("option", { value: group.id }, `${group.name} (${group.code})`)));
}

async function takePicture(field, input, preview) {
  const file = input.files && input.files[0];
  pictures[field] = null;
  preview.hidden = true;
  if (!file) return;
  try {
    pictures[field] = await downscaledJpeg(file);
    preview.src = pictures[field];
    preview.hidden = false;
  } catch {
    $("#admission-error").textContent = t("photo_failed");
  }
}

async function saveAdmission(event) {
  event.preventDefault();
  if (!state.device) return;
  const form = event.target;
  const data = new FormData(form);
  const required = ["group", "full_name", "phone", "national_id"];
  if (required.some((name) => !String(data.get(name) || "").trim())) {
    $("#admission-error").textContent = t("required");
    return;
  }
  const body = {
    group: Number(data.get("group")),
    full_name: String(data.get("full_name")).trim(),
    phone: String(data.get("phone")).trim(),
    national_id: String(data.get("national_id")).trim(),
    language: String(data.get("language")),
  };
  if (data.get("date_of_birth")) body.date_of_birth = String(data.get("date_of_birth"));
  if (pictures.photo) body.photo = pictures.photo;
  if (pictures.id_scan) body.id_scan = pictures.id_scan;
  await record(state.device, "admission", body, { label: { member: body.full_name, number: body.phone, target: body.national_id } });
  form.reset();
  pictures.photo = pictures.id_scan = null;
  $("#admission-photo-preview").hidden = $("#admission-id-scan-preview").hidden = true;
  $("#admission-error").textContent = "";
  savedNotice();
  showView("records");
  if (navigator.onLine) sync();
}

// --- Records and the cash to hand over --------------------------------------------------------------------

function answerText(stored) {
  const answer = stored.answer;
  if (stored.state === "pending") return stored.kind === "withdrawal_request" ? t("state_withdrawal_wait") : t("state_pending");
  if (stored.kind === "admission" && stored.state === "confirmed") return t("state_admission_received");
  if (stored.kind === "withdrawal_request") {
    return stored.state === "confirmed" && answer.record_status === "created" ? t("state_withdrawal_pay") : `${t("state_withdrawal_hold")}: ${answer.reason}`;
  }
  if (stored.state === "confirmed") return answer.record_status === "queued" ? t("state_queued") : t("state_confirmed");
  const status = answer.status === "conflict" || answer.status === "invalid" ? answer.status : "needs_review";
  const fields = answer.field_errors ? Object.entries(answer.field_errors).map(([name, messages]) => `${name}: ${messages.join(" ")}`) : [];
  return [`${t("state_attention")} — ${t(`status_${status}`)}`, answer.reason, ...fields].filter(Boolean).join(": ");
}

// Counted: money in that the server stored (posted, queued or kept for review: the cash was taken)
// or that waits to upload; money out once the server posted the withdrawal (only then is it paid).
function cashEffect(stored) {
  const amount = stored.body.amount_minor || 0;
  if (MONEY_IN.has(stored.kind)) {
    if (stored.state === "pending" || stored.state === "confirmed") return amount;
    return stored.answer?.record_status === "needs_review" ? amount : 0;
  }
  if (stored.kind === "withdrawal_request" && stored.state === "confirmed" && stored.answer?.record_status === "created") return -amount;
  return 0;
}

async function renderRecords() {
  if (!state.device) return;
  const all = (await recordsOf(state.device.id)).sort((a, b) => b.device_sequence - a.device_sequence);
  const today = localDate();
  const cash = all.filter((stored) => stored.body.value_date === today).reduce((sum, stored) => sum + cashEffect(stored), 0);
  $("#cash-total").textContent = money(cash);
  $("#cash-total").dataset.minor = String(cash);
  if (!all.length) {
    $("#records").replaceChildren(h("li", { class: "field-muted" }, t("no_records")));
    return;
  }
  $("#records").replaceChildren(
    ...all.map((stored) =>
      h(
        "li",
        {
          class: "record",
          "data-state": stored.state,
          "data-kind": stored.kind,
          "data-uuid": stored.client_uuid,
          "data-answer": stored.answer?.status || null,
        },
        h("div", { class: "record-head" }, h("strong", {}, t(`kind_${stored.kind}`)), stored.body.amount_minor ? h("strong", { class: "record-amount" }, money(stored.body.amount_minor)) : null),
        h("span", {}, [stored.label?.member, stored.label?.number, stored.label?.target].filter(Boolean).join(" · ")),
        stored.label?.paid_by ? h("span", { class: "field-muted" }, t("paid_by", { name: stored.label.paid_by })) : null,
        h("span", { class: `record-state state-${stored.state}` }, answerText(stored)),
        h("span", { class: "field-muted" }, `#${stored.device_sequence} · ${when(stored.created_at)}`),
        stored.state === "attention" && stored.answer?.status === "invalid"
          ? h("button", { type: "button", class: "secondary outline", onclick: () => requeue(stored.client_uuid).then(sync).then(renderRecords) }, t("send_again"))
          : null,
      ),
    ),
  );
}

// --- Start ---------------------------------------------------------------------------------------------

async function askToKeepData() {
  if (!navigator.storage?.persist) return;
  const kept = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  notice("storage", kept ? "" : t("storage_refused"));
}

async function start() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.serviceWorker, { scope: config.urls.scope }).catch(() => {});
  }
  $(".currency-code").textContent = config.currency.code;
  renderConnection();
  for (const tab of document.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => showView(tab.dataset.tab));
  for (const button of document.querySelectorAll("[data-back]")) button.addEventListener("click", back);
  $("#sync-now").addEventListener("click", () => sync());
  $("#download").addEventListener("click", download);
  $("#book-search").addEventListener("input", renderSearch);
  $("#entry-amount").addEventListener("input", showAmount);
  $("#entry-form").addEventListener("submit", saveEntry);
  $("#attendance-form").addEventListener("submit", saveAttendance);
  $("#admission-form").addEventListener("submit", saveAdmission);
  $("#admission-photo").addEventListener("change", (event) => takePicture("photo", event.target, $("#admission-photo-preview")));
  $("#admission-id-scan").addEventListener("change", (event) => takePicture("id_scan", event.target, $("#admission-id-scan-preview")));
  window.addEventListener("online", () => {
    renderConnection();
    sync();
  });
  window.addEventListener("offline", renderConnection);
  setInterval(() => {
    if (navigator.onLine) sync();
  }, SYNC_EVERY_MS);

  askToKeepData().catch(() => {});
  state.device = await currentDevice();
  if (!state.device) {
    if (navigator.onLine) {
      notice("device", t("device_registering"), "info");
      try {
        state.device = await ensureDevice();
        notice("device", "");
      } catch (error) {
        notice("device", t("device_register_failed", { reason: error.message }), "danger");
      }
    } else {
      notice("device", t("device_register_offline"), "danger");
    }
  }
  showRefused(state.device);
  await loadDownloads();
  await renderSyncState();
  await renderRecords();
  document.body.dataset.ready = "true";
  if (navigator.onLine) sync();
}

start();
