// Entry point of the web UI bundle: each page says what it is in <body data-page>,
// and its controller attaches to the server-rendered, labelled form. No inline script.
import * as admin from "./admin.js";
import { freshProof, reloadWith, showFlash } from "./changes.js";
import { ApiError, api } from "./api.js";
import { fromBase64, toBase64 } from "./bytes.js";
import * as identity from "./identity.js";
import { orgsPage } from "./oversight.js";
import * as passkey from "./passkey.js";
import * as qr from "uqr";
import * as spill from "./spill.js";
import * as transfer from "./transfer.js";

const body = document.body;
let messages = {};

function t(key, values = {}) {
  let text = messages[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

function $(selector) {
  return document.querySelector(selector);
}

function say(selector, text, kind = "info") {
  const element = $(selector);
  if (!element) return;
  element.textContent = text;
  element.dataset.kind = kind;
  element.hidden = !text;
}

function explain(error) {
  if (error instanceof transfer.Refusal) return t(`refusal.${error.code}`);
  if (error instanceof ApiError) {
    if (error.status === 401) return t("error.credentials");
    if (error.status === 429) return t("error.throttled");
    return t("error.server", { message: error.message });
  }
  return t("error.unexpected");
}

function nextPage(fallback) {
  const next = new URLSearchParams(location.search).get("next") || "";
  // Only a local path: never an open redirect.
  return /^\/[a-z0-9/_-]*$/i.test(next) && !next.startsWith("//") ? next : fallback;
}

function showProgress(stage, done, total) {
  const bar = $("#progress");
  if (!bar) return;
  bar.hidden = false;
  bar.max = total || 1;
  bar.value = Math.min(done, total || 1);
  const percent = total ? Math.floor((100 * done) / total) : 100;
  say("#progress-label", t(`stage.${stage}`, { percent }));
}

async function keysOrRedirect() {
  const keys = await identity.recall(body.dataset.userId);
  if (!keys) {
    location.assign(`/identity?next=${encodeURIComponent(location.pathname)}`);
    return null;
  }
  return keys;
}

// -- sign in: password + code, or password + passkey; a role's passkey enrolment -----------

function afterSignIn() {
  identity.forget();
  location.assign(`/identity?next=${encodeURIComponent(nextPage("/inbox"))}`);
}

function explainPasskey(error) {
  if (error instanceof passkey.PasskeyUnsupported) return t("error.passkey_unsupported");
  if (error instanceof passkey.PasskeyCancelled) {
    return error.message === "exists" ? t("error.passkey_exists") : t("error.passkey_cancelled");
  }
  return explain(error);
}

// As the server's rule (accounts/passkeys.py NAME), checked before the authenticator is asked.
const PASSKEY_NAME = /^[\p{L}\p{N}\p{M}_ .@'()-]{1,64}$/u;

function passkeyName(selector) {
  const name = String($(selector).value || "").trim();
  if (name && !PASSKEY_NAME.test(name)) {
    say("#form-error", t("error.passkey_name"), "error");
    $(selector).focus();
    return null;
  }
  return name || undefined;
}

function loginPage() {
  const form = $("#login-form");
  // The page asked for before sign-in, carried through single sign-on as well.
  const sso = $("#sso-login");
  const next = nextPage("");
  if (sso && next) sso.href = `${sso.getAttribute("href")}&next=${encodeURIComponent(next)}`;
  const submit = form.querySelector("button[type=submit]");
  const passkeyButton = $("#passkey-login-button");
  const enrolSection = $("#passkey-enrol");
  let enrolment = null;
  const busy = (value) => {
    submit.disabled = value;
    passkeyButton.disabled = value;
  };
  const credentials = () => {
    const data = new FormData(form);
    return { email: String(data.get("email") || "").trim(), password: String(data.get("password") || "") };
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    say("#form-status", "");
    const { email, password } = credentials();
    const otp = String(new FormData(form).get("otp") || "").trim();
    if (!email || !password) {
      say("#form-error", t("error.no_password"), "error");
      $(email ? "#password" : "#email").focus();
      return;
    }
    if (!otp) {
      say("#form-error", t("error.no_otp"), "error");
      $("#otp").focus();
      return;
    }
    busy(true);
    try {
      await api("POST", "/api/v1/auth/session", { email, password, otp });
      afterSignIn();
    } catch (error) {
      busy(false);
      $("#otp").value = "";
      if (error instanceof ApiError && error.code === "passkey_required") {
        if (error.details && error.details.enrolment) {
          // The only thing this answer allows: registering one passkey, once.
          enrolment = error.details.enrolment;
          enrolSection.hidden = false;
          $("#enrol-name").focus();
        } else {
          say("#form-error", t("error.passkey_required"), "error");
          passkeyButton.focus();
        }
        return;
      }
      say("#form-error", explain(error), "error");
      $("#password").focus();
    }
  });

  passkeyButton.addEventListener("click", async () => {
    say("#form-error", "");
    const { email, password } = credentials();
    if (!email || !password) {
      say("#form-error", t("error.no_password"), "error");
      $(email ? "#password" : "#email").focus();
      return;
    }
    busy(true);
    try {
      await passkey.signIn({ email, password }, () => say("#form-status", t("status.confirm_device")));
      afterSignIn();
    } catch (error) {
      busy(false);
      say("#form-status", "");
      const text = error instanceof ApiError && error.status === 409 ? t("error.no_passkey") : explainPasskey(error);
      say("#form-error", text, "error");
      $("#password").focus();
    }
  });

  $("#passkey-enrol-button").addEventListener("click", async () => {
    if (!enrolment) return;
    say("#form-error", "");
    const name = passkeyName("#enrol-name");
    if (name === null) return;
    const button = $("#passkey-enrol-button");
    button.disabled = true;
    say("#form-status", t("status.confirm_device"));
    const ceremony = enrolment;
    try {
      await passkey.enrol(ceremony, name, () => {
        enrolment = null; // spent by the server whatever the outcome
      });
      enrolSection.hidden = true;
      say("#form-status", t("status.enrolled"), "success");
      passkeyButton.focus();
    } catch (error) {
      say("#form-status", "");
      say("#form-error", explainPasskey(error), "error");
      if (!enrolment) enrolSection.hidden = true; // sign in with a code again for a new one
    } finally {
      button.disabled = false;
    }
  });
}

// -- enrolment: token and password, then TOTP and recovery codes (once), then a passkey ------

// The TOTP URI as a QR code on the canvas (4 modules of quiet zone), drawn here: no image
// is fetched, and the seed never leaves the page.
function drawQr(canvas, text) {
  const { data, size } = qr.encode(text, { ecc: "M", border: 4 });
  const scale = Math.max(1, Math.floor(canvas.width / size));
  const offset = Math.floor((canvas.width - scale * size) / 2);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#000";
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      if (data[y][x]) context.fillRect(offset + x * scale, offset + y * scale, scale, scale);
    }
  }
}

