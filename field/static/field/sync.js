// The phone's side of the sync contract (docs/field-sync.md, docs/field-app.md).
//
// One upload at a time per device: a module-level promise joins every trigger in this tab (the
// button pressed five times, the `online` event, the timer) to the upload already running, and
// the Web Locks API keeps two tabs from uploading at once. Batches are small and resumable: a
// record stays "pending" until the server's answer is stored on it, so a record whose answer was
// lost is simply sent again (the server answers "duplicate" with the first answer), and a
// "retry" answer leaves it pending.

import { addRecord, countPending, getMeta, pendingOf, putMeta, storeAnswers } from "field/store.js";
import { config } from "field/text.js";

export const BATCH_ITEMS = 25;
// A batch stays well under the server's request size; a record bigger than this goes alone.
export const BATCH_BYTES = 1_500_000;
const LOCK = "coopcore-sync";

// The refusal of a token (revoked device, unknown token): nothing is uploaded or downloaded after it.
export class DeviceRefused extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const listeners = new Set();
export function onChange(listener) {
  listeners.add(listener);
}
function changed(detail) {
  for (const listener of listeners) listener(detail);
}

function deviceKey() {
  return `device:${config.user.id}`;
}

export async function currentDevice() {
  return getMeta(deviceKey());
}

async function errorOf(answer) {
  try {
    const body = await answer.json();
    return { code: body.error?.code || String(answer.status), message: body.error?.message || answer.statusText };
  } catch {
    return { code: String(answer.status), message: answer.statusText };
  }
}

// Register this phone to the signed-in collector (session and CSRF token), once; the token is
// kept in IndexedDB and sent as `Authorization: Device <token>` from then on.
export async function ensureDevice() {
  const known = await currentDevice();
  if (known) return known;
  const answer = await fetch(config.urls.devices, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrfToken },
    body: JSON.stringify({ name: deviceName() }),
  });
  if (answer.status !== 201) {
    const error = await errorOf(answer);
    throw new Error(error.message);
  }
  const body = await answer.json();
  const device = { key: deviceKey(), id: body.id, token: body.token, user: config.user.id, refused: null };
  await putMeta(device);
  return device;
}

function deviceName() {
  const platform = navigator.userAgentData?.platform || navigator.platform || "";
  return `${config.user.username} · ${platform}`.slice(0, 80);
}

async function refuse(device, error) {
  const refused = { ...device, refused: { code: error.code, message: error.message, at: new Date().toISOString() } };
  await putMeta(refused);
  changed({ type: "refused", device: refused });
  return new DeviceRefused(error.code, error.message);
}

// A GET with the device's token; a refused token marks the device refused and throws DeviceRefused.
export async function deviceGet(device, url) {
  if (device.refused) throw new DeviceRefused(device.refused.code, device.refused.message);
  const answer = await fetch(url, { headers: { Authorization: `Device ${device.token}` }, credentials: "omit" });
  if (answer.status === 401 || answer.status === 403) throw await refuse(device, await errorOf(answer));
  if (!answer.ok) throw new Error((await errorOf(answer)).message);
  return answer.json();
}

// Record something: stored at once with the next sequence number; uploaded by the next sync.
export async function record(device, kind, body, extra = {}) {
  const now = new Date();
  const stored = await addRecord(device.id, {
    client_uuid: crypto.randomUUID(),
    device_time: isoWithOffset(now),
    kind,
    body,
    created_at: now.toISOString(),
    ...extra,
  });
  changed({ type: "recorded", record: stored });
  return stored;
}

function pad(number, width = 2) {
  return String(Math.abs(number)).padStart(width, "0");
}

export function localDate(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// 2026-11-25T09:12:00.000+06:00: the phone's own time with its offset from UTC.
export function isoWithOffset(date = new Date()) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  return `${localDate(date)}T${time}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}

function item(stored) {
  return {
    client_uuid: stored.client_uuid,
    device_sequence: stored.device_sequence,
    device_time: stored.device_time,
    kind: stored.kind,
    ...stored.body,
  };
}

// A new member's application waits for a manager's approval: that is its normal answer.
const EXPECTED_REVIEW = { admission: "admission_pending_approval" };

// What an answer makes of a record: confirmed (stored, posted or to be posted), attention (kept
// for review, or not accepted), or still pending (retry: send it again).
export function stateOf(answer, kind) {
  if (answer.status === "retry") return "pending";
  if (answer.status === "conflict" || answer.status === "invalid") return "attention";
  if (answer.record_status !== "needs_review") return "confirmed";
  return EXPECTED_REVIEW[kind] === answer.reason_code ? "confirmed" : "attention";
}

function batchOf(records) {
  const batch = [];
  let bytes = 0;
  for (const stored of records) {
    const size = JSON.stringify(item(stored)).length;
    if (batch.length && bytes + size > BATCH_BYTES) break;
    batch.push(stored);
    bytes += size;
  }
  return batch;
}

async function upload(device, batch) {
  const answer = await fetch(config.urls.sync, {
    method: "POST",
    credentials: "omit",
    headers: { "Content-Type": "application/json", Authorization: `Device ${device.token}` },
    body: JSON.stringify({ items: batch.map(item) }),
  });
  if (answer.status === 401 || answer.status === 403) throw await refuse(device, await errorOf(answer));
  if (answer.status !== 200) throw new Error((await errorOf(answer)).message);
  return (await answer.json()).items;
}

// Upload everything pending, batch by batch, until nothing is left or nothing moves.
async function flush() {
  const device = await currentDevice();
  if (!device || device.refused) return { uploaded: 0, refused: Boolean(device?.refused) };
  let uploaded = 0;
  for (;;) {
    const batch = batchOf(await pendingOf(device.id, BATCH_ITEMS));
    if (!batch.length) break;
    const answers = await upload(device, batch);
    const changes = new Map();
    answers.forEach((answer, position) => {
      const stored = batch[position];
      if (!stored || answer.client_uuid !== stored.client_uuid) return;
      const state = stateOf(answer, stored.kind);
      if (state !== "pending") changes.set(stored.client_uuid, { state, answer, answered_at: new Date().toISOString() });
    });
    await storeAnswers(changes);
    uploaded += changes.size;
    changed({ type: "answered", count: changes.size });
    // Every item of the batch to be sent again (retry): try later, not in a tight loop.
    if (!changes.size) break;
  }
  if (uploaded) await putMeta({ key: `synced:${device.id}`, at: new Date().toISOString() });
  return { uploaded, refused: false };
}

let running = null;

// Start an upload, or join the one running. Never rejects for a network failure: the records stay
// pending and the result says why.
export function syncNow() {
  if (running) return running;
  running = (async () => {
    changed({ type: "sync-start" });
    try {
      const result = navigator.locks ? await navigator.locks.request(LOCK, flush) : await flush();
      changed({ type: "sync-end", result });
      return result;
    } catch (error) {
      const result = { uploaded: 0, error, refused: error instanceof DeviceRefused };
      changed({ type: "sync-end", result });
      return result;
    } finally {
      running = null;
    }
  })();
  return running;
}

export async function pendingCount() {
  const device = await currentDevice();
  return device ? countPending(device.id) : 0;
}
