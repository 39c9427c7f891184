// Passkeys (WebAuthn) in the browser: the server's options in, the authenticator's answer out.
// Options are PublicKeyCredential*OptionsJSON (binary fields base64url, as the server's
// py_webauthn writes them); answers are PublicKeyCredential.toJSON(). The browser's own
// parse*FromJSON / toJSON are used when it has them, else the few binary fields are
// converted here. Nothing secret passes through this module: the private key never
// leaves the authenticator. The three ceremonies the pages run with the server (sign in,
// a sign-in's one enrolment, a signed-in registration) are at the end.
import { api } from "./api.js";

export class PasskeyCancelled extends Error {}
export class PasskeyUnsupported extends Error {}

export function fromBase64url(text) {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const raw = atob(padded);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

export function toBase64url(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list || []).map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: fromBase64url(json.challenge),
    user: { ...json.user, id: fromBase64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return { ...json, challenge: fromBase64url(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

function answerJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const response = credential.response;
  const out = {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response: { clientDataJSON: toBase64url(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    out.response.attestationObject = toBase64url(response.attestationObject);
    out.response.transports = typeof response.getTransports === "function" ? response.getTransports() : [];
  } else {
    out.response.authenticatorData = toBase64url(response.authenticatorData);
    out.response.signature = toBase64url(response.signature);
    if (response.userHandle) out.response.userHandle = toBase64url(response.userHandle);
  }
  return out;
}

function supported() {
  if (typeof PublicKeyCredential === "undefined" || !navigator.credentials) throw new PasskeyUnsupported();
}

async function ceremony(run) {
  try {
    const credential = await run();
    if (!credential) throw new PasskeyCancelled();
    return answerJSON(credential);
  } catch (error) {
    // NotAllowedError: cancelled, timed out, or no matching passkey on this device;
    // InvalidStateError: this authenticator already holds one of the excluded passkeys.
    if (error instanceof DOMException && error.name === "InvalidStateError") throw new PasskeyCancelled("exists");
    if (error instanceof DOMException) throw new PasskeyCancelled(error.name);
    throw error;
  }
}

/** A new passkey for the server's creation options: its attestation as JSON. */
export async function create(options) {
  supported();
  const publicKey = creationOptions(options);
  return ceremony(() => navigator.credentials.create({ publicKey }));
}

/** The assertion of one of the allowed passkeys for the server's request options, as JSON. */
export async function get(options) {
  supported();
  const publicKey = requestOptions(options);
  return ceremony(() => navigator.credentials.get({ publicKey }));
}

// -- the ceremonies with the server ----------------------------------------------------------

/** Sign in with the e-mail, password and a passkey: a web session. ``onAsk()`` before the device is asked. */
export async function signIn(account, onAsk) {
  const begun = await api("POST", "/api/v1/auth/passkey/begin", account);
  if (onAsk) onAsk();
  const credential = await get(begun.options);
  await api("POST", "/api/v1/auth/passkey/session", { challenge_id: begun.challenge_id, credential });
}

/**
 * Register the one passkey a sign-in's enrolment ceremony allows (a role that requires
 * passkeys). ``onAnswered()`` once the device has answered: the server then spends the
 * ceremony whatever the outcome.
 */
export async function enrol(ceremony, name, onAnswered) {
  const credential = await create(ceremony.options);
  if (onAnswered) onAnswered();
  await api("POST", "/api/v1/auth/passkey/enrol", { challenge_id: ceremony.challenge_id, credential, name });
}

/** Add a passkey to the signed-in account (``proof``: the password and a code, when asked). */
export async function register(name, proof, onAsk) {
  const begun = await api("POST", "/api/v1/passkeys/register/begin", proof);
  if (onAsk) onAsk();
  const credential = await create(begun.options);
  await api("POST", "/api/v1/passkeys/register/finish", { challenge_id: begun.challenge_id, credential, name });
}