function setCsrf(token) {
  let meta = document.querySelector('meta[name="scelle-csrf"]');
  if (!meta) {
    meta = document.createElement("meta");
    meta.name = "scelle-csrf";
    document.head.append(meta);
  }
  meta.content = token;
}

function enrolPage() {
  const form = $("#enrol-form");
  const factors = $("#enrol-factors");
  const passkeySection = $("#enrol-passkey");
  let account = null; // {email, password} of this enrolment, for the first sign-ins
  let ceremony = null; // a role that requires passkeys: the one registration allowed
  const toIdentity = () => location.assign("/identity?next=/inbox");

  // The token arrives in the fragment (never sent to any server); it leaves the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    $("#enrol-token").value = fragment.get("token");
    history.replaceState(null, "", location.pathname + location.search);
    $("#enrol-password").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    const data = new FormData(form);
    const token = String(data.get("token") || "").trim();
    const password = String(data.get("password") || "");
    if (!token) {
      say("#form-error", t("error.token_missing"), "error");
      $("#enrol-token").focus();
      return;
    }
    if (password.length < 12) {
      say("#form-error", t("error.password_short"), "error");
      $("#enrol-password").focus();
      return;
    }
    if (password !== String(data.get("confirmation") || "")) {
      say("#form-error", t("error.password_mismatch"), "error");
      $("#enrol-confirmation").focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const enrolled = await api("POST", "/api/v1/enrol", { token, password });
      account = { email: enrolled.email, password };
      form.reset();
      form.hidden = true;
      $("#enrol-account").textContent = `${enrolled.email} (${enrolled.org})`;
      drawQr($("#totp-qr"), enrolled.totp_uri);
      $("#totp-secret").textContent = enrolled.totp_secret.replace(/(.{4})/g, "$1 ").trim();
      const list = $("#recovery-codes");
      for (const code of enrolled.recovery_codes) {
        const item = document.createElement("li");
        item.textContent = code;
        list.append(item);
      }
      offerText(
        "#codes-download",
        [`# ${t("file.recovery_codes", { email: enrolled.email })}`, ...enrolled.recovery_codes, ""].join("\n"),
      );
      factors.hidden = false;
      say("#form-status", t("status.password_set"), "success");
      $("#totp-title").focus();
    } catch (error) {
      submit.disabled = false;
      if (error instanceof ApiError && error.status === 401) {
        say("#form-error", t("error.enrol_token"), "error");
        $("#enrol-token").focus();
      } else {
        say("#form-error", explain(error), "error");
      }
    }
  });

  factors.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    const otp = String(new FormData(factors).get("otp") || "").replace(/\s+/g, "");
    if (!$("#codes-saved").checked) {
      say("#form-error", t("error.codes_unsaved"), "error");
      $("#codes-saved").focus();
      return;
    }
    if (!otp) {
      say("#form-error", t("error.otp_missing"), "error");
      $("#enrol-otp").focus();
      return;
    }
    const submit = factors.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const session = await api("POST", "/api/v1/auth/session", { ...account, otp });
      setCsrf(session.csrf_token);
      identity.forget();
      factors.hidden = true;
      $("#recovery-codes").replaceChildren();
      say("#form-status", "");
      passkeySection.hidden = false;
      $("#enrol-passkey-name").focus();
    } catch (error) {
      submit.disabled = false;
      $("#enrol-otp").value = "";
      if (error instanceof ApiError && error.code === "passkey_required" && error.details && error.details.enrolment) {
        ceremony = error.details.enrolment; // the code was right; the role needs a passkey
        factors.hidden = true;
        $("#recovery-codes").replaceChildren();
        $("#enrol-passkey-optional").hidden = true;
        $("#enrol-passkey-required").hidden = false;
        $("#enrol-passkey-later").hidden = true;
        passkeySection.hidden = false;
        $("#enrol-passkey-name").focus();
        return;
      }
      say("#form-error", error instanceof ApiError && error.status === 401 ? t("error.otp_wrong") : explain(error), "error");
      $("#enrol-otp").focus();
    }
  });

  $("#enrol-passkey-button").addEventListener("click", async () => {
    say("#form-error", "");
    const name = passkeyName("#enrol-passkey-name");
    if (name === null) return;
    const button = $("#enrol-passkey-button");
    button.disabled = true;
    say("#form-status", t("status.confirm_device"));
    try {
      if (ceremony) {
        // Register the one passkey the role allows, then sign in with it (no session yet).
        await passkey.enrol(ceremony, name, () => {
          ceremony = null; // spent by the server whatever the outcome
        });
        await passkey.signIn(account);
      } else {
        await passkey.register(name);
      }
      account = null;
      identity.forget();
      toIdentity();
    } catch (error) {
      button.disabled = false;
      say("#form-status", "");
      say("#form-error", explainPasskey(error), "error");
    }
  });
  $("#enrol-passkey-later").addEventListener("click", () => {
    account = null;
  });
}

