// What the field app keeps on the phone, in IndexedDB (one database per workspace: the origin is
// the workspace's host). Stores:
//   meta       {key, ...}: "device:<user id>" (the device's id and token), "sequence:<device id>"
//              (the last sequence number given out), "synced:<device id>" (last upload)
//   downloads  {key, body, fetched_at}: "sheet" (the day's collection sheet), "book"
//   records    {client_uuid, device_id, device_sequence, device_time, kind, body, state, answer, ...}
//              every record made on this phone, kept until the server's answer is stored on it
//              (and afterwards, to show it).

const NAME = "coopcore-field";
const VERSION = 1;

let opened = null;

export function database() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("meta", { keyPath: "key" });
        db.createObjectStore("downloads", { keyPath: "key" });
        const records = db.createObjectStore("records", { keyPath: "client_uuid" });
        records.createIndex("by_device_state", ["device_id", "state", "device_sequence"]);
        records.createIndex("by_device", ["device_id", "device_sequence"]);
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab opening a newer version of the app: let it upgrade, reopen on next use.
        db.onversionchange = () => {
          db.close();
          opened = null;
        };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
    });
  }
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("transaction aborted"));
  });
}

export async function getMeta(key) {
  const db = await database();
  return done(db.transaction("meta").objectStore("meta").get(key));
}

export async function putMeta(value) {
  const db = await database();
  const transaction = db.transaction("meta", "readwrite");
  transaction.objectStore("meta").put(value);
  await finished(transaction);
}

export async function getDownload(key) {
  const db = await database();
  return done(db.transaction("downloads").objectStore("downloads").get(key));
}

export async function putDownload(key, body) {
  const db = await database();
  const transaction = db.transaction("downloads", "readwrite");
  transaction.objectStore("downloads").put({ key, body, fetched_at: new Date().toISOString() });
  await finished(transaction);
}

// Store a new record with the device's next sequence number, given out in the same transaction:
// a number is never given twice (two tabs' transactions on these stores run one after the other)
// and never given to a record that was not stored.
export async function addRecord(deviceId, record) {
  const db = await database();
  const transaction = db.transaction(["meta", "records"], "readwrite");
  const meta = transaction.objectStore("meta");
  const key = `sequence:${deviceId}`;
  const stored = { ...record, device_id: deviceId, state: "pending", answer: null };
  meta.get(key).onsuccess = (event) => {
    const last = event.target.result ? event.target.result.last : 0;
    stored.device_sequence = last + 1;
    meta.put({ key, last: last + 1 });
    transaction.objectStore("records").add(stored);
  };
  await finished(transaction);
  return stored;
}

function deviceRange(deviceId) {
  return IDBKeyRange.bound([deviceId, -Infinity], [deviceId, Infinity]);
}

export async function recordsOf(deviceId) {
  const db = await database();
  const index = db.transaction("records").objectStore("records").index("by_device");
  return done(index.getAll(deviceRange(deviceId)));
}

// The oldest records still waiting to upload, at most ``limit``.
export async function pendingOf(deviceId, limit) {
  const db = await database();
  const index = db.transaction("records").objectStore("records").index("by_device_state");
  const range = IDBKeyRange.bound([deviceId, "pending", -Infinity], [deviceId, "pending", Infinity]);
  return done(index.getAll(range, limit));
}

export async function countPending(deviceId) {
  const db = await database();
  const index = db.transaction("records").objectStore("records").index("by_device_state");
  return done(index.count(IDBKeyRange.bound([deviceId, "pending", -Infinity], [deviceId, "pending", Infinity])));
}

// Store the server's answers on their records, all in one transaction. ``changes`` maps a
// client_uuid to {state, answer}; a record that is no longer pending is left as it is.
export async function storeAnswers(changes) {
  const db = await database();
  const transaction = db.transaction("records", "readwrite");
  const records = transaction.objectStore("records");
  for (const [uuid, change] of changes) {
    records.get(uuid).onsuccess = (event) => {
      const record = event.target.result;
      if (record && record.state === "pending") records.put({ ...record, ...change });
    };
  }
  await finished(transaction);
}

// Put a record the server did not accept back in the queue (sent again with the same UUID).
export async function requeue(uuid) {
  const db = await database();
  const transaction = db.transaction("records", "readwrite");
  const records = transaction.objectStore("records");
  records.get(uuid).onsuccess = (event) => {
    const record = event.target.result;
    if (record && record.state === "attention" && record.answer && record.answer.status === "invalid") {
      records.put({ ...record, state: "pending", answer: null });
    }
  };
  await finished(transaction);
}
