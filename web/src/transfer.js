// Receive and send in the browser, as client/transfer.py does on a device:
// check the sender's pinned key and signature before decrypting anything,
// stream the ciphertext and the plaintext through hashes, refuse any mismatch.
// Between the passes the bytes sit in OPFS spill files (spill.js), else in Blobs.
import * as age from "age-encryption";
import { sha256 } from "@noble/hashes/sha2.js";
import { createHasher } from "./hashing.js";
import * as tus from "tus-js-client";
import { api, csrfToken } from "./api.js";
import { concat, equalBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from "./bytes.js";
import { sign } from "./identity.js";
import { fingerprint, safeName, transferSignatureMessage } from "./protocol.js";
import * as spill from "./spill.js";

const METADATA_VERSION = 1;
const BLOB_BATCH = 16 * 1024 * 1024; // hand bytes to a Blob (which Chromium may page to disk) in batches
const WRITE_BATCH = 4 * 1024 * 1024; // one write to a spill file per 4 MiB, not per 64 KiB chunk
const UPLOAD_CHUNK = 8 * 1024 * 1024;

export class Refusal extends Error {
  constructor(code, detail) {
    super(code);
    this.code = code;
    this.detail = detail || {};
  }
}

// -- pins (trust on first use, per signed-in user, in this browser) ------------------

function pinsKey(me) {
  return `scelle.pins.${me}`;
}

function loadPins(me) {
  try {
    return JSON.parse(localStorage.getItem(pinsKey(me)) || "{}");
  } catch {
    return {};
  }
}

export function pin(me, userId, email, fp) {
  const pins = loadPins(me);
  pins[userId] = { email, fingerprint: fp };
  localStorage.setItem(pinsKey(me), JSON.stringify(pins));
}

/** This browser's pins for ``me``: [{userId, email, fingerprint}], by e-mail. */
export function listPins(me) {
  return Object.entries(loadPins(me))
    .map(([userId, known]) => ({ userId, email: known.email, fingerprint: known.fingerprint }))
    .sort((a, b) => a.email.localeCompare(b.email));
}

/** Forget the pin of ``userId`` (the next key seen for them is pinned anew). */
export function unpin(me, userId) {
  const pins = loadPins(me);
  delete pins[userId];
  localStorage.setItem(pinsKey(me), JSON.stringify(pins));
}

/** Pin a first-seen key; raise Refusal("key_changed") for a key that differs from the pin. */
export function checkPin(me, userId, email, fp) {
  const known = loadPins(me)[userId];
  if (known === undefined) {
    pin(me, userId, email, fp);
    return "new";
  }
  if (known.fingerprint !== fp) {
    throw new Refusal("key_changed", { email, pinned: known.fingerprint, offered: fp, userId });
  }
  return "pinned";
}

function entryFingerprint(entry) {
  const fp = fingerprint(entry.x25519_recipient, fromBase64(entry.ed25519_public));
  if (entry.fingerprint !== undefined && entry.fingerprint !== fp) {
    throw new Refusal("bad_fingerprint");
  }
  return fp;
}

// -- streams ------------------------------------------------------------------------

class BlobCollector {
  constructor(type) {
    this.type = type;
    this.blob = new Blob([], { type });
    this.pending = [];
    this.pendingSize = 0;
    this.size = 0;
  }

  push(chunk) {
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    this.size += chunk.length;
    if (this.pendingSize >= BLOB_BATCH) this.flush();
  }

  flush() {
    if (this.pending.length) this.blob = new Blob([this.blob, ...this.pending], { type: this.type });
    this.pending = [];
    this.pendingSize = 0;
  }

  finish() {
    this.flush();
    return this.blob;
  }
}

/** Read a stream to a Blob while hashing it; ``onBytes(n)`` after each chunk. */
async function drainToBlob(stream, type, onBytes) {
  const hasher = createHasher();
  try {
    const out = new BlobCollector(type);
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await hasher.update(value);
      out.push(value);
      if (onBytes) onBytes(value.length);
    }
    return { blob: out.finish(), digest: await hasher.digest(), size: out.size };
  } finally {
    hasher.close();
  }
}

/** Hash and count the chunks going through, and hand them on in WRITE_BATCH pieces. */
function batchingTap(hasher, onBytes) {
  let pending = [];
  let pendingSize = 0;
  let size = 0;
  const flush = (controller) => {
    if (!pendingSize) return;
    controller.enqueue(pending.length === 1 ? pending[0] : concat(...pending));
    pending = [];
    pendingSize = 0;
  };
  const tap = new TransformStream({
    async transform(chunk, controller) {
      await hasher.update(chunk);
      size += chunk.length;
      // neither typage nor fetch reuses a chunk it hands out: keeping it until the flush is safe
      pending.push(chunk);
      pendingSize += chunk.length;
      if (pendingSize >= WRITE_BATCH) flush(controller);
      if (onBytes) onBytes(chunk.length);
    },
    flush,
  });
  return { tap, size: () => size };
}