// -- passkeys: list (server-rendered), add, remove; a fresh proof when the login is old ------

function passkeysPage() {
  const ui = { $, say, t, explain };
  showFlash(ui);
  const run = freshProof(ui, "error.reauth_passkey");
  const failed = (context) => (error) => {
    if (error instanceof ApiError && error.status === 409) {
      return context === "remove" ? t("error.last_passkey") : t("error.passkey_exists");
    }
    return explainPasskey(error);
  };

  const add = async (proof) => {
    const name = passkeyName("#passkey-name");
    if (name === null) return;
    await passkey.register(name, proof, () => {
      $("#reauth-form").hidden = true;
      say("#form-status", t("status.confirm_device"));
    });
    reloadWith("status.passkey_added");
  };
  const remover = (id) => async (proof) => {
    await api("DELETE", `/api/v1/passkeys/${encodeURIComponent(id)}`, proof);
    reloadWith("status.passkey_removed");
  };

  $("#add-passkey-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(add, failed("add"));
  });
  for (const button of document.querySelectorAll("[data-remove-passkey]")) {
    button.addEventListener("click", () => run(remover(button.dataset.removePasskey), failed("remove")));
  }
}

// -- browser identity: create, unlock, or recover with the recovery key --------------------

// A text file offered for download from an <a download> (its object URL lives with the page).
function offerText(selector, text) {
  const link = $(selector);
  if (link.dataset.url) URL.revokeObjectURL(link.dataset.url);
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  link.dataset.url = url;
  link.href = url;
}

