// The browser identity: an age X25519 identity (to decrypt) and an Ed25519 key
// (to sign), generated here. The server keeps them only as an age file encrypted
// to a passphrase (scrypt) that it never sees, and as a second age file encrypted
// to a recovery key (an age X25519 identity shown once, kept by the person, never
// stored here or there); they are unwrapped here at sign-in and kept for the tab's
// life in sessionStorage (cleared at logout).
import * as age from "age-encryption";
import { fromBase64, toBase64 } from "./bytes.js";
import { fingerprint, keyBundleMessage } from "./protocol.js";

const STORE = "scelle.identity";
const FORMAT = 1;
export const SCRYPT_LOG_N = 18; // as the CLI's keyring (client/keyring.py)

async function signingParts(pkcs8) {
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  // The public key is the JWK "x" of the private key (base64url).
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const b64 = jwk.x.replaceAll("-", "+").replaceAll("_", "/");
  return { key, publicKey: fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4)) };
}

/** A fresh identity and signing key; nothing leaves the browser. */
export async function generateKeys() {
  const identity = await age.generateX25519Identity();
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return loadKeys({ v: FORMAT, identity, signing_key_pkcs8: toBase64(pkcs8) });
}

/** Keys from their stored JSON form ({v, identity, signing_key_pkcs8}). */
export async function loadKeys(document) {
  if (!document || document.v !== FORMAT || typeof document.identity !== "string") {
    throw new Error("unknown identity format");
  }
  const pkcs8 = fromBase64(document.signing_key_pkcs8);
  const { key, publicKey } = await signingParts(pkcs8);
  const recipient = await age.identityToRecipient(document.identity);
  return {
    document,
    identity: document.identity,
    recipient,
    signingKey: key,
    ed25519Public: publicKey,
    fingerprint: fingerprint(recipient, publicKey),
  };
}

export async function sign(keys, message) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, keys.signingKey, message));
}

/** The key bundle PUT /api/v1/keys/me takes, signed by itself. */
export async function bundle(keys) {
  const signature = await sign(keys, keyBundleMessage(keys.recipient, keys.ed25519Public));
  return {
    x25519_recipient: keys.recipient,
    ed25519_public: toBase64(keys.ed25519Public),
    self_signature: toBase64(signature),
  };
}

/** The keys as an age file encrypted to ``passphrase`` (scrypt recipient). */
export async function wrap(keys, passphrase, logN = SCRYPT_LOG_N) {
  const encrypter = new age.Encrypter();
  encrypter.setPassphrase(passphrase);
  encrypter.setScryptWorkFactor(logN);
  return encrypter.encrypt(JSON.stringify(keys.document));
}

/** A new recovery key: an age X25519 identity string (AGE-SECRET-KEY-1...). */
export async function newRecoveryKey() {
  return age.generateX25519Identity();
}

/** The keys as an age file encrypted to the recovery key's recipient (one X25519 stanza). */
export async function wrapForRecovery(keys, recoveryKey) {
  const encrypter = new age.Encrypter();
  encrypter.addRecipient(await age.identityToRecipient(recoveryKey));
  return encrypter.encrypt(JSON.stringify(keys.document));
}

/** The recovery key in ``text`` (a pasted key or a whole key file with # comments), or null. */
export function parseRecoveryKey(text) {
  const lines = String(text || "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
  return lines.length === 1 && /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/i.test(lines[0]) ? lines[0].toUpperCase() : null;
}

/** The keys inside the recovery copy; throws when ``recoveryKey`` does not open it. */
export async function unwrapWithRecovery(wrapped, recoveryKey) {
  const decrypter = new age.Decrypter();
  decrypter.addIdentity(recoveryKey);
  const text = await decrypter.decrypt(wrapped, "text");
  return loadKeys(JSON.parse(text));
}

/** The two copies PUT /api/v1/keys/me/wrapped takes, and the recovery key to show once. */
export async function wrapBoth(keys, passphrase) {
  const recoveryKey = await newRecoveryKey();
  const [wrapped, recovery] = await Promise.all([wrap(keys, passphrase), wrapForRecovery(keys, recoveryKey)]);
  return { wrapped, recovery, recoveryKey };
}

/** The keys inside a wrapped age file; throws on a wrong passphrase. */
export async function unwrap(wrapped, passphrase) {
  const decrypter = new age.Decrypter();
  decrypter.addPassphrase(passphrase);
  const text = await decrypter.decrypt(wrapped, "text");
  return loadKeys(JSON.parse(text));
}

export function remember(userId, keys) {
  sessionStorage.setItem(STORE, JSON.stringify({ user_id: userId, ...keys.document }));
}

/** The unwrapped keys of this tab for ``userId``, or null. */
export async function recall(userId) {
  const raw = sessionStorage.getItem(STORE);
  if (!raw) return null;
  try {
    const stored = JSON.parse(raw);
    if (stored.user_id !== userId) return null;
    return await loadKeys({ v: stored.v, identity: stored.identity, signing_key_pkcs8: stored.signing_key_pkcs8 });
  } catch {
    return null;
  }
}

export function forget() {
  sessionStorage.removeItem(STORE);
}