/**
 * Read a stream while hashing it, into ``spillFile`` (on disk) when there is one, else into
 * a Blob. ``blob`` is then a Blob of the spill's files; ``onBytes(n)`` after each chunk.
 */
async function drain(stream, type, onBytes, spillFile) {
  if (!spillFile) return drainToBlob(stream, type, onBytes);
  const hasher = createHasher();
  try {
    const { tap, size } = batchingTap(hasher, onBytes);
    const blob = await spillFile.write(stream.pipeThrough(tap), type);
    return { blob, digest: await hasher.digest(), size: size() };
  } finally {
    hasher.close();
  }
}

function hashingTap(hasher, onBytes) {
  let count = 0;
  const tap = new TransformStream({
    async transform(chunk, controller) {
      await hasher.update(chunk);
      count += chunk.length;
      if (onBytes) onBytes(count);
      controller.enqueue(chunk);
    },
  });
  return { tap, size: () => count };
}

// -- receive ------------------------------------------------------------------------

/** Check the sender's key (pin) and the signature over the announced digests. */
export async function checkTransfer(me, transfer, transferId) {
  if (transfer.id !== transferId) throw new Refusal("wrong_transfer");
  const sender = transfer.sender;
  const senderPublic = fromBase64(sender.key.ed25519_public);
  const fp = entryFingerprint(sender.key);
  if (me !== null) checkPin(me, sender.user_id, sender.email, fp); // a patient has no pins
  if (!transfer.signature) throw new Refusal("unsigned");
  const metadata = fromBase64(transfer.metadata);
  const payloadSha256 = fromHex(transfer.payload_sha256);
  const message = transferSignatureMessage(transferId, payloadSha256, sha256(metadata));
  const verifyKey = await crypto.subtle.importKey("raw", senderPublic, { name: "Ed25519" }, false, [
    "verify",
  ]);
  const signature = fromBase64(transfer.signature);
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, verifyKey, signature, message);
  if (!ok) throw new Refusal("bad_signature");
  return { metadata, payloadSha256, fingerprint: fp };
}

function decrypterFor(keys, passphrase) {
  const decrypter = new age.Decrypter();
  if (passphrase !== undefined) decrypter.addPassphrase(passphrase);
  else decrypter.addIdentity(keys.identity);
  return decrypter;
}

export async function readMetadata(keys, metadata, passphrase) {
  const decrypter = decrypterFor(keys, passphrase);
  let document;
  try {
    document = JSON.parse(await decrypter.decrypt(metadata, "text"));
  } catch {
    throw new Refusal(passphrase !== undefined ? "bad_passphrase" : "decryption_failed");
  }
  if (!document || document.v !== METADATA_VERSION) throw new Refusal("decryption_failed");
  return document;
}

/**
 * Download, verify and decrypt one transfer. Returns {blob, name, document};
 * raises Refusal before anything is decrypted when a check fails.
 */
export async function receive(me, keys, transferId, progress) {
  return receiveFrom("/api/v1/transfers", me, keys, undefined, transferId, progress);
}

/** A patient link: the same checks, the passphrase instead of an identity, no account. */
export async function receiveLink(transferId, passphrase, progress) {
  return receiveFrom("/api/v1/links", null, null, passphrase, transferId, progress);
}