// The recovery key, shown once: an age identity file (comments, then the key), which the
// reference age tool also reads (age -d -i FILE). Continue only once its keeping is confirmed.
function showRecoveryKey(keys, recoveryKey, onDone) {
  const section = $("#recovery-section");
  const email = section.dataset.email || "";
  $("#my-fingerprint").textContent = keys.fingerprint;
  $("#recovery-key").textContent = recoveryKey;
  const file = [
    `# ${t("file.recovery_key", { email })}`,
    `# ${new Date().toISOString()}`,
    `# ${keys.fingerprint}`,
    recoveryKey,
    "",
  ].join("\n");
  offerText("#recovery-download", file);
  section.hidden = false;
  $("#recovery-title").focus();
  $("#recovery-continue").addEventListener("click", () => {
    if (!$("#recovery-saved").checked) {
      say("#form-error", t("error.recovery_unsaved"), "error");
      $("#recovery-saved").focus();
      return;
    }
    $("#recovery-key").textContent = "";
    onDone();
  });
}

// Both copies of ``keys`` (passphrase and a new recovery key) replace what the server keeps.
async function storeWrapped(keys, passphrase) {
  const both = await identity.wrapBoth(keys, passphrase);
  await api("PUT", "/api/v1/keys/me/wrapped", {
    wrapped: toBase64(both.wrapped),
    recovery: toBase64(both.recovery),
    fingerprint: keys.fingerprint,
  });
  return both.recoveryKey;
}

function newPassphrase(form, first, second) {
  const data = new FormData(form);
  const passphrase = String(data.get("passphrase") || "");
  if (passphrase !== String(data.get("confirmation") || "")) {
    say("#form-error", t("error.passphrase_mismatch"), "error");
    $(second).focus();
    return null;
  }
  if (passphrase.length < 12) {
    say("#form-error", t("error.passphrase_short"), "error");
    $(first).focus();
    return null;
  }
  return passphrase;
}

