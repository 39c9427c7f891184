// Entry point of the web UI bundle: each page says what it is in <body data-page>,
// and its controller attaches to the server-rendered, labelled form. No inline script.
import { ApiError, api } from "./api.js";
import { fromBase64, toBase64 } from "./bytes.js";
import * as identity from "./identity.js";
import { orgsPage } from "./oversight.js";
import * as passkey from "./passkey.js";
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
      const begun = await api("POST", "/api/v1/auth/passkey/begin", { email, password });
      say("#form-status", t("status.confirm_device"));
      const credential = await passkey.get(begun.options);
      await api("POST", "/api/v1/auth/passkey/session", { challenge_id: begun.challenge_id, credential });
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
      const credential = await passkey.create(ceremony.options);
      enrolment = null; // spent by the server whatever the outcome
      await api("POST", "/api/v1/auth/passkey/enrol", { challenge_id: ceremony.challenge_id, credential, name });
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

// -- passkeys: list (server-rendered), add, remove; a fresh proof when the login is old ------

const FLASH = "scelle-flash";

function passkeysPage() {
  const flash = sessionStorage.getItem(FLASH);
  if (flash) {
    sessionStorage.removeItem(FLASH);
    say("#form-status", t(flash), "success");
  }
  const addForm = $("#add-passkey-form");
  const reauthForm = $("#reauth-form");
  let pending = null;

  const done = (message) => {
    sessionStorage.setItem(FLASH, message);
    location.reload();
  };
  const fail = (error, context) => {
    say("#form-status", "");
    let text = explainPasskey(error);
    if (error instanceof ApiError && error.status === 409) {
      text = context === "remove" ? t("error.last_passkey") : t("error.passkey_exists");
    }
    say("#form-error", text, "error");
  };
  // Run an account change; when the server asks for a fresh proof, ask for the password
  // and a code, and run it again with them (once per proof: the code is spent).
  const run = async (action, context, proof) => {
    say("#form-error", "");
    try {
      await action(proof);
    } catch (error) {
      if (error instanceof ApiError && error.code === "reauthentication_required") {
        if (proof) {
          reauthForm.hidden = true;
          say("#form-error", t("error.reauth_passkey"), "error");
          return;
        }
        pending = { action, context };
        reauthForm.reset();
        reauthForm.hidden = false;
        say("#form-status", t("status.reauth"));
        $("#reauth-password").focus();
        return;
      }
      if (proof && !(error instanceof ApiError && error.status === 401)) {
        pending = null;
        reauthForm.hidden = true;
      } else if (proof) {
        pending = { action, context }; // a wrong password or code: the form stays, try again
        $("#reauth-password").focus();
      }
      fail(error, context);
    }
  };

  const add = async (proof) => {
    const name = passkeyName("#passkey-name");
    if (name === null) return;
    const begun = await api("POST", "/api/v1/passkeys/register/begin", proof);
    reauthForm.hidden = true;
    say("#form-status", t("status.confirm_device"));
    const credential = await passkey.create(begun.options);
    await api("POST", "/api/v1/passkeys/register/finish", { challenge_id: begun.challenge_id, credential, name });
    done("status.passkey_added");
  };
  const remover = (id) => async (proof) => {
    await api("DELETE", `/api/v1/passkeys/${encodeURIComponent(id)}`, proof);
    done("status.passkey_removed");
  };

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    run(add, "add");
  });
  for (const button of document.querySelectorAll("[data-remove-passkey]")) {
    button.addEventListener("click", () => run(remover(button.dataset.removePasskey), "remove"));
  }
  reauthForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(reauthForm);
    const proof = { password: String(data.get("password") || ""), otp: String(data.get("otp") || "").trim() };
    if (!pending || !proof.password || !proof.otp) {
      say("#form-error", t("error.no_otp"), "error");
      return;
    }
    const { action, context } = pending;
    pending = null;
    reauthForm.reset();
    run(action, context, proof);
  });
  $("#reauth-cancel").addEventListener("click", () => {
    pending = null;
    reauthForm.hidden = true;
    say("#form-status", "");
  });
}

// -- browser identity: create or unlock -------------------------------------------------

function identityPage() {
  const userId = body.dataset.userId;
  const current = body.dataset.currentRecipient || "";
  const create = $("#create-identity-form");
  const unlock = $("#unlock-identity-form");
  const done = (keys) => {
    identity.remember(userId, keys);
    location.assign(nextPage("/inbox"));
  };
  if (unlock) {
    unlock.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("#form-error", "");
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
        done(keys);
      } catch (error) {
        say("#form-status", "");
        say("#form-error", explain(error), "error");
      }
    });
  }
  if (create) {
    create.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("#form-error", "");
      const data = new FormData(create);
      const passphrase = String(data.get("passphrase"));
      if (passphrase !== String(data.get("confirmation"))) {
        say("#form-error", t("error.passphrase_mismatch"), "error");
        $("#confirmation").focus();
        return;
      }
      if (passphrase.length < 12) {
        say("#form-error", t("error.passphrase_short"), "error");
        $("#passphrase").focus();
        return;
      }
      create.querySelector("button[type=submit]").disabled = true;
      say("#form-status", t("status.generating"));
      try {
        const keys = await identity.generateKeys();
        const wrapped = await identity.wrap(keys, passphrase);
        // Stored wrapped first, then published: a published key always has its private part.
        await api("PUT", "/api/v1/keys/me/wrapped", { wrapped: toBase64(wrapped), fingerprint: keys.fingerprint });
        await api("PUT", "/api/v1/keys/me", await identity.bundle(keys));
        done(keys);
      } catch (error) {
        say("#form-status", "");
        say("#form-error", explain(error), "error");
        create.querySelector("button[type=submit]").disabled = false;
      }
    });
  }
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
  identity: identityPage,
  inbox: inboxPage,
  transfer: transferPage,
  send: sendPage,
  patient: patientPage,
  passkeys: passkeysPage,
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