async function receiveFrom(base, me, keys, passphrase, transferId, progress) {
  let transfer;
  try {
    transfer = await api("GET", `${base}/${encodeURIComponent(transferId)}`);
  } catch (error) {
    if (error.status === 404) throw new Refusal("not_found");
    if (error.status === 410) throw new Refusal("gone");
    throw error;
  }
  const checked = await checkTransfer(me, transfer, transferId);
  // The metadata first: a wrong passphrase is refused before a download is spent.
  const document = await readMetadata(keys, checked.metadata, passphrase);
  const response = await fetch(`${base}/${encodeURIComponent(transferId)}/content`, {
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) {
    const code = { 410: "gone", 429: "throttled" }[response.status] || "download_failed";
    throw new Refusal(code);
  }
  const cipherSpill = await spill.create("received");
  let plainSpill = null;
  try {
    let received = 0;
    const cipher = await drain(
      response.body,
      "application/octet-stream",
      (n) => {
        received += n;
        progress("downloading", received, transfer.payload_size);
      },
      cipherSpill,
    );
    if (cipher.size !== transfer.payload_size || !equalBytes(cipher.digest, checked.payloadSha256)) {
      throw new Refusal("bad_digest");
    }
    const decrypter = decrypterFor(keys, passphrase);
    const type = document.type || "application/octet-stream";
    plainSpill = await spill.create("plain");
    let plain;
    try {
      const stream = await decrypter.decrypt(cipher.blob.stream());
      let done = 0;
      plain = await drain(
        stream,
        type,
        (n) => {
          done += n;
          progress("decrypting", done, document.size || 0);
        },
        plainSpill,
      );
    } catch (error) {
      // One opaque refusal for the page; the reason in this browser's console only.
      console.warn("scelle: decryption_failed:", error && error.name, error && error.message);
      throw new Refusal("decryption_failed");
    }
    if (plain.size !== document.size || toHex(plain.digest) !== String(document.sha256)) {
      throw new Refusal("decryption_failed");
    }
    const kept = plainSpill;
    plainSpill = null;
    return {
      blob: plain.blob,
      name: safeName(document.name, "fichier"),
      document,
      transfer,
      // The plaintext stays on disk while the save is offered; the page removes it after.
      discard: () => (kept ? kept.remove().catch(() => {}) : Promise.resolve()),
    };
  } finally {
    if (cipherSpill) await cipherSpill.remove().catch(() => {});
    if (plainSpill) await plainSpill.remove().catch(() => {});
  }
}

// -- send ---------------------------------------------------------------------------

/** Directory entries for ``targets`` (org names or e-mails), fingerprints checked. */
export async function lookup(targets) {
  const query = targets.map((t) => `to=${encodeURIComponent(t)}`).join("&");
  const answer = await api("GET", `/api/v1/directory?${query}`);
  return answer.recipients.map((entry) => ({ ...entry, fingerprint: entryFingerprint(entry) }));
}

function metadataJson(file, size, sha256Hex, note) {
  // Sorted keys, as the CLI writes it (docs/protocol.md).
  const document = {
    name: file.name,
    note,
    sha256: sha256Hex,
    size,
    type: file.type || "application/octet-stream",
    v: METADATA_VERSION,
  };
  return JSON.stringify(document);
}

function upload(blob, transferId, progress) {
  return new Promise((resolve, reject) => {
    const job = new tus.Upload(blob, {
      endpoint: "/api/v1/uploads",
      chunkSize: UPLOAD_CHUNK,
      headers: { "X-CSRF-Token": csrfToken() },
      metadata: { transfer: transferId },
      retryDelays: [0, 1000, 3000, 5000],
      storeFingerprintForResuming: false,
      onProgress(sent, total) {
        progress("uploading", sent, total);
      },
      onSuccess() {
        resolve();
      },
      onError(error) {
        reject(error);
      },
    });
    job.start();
  });
}

/**
 * Encrypt ``file`` to ``recipients`` (directory entries), create the transfer,
 * upload with tus, sign and seal. Returns the sealed transfer.
 */
export async function send(me, keys, file, recipients, options, progress) {
  const encrypter = new age.Encrypter();
  if (options.passphrase) {
    encrypter.setPassphrase(options.passphrase); // a patient link: no account recipient
    recipients = [];
  } else {
    if (!recipients.length) throw new Refusal("no_recipient");
    for (const entry of recipients) {
      checkPin(me, entry.user_id, entry.email, entry.fingerprint);
      encrypter.addRecipient(entry.x25519_recipient);
    }
  }
  const cipherSpill = await spill.create("sent");
  const plainHasher = createHasher();
  try {
    const { tap, size } = hashingTap(plainHasher, (n) => progress("encrypting", n, file.size));
    const cipherStream = await encrypter.encrypt(file.stream().pipeThrough(tap));
    const cipher = await drain(cipherStream, "application/octet-stream", undefined, cipherSpill);
    const metadata = await encrypter.encrypt(
      metadataJson(file, size(), toHex(await plainHasher.digest()), options.note || ""),
    );
    const body = {
      recipients: recipients.map((e) => ({ user_id: e.user_id, key_id: e.key_id })),
      payload_size: cipher.size,
      payload_sha256: toHex(cipher.digest),
      metadata: toBase64(metadata),
    };
    if (options.expiresIn) body.expires_in = options.expiresIn;
    if (options.maxDownloads) body.max_downloads = options.maxDownloads;
    if (options.passphrase) body.passphrase_link = true;
    const created = await api("POST", "/api/v1/transfers", body);
    await upload(cipher.blob, created.id, progress);
    const message = transferSignatureMessage(created.id, cipher.digest, sha256(metadata));
    const signature = await sign(keys, message);
    return await api("POST", `/api/v1/transfers/${encodeURIComponent(created.id)}/seal`, {
      signature: toBase64(signature),
    });
  } finally {
    plainHasher.close();
    if (cipherSpill) await cipherSpill.remove().catch(() => {});
  }
}

export { utf8 };