function identityPage() {
  const userId = body.dataset.userId;
  const current = body.dataset.currentRecipient || "";
  const create = $("#create-identity-form");
  const unlock = $("#unlock-identity-form");
  const recover = $("#recover-identity-form");
  const done = (keys) => {
    identity.remember(userId, keys);
    location.assign(nextPage("/inbox"));
  };
  const clear = () => {
    say("#form-error", "");
    say("#form-status", "");
  };
  if (unlock) {
    unlock.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      say("#form-status", t("status.unwrapping"));
      try {
        const answer = await api("GET", "/api/v1/keys/me/wrapped");
        let keys;
        try {
          keys = await identity.unwrap(fromBase64(answer.wrapped), new FormData(unlock).get("passphrase"));
        } catch {
          say("#form-status", "");
          say("#form-error", t("error.passphrase"), "error");
          $("#passphrase").focus();
          return;
        }
        if (!current) {
          await api("PUT", "/api/v1/keys/me", await identity.bundle(keys)); // finish an interrupted setup
        } else if (current !== keys.recipient) {
          say("#form-status", "");
          say("#form-error", t("error.not_current_key"), "error");
          return;
        }
        if (!answer.recovery) {
          // A key kept from before recovery keys: give it one now, shown once.
          const fresh = await storeWrapped(keys, String(new FormData(unlock).get("passphrase")));
          unlock.hidden = true;
          say("#form-status", "");
          showRecoveryKey(keys, fresh, () => done(keys));
          return;
        }
        done(keys);
      } catch (error) {
        say("#form-status", "");
        say("#form-error", explain(error), "error");
      }
    });
    $("#forgot-button").addEventListener("click", () => {
      clear();
      unlock.hidden = true;
      recover.hidden = false;
      $("#recovery-input").focus();
    });
  }
  if (recover) {
    recover.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      say("#recover-error", "");
      const recoveryKey = identity.parseRecoveryKey(new FormData(recover).get("recovery_key"));
      if (!recoveryKey) {
        say("#recover-error", t("error.recovery_key"), "error");
        $("#recovery-input").focus();
        return;
      }
      const passphrase = newPassphrase(recover, "#new-passphrase", "#new-confirmation");
      if (passphrase === null) return;
      const submit = recover.querySelector("button[type=submit]");
      submit.disabled = true;
      say("#form-status", t("status.unwrapping"));
      try {
        const answer = await api("GET", "/api/v1/keys/me/wrapped");
        if (!answer.recovery) {
          say("#form-status", "");
          say("#recover-error", t("error.no_recovery"), "error");
          return;
        }
        let keys;
        try {
          keys = await identity.unwrapWithRecovery(fromBase64(answer.recovery), recoveryKey);
        } catch {
          say("#form-status", "");
          say("#recover-error", t("error.recovery_key"), "error");
          $("#recovery-input").focus();
          return;
        }
        if (current && current !== keys.recipient) {
          say("#form-status", "");
          say("#recover-error", t("error.not_current_key"), "error");
          return;
        }
        if (!current) await api("PUT", "/api/v1/keys/me", await identity.bundle(keys));
        const fresh = await storeWrapped(keys, passphrase);
        recover.reset();
        recover.hidden = true;
        say("#form-status", t("status.recovered"), "success");
        showRecoveryKey(keys, fresh, () => done(keys));
      } catch (error) {
        say("#form-status", "");
        say("#form-error", explain(error), "error");
      } finally {
        submit.disabled = false;
      }
    });
  }
  if (create) {
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      const passphrase = newPassphrase(create, "#passphrase", "#confirmation");
      if (passphrase === null) return;
      create.querySelector("button[type=submit]").disabled = true;
      say("#form-status", t("status.generating"));
      try {
        const keys = await identity.generateKeys();
        // Stored wrapped first, then published: a published key always has its private part.
        const recoveryKey = await storeWrapped(keys, passphrase);
        await api("PUT", "/api/v1/keys/me", await identity.bundle(keys));
        create.reset();
        create.hidden = true;
        $("#create-intro").hidden = true;
        say("#form-status", "");
        showRecoveryKey(keys, recoveryKey, () => done(keys));
      } catch (error) {
        say("#form-status", "");
        say("#form-error", explain(error), "error");
        create.querySelector("button[type=submit]").disabled = false;
      }
    });
  }
}

// -- correspondents' keys: this browser's pins, compared with the directory -----------------

const LOOKUP_BATCH = 50; // the directory's limit of names per query

async function directoryByUser(emails) {
  const found = new Map();
  for (let start = 0; start < emails.length; start += LOOKUP_BATCH) {
    for (const entry of await transfer.lookup(emails.slice(start, start + LOOKUP_BATCH))) {
      found.set(entry.user_id, entry);
    }
  }
  return found;
}

function keysPage() {
  const me = body.dataset.userId;
  const canLookup = body.dataset.canLookup === "true";
  const rows = $("#pins-body");
  const form = $("#compare-form");
  let candidate = null; // the directory entry shown in the comparison

  const cell = (text, className) => {
    const td = document.createElement("td");
    if (className) {
      const code = document.createElement("code");
      code.className = className;
      code.textContent = text;
      td.append(code);
    } else {
      td.textContent = text;
    }
    return td;
  };
  const button = (label, aria, onClick) => {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "secondary";
    element.textContent = label;
    element.setAttribute("aria-label", aria);
    element.addEventListener("click", onClick);
    return element;
  };

  const render = async () => {
    const pins = transfer.listPins(me);
    $("#pins-table").hidden = pins.length === 0;
    $("#pins-empty").hidden = pins.length !== 0;
    let current = null;
    if (canLookup && pins.length) {
      try {
        current = await directoryByUser(pins.map((pin) => pin.email));
      } catch (error) {
        say("#form-error", explain(error), "error");
      }
    }
    rows.replaceChildren();
    for (const pin of pins) {
      const row = document.createElement("tr");
      row.dataset.pinOf = pin.userId;
      row.append(cell(pin.email), cell(pin.fingerprint, "fingerprint"));
      const entry = current ? current.get(pin.userId) : undefined;
      let state = "unchecked";
      if (current) state = entry === undefined ? "absent" : entry.fingerprint === pin.fingerprint ? "same" : "changed";
      const status = cell(t(`keys.${state}`, { fingerprint: entry ? entry.fingerprint : "" }));
      status.dataset.state = state;
      if (state === "changed" || state === "absent") status.dataset.kind = "error";
      row.append(status);
      const actions = document.createElement("div");
      actions.className = "actions";
      if (state === "changed") {
        actions.append(
          button(t("keys.compare"), t("keys.compare_label", { email: pin.email }), () => {
            $("#compare-email").value = pin.email;
            form.requestSubmit();
          }),
        );
      }
      actions.append(
        button(t("keys.forget"), t("keys.forget_label", { email: pin.email }), () => {
          transfer.unpin(me, pin.userId);
          say("#form-status", t("keys.forgotten", { email: pin.email }), "success");
          render();
        }),
      );
      const last = document.createElement("td");
      last.append(actions);
      row.append(last);
      rows.append(row);
    }
  };

  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("#form-error", "");
      say("#form-status", "");
      $("#compare-result").hidden = true;
      candidate = null;
      const email = String(new FormData(form).get("email") || "").trim();
      if (!email) {
        $("#compare-email").focus();
        return;
      }
      try {
        const [entry] = (await transfer.lookup([email])).filter((item) => item.email === email.toLowerCase());
        if (!entry) {
          say("#form-error", t("keys.not_found"), "error");
          return;
        }
        candidate = entry;
        const known = transfer.listPins(me).find((pin) => pin.userId === entry.user_id);
        $("#compare-who").textContent = `${entry.email} (${entry.org})`;
        $("#compare-fingerprint").textContent = entry.fingerprint;
        const state = !known ? "compare_new" : known.fingerprint === entry.fingerprint ? "compare_same" : "compare_changed";
        say("#compare-state", t(`keys.${state}`, { fingerprint: known ? known.fingerprint : "" }), state === "compare_changed" ? "error" : "info");
        $("#compare-checked").checked = false;
        $("#compare-pin").hidden = state === "compare_same";
        $("#compare-result").hidden = false;
        $("#compare-fingerprint").focus();
      } catch (error) {
        say("#form-error", explain(error), "error");
      }
    });
    $("#compare-pin").addEventListener("click", () => {
      if (!candidate) return;
      if (!$("#compare-checked").checked) {
        say("#form-error", t("error.compare_unchecked"), "error");
        $("#compare-checked").focus();
        return;
      }
      say("#form-error", "");
      transfer.pin(me, candidate.user_id, candidate.email, candidate.fingerprint);
      say("#form-status", t("keys.pinned_now", { email: candidate.email }), "success");
      $("#compare-result").hidden = true;
      candidate = null;
      render();
    });
  }
  return render();
}

// -- inbox: names decrypted here ------------------------------------------------------------

async function inboxPage() {
  const keys = await identity.recall(body.dataset.userId);
  const cells = document.querySelectorAll("[data-name-of]");
  if (!keys || !cells.length) return;
  const listing = await api("GET", "/api/v1/transfers?box=inbox");
  const byId = new Map(listing.transfers.map((item) => [item.id, item]));
  for (const cell of cells) {
    const item = byId.get(cell.dataset.nameOf);
    if (!item) continue;
    try {
      const checked = await transfer.checkTransfer(body.dataset.userId, item, item.id);
      const document = await transfer.readMetadata(keys, checked.metadata);
      cell.textContent = document.name;
    } catch (error) {
      cell.textContent = explain(error);
      cell.dataset.kind = "error";
    }
  }
}

// -- one transfer: verify, decrypt, save ------------------------------------------------------

// The decrypted file offered for saving: its object URL and its spill file live until the
// next decryption or until the page is left (a later page load sweeps what this one left).
let offered = null;

function offer(result) {
  withdraw();
  const url = URL.createObjectURL(result.blob);
  offered = { url, discard: result.discard };
  const link = $("#save-link");
  link.href = url;
  link.download = result.name;
  link.textContent = t("status.save", { name: result.name });
  link.hidden = false;
  return link;
}

function withdraw() {
  if (!offered) return;
  const { url, discard } = offered;
  offered = null;
  const link = $("#save-link");
  if (link) {
    link.hidden = true;
    link.removeAttribute("href");
  }
  URL.revokeObjectURL(url);
  discard();
}

addEventListener("pagehide", withdraw);

function transferPage() {
  const button = $("#decrypt-button");
  if (!button) return;
  button.addEventListener("click", async () => {
    const keys = await keysOrRedirect();
    if (!keys) return;
    button.disabled = true;
    say("#form-error", "");
    $("#key-warning").hidden = true;
    say("#form-status", t("status.verifying"));
    withdraw();
    try {
      const result = await transfer.receive(body.dataset.userId, keys, body.dataset.transferId, showProgress);
      const link = offer(result);
      say("#form-status", t("status.verified", { name: result.name }), "success");
      link.click();
      link.focus();
    } catch (error) {
      say("#form-status", "");
      if (error instanceof transfer.Refusal && error.code === "key_changed") {
        const warning = $("#key-warning");
        $("#pinned-fingerprint").textContent = error.detail.pinned;
        $("#offered-fingerprint").textContent = error.detail.offered;
        warning.hidden = false;
        $("#trust-button").onclick = () => {
          transfer.pin(body.dataset.userId, error.detail.userId, error.detail.email, error.detail.offered);
          warning.hidden = true;
          button.disabled = false;
          button.focus();
        };
      }
      say("#form-error", explain(error), "error");
      button.disabled = false;
    }
  });
}

// -- send ---------------------------------------------------------------------------------------

function sendPage() {
  const form = $("#send-form");
  const find = $("#find-button");
  let found = [];
  $("#patient").addEventListener("change", () => {
    $("#patient-fields").hidden = !$("#patient").checked;
    $("#recipient-fields").hidden = $("#patient").checked;
  });
  find.addEventListener("click", async () => {
    say("#form-error", "");
    const targets = String($("#to").value).split(/[,;\s]+/).filter(Boolean);
    if (!targets.length) {
      say("#form-error", t("error.no_target"), "error");
      $("#to").focus();
      return;
    }
    try {
      found = await transfer.lookup(targets);
    } catch (error) {
      say("#form-error", explain(error), "error");
      return;
    }
    const list = $("#recipient-list");
    list.replaceChildren();
    for (const [index, entry] of found.entries()) {
      const item = document.createElement("li");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.id = `recipient-${index}`;
      box.value = entry.user_id;
      box.name = "recipient";
      const label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = `${entry.email} (${entry.org})`;
      const fp = document.createElement("code");
      fp.className = "fingerprint";
      fp.textContent = entry.fingerprint;
      item.append(box, " ", label, " ", fp);
      list.append(item);
    }
    say("#recipient-status", found.length ? t("status.found", { count: found.length }) : t("error.none_found"));
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    const keys = await keysOrRedirect();
    if (!keys) return;
    const patient = $("#patient").checked;
    const passphrase = patient ? String($("#patient-passphrase").value) : "";
    if (patient && passphrase.length < 12) {
      say("#form-error", t("error.passphrase_short"), "error");
      $("#patient-passphrase").focus();
      return;
    }
    const chosen = new Set(Array.from(form.querySelectorAll("input[name=recipient]:checked"), (b) => b.value));
    const recipients = found.filter((entry) => chosen.has(entry.user_id));
    const file = $("#file").files[0];
    if (!file) {
      say("#form-error", t("error.no_file"), "error");
      $("#file").focus();
      return;
    }
    if (!patient && !recipients.length) {
      say("#form-error", t("error.no_recipient"), "error");
      $("#to").focus();
      return;
    }
    const options = {
      expiresIn: Number.parseInt($("#expires").value, 10) || undefined,
      maxDownloads: Number.parseInt($("#max-downloads").value, 10) || undefined,
      note: $("#note").value,
      passphrase: patient ? passphrase : undefined,
    };
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const sealed = await transfer.send(body.dataset.userId, keys, file, recipients, options, showProgress);
      const link = $("#sent-link");
      link.href = `/transfers/${sealed.id}`;
      link.textContent = sealed.id;
      link.dataset.transferId = sealed.id;
      $("#sent-result").hidden = false;
      if (patient) {
        $("#patient-link").textContent = `${location.origin}/p/${sealed.id}`;
        $("#patient-result").hidden = false;
      }
      say("#progress-label", t("status.sent"), "success");
      link.focus();
    } catch (error) {
      say("#form-error", explain(error), "error");
    } finally {
      submit.disabled = false;
    }
  });
}

// -- patient link: the passphrase opens it, no account ------------------------------------------

function patientPage() {
  const form = $("#patient-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    say("#form-status", t("status.verifying"));
    withdraw();
    try {
      const passphrase = String(new FormData(form).get("passphrase"));
      const result = await transfer.receiveLink(body.dataset.transferId, passphrase, showProgress);
      const link = offer(result);
      say("#form-status", t("status.link_verified", { email: result.transfer.sender.email, name: result.name }), "success");
      link.click();
      link.focus();
    } catch (error) {
      say("#form-status", "");
      say("#form-error", explain(error), "error");
      $("#passphrase").focus();
    } finally {
      submit.disabled = false;
    }
  });
}

// -- every page --------------------------------------------------------------------------------

function logout() {
  const button = $("#logout-button");
  if (!button) return;
  button.addEventListener("click", async () => {
    identity.forget();
    try {
      await api("DELETE", "/api/v1/auth/session");
    } finally {
      location.assign("/login");
    }
  });
}

const PAGES = {
  login: loginPage,
  enrol: enrolPage,
  identity: identityPage,
  inbox: inboxPage,
  transfer: transferPage,
  send: sendPage,
  patient: patientPage,
  passkeys: passkeysPage,
  keys: keysPage,
  "admin-users": () => admin.usersPage({ $, say, t, explain }),
  "admin-policy": () => admin.policyPage({ $, say, t, explain }),
  "admin-orgs": () => orgsPage({ t, say, explain }),
};

function start() {
  const source = document.getElementById("scelle-messages");
  messages = source ? JSON.parse(source.textContent) : {};
  logout();
  const page = PAGES[body.dataset.page];
  if (page) {
    Promise.resolve(page()).catch((error) => say("#form-error", explain(error), "error"));
  }
  body.dataset.ready = "true";
  // Spill files a closed tab or a left page did not remove; "swept" tells the tests it ran.
  spill.sweep().then((swept) => {
    body.dataset.spill = swept ? "swept" : "none";
  });
}

start();
