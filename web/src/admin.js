// The organisation admin's pages: members (/admin/users) and policies (/admin/policy).
// The tables and forms are server-rendered and labelled; these controllers send the
// changes to /api/v1/admin/... and, when the admin's login is older than the server's
// re-authentication window, ask for the password and a code and send the change again.
import { ApiError, api } from "./api.js";
import { freshProof, reloadWith, showFlash } from "./changes.js";

// What a refusal means here; `conflict` names the 409 of this action.
function refusal(ui, error, conflict) {
  if (error instanceof ApiError) {
    if (error.status === 404) return ui.t("admin.error.not_found");
    if (error.status === 409 && conflict) return ui.t(conflict);
    if (error.status === 403 && error.code === "permission_denied") return ui.t("admin.error.forbidden");
  }
  return ui.explain(error);
}

function checkedValues(scope, name) {
  return Array.from(scope.querySelectorAll(`input[name=${name}]:checked`), (box) => box.value);
}

function when(iso) {
  // As the server's |when filter: "2026-12-04 18:40 UTC".
  return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    input.select();
    return document.execCommand("copy");
  }
}

// -- members -----------------------------------------------------------------------------

export function usersPage(ui) {
  showFlash(ui);
  const run = freshProof(ui, "admin.error.reauth_passkey");
  const addForm = ui.$("#add-member-form");
  const result = ui.$("#enrolment-result");

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.say("#form-status", "");
    const email = String(ui.$("#member-email").value || "").trim();
    const roles = checkedValues(addForm, "roles");
    if (!email) {
      ui.say("#form-error", ui.t("admin.error.no_email"), "error");
      ui.$("#member-email").focus();
      return;
    }
    if (!roles.length) {
      ui.say("#form-error", ui.t("admin.error.no_role"), "error");
      addForm.querySelector("input[name=roles]").focus();
      return;
    }
    const create = async (proof) => {
      const created = await api("POST", "/api/v1/admin/users", { email, roles, ...proof });
      // Shown once: the token lives in this page only, until it is closed or reloaded.
      ui.$("#enrolment-email").textContent = created.member.email;
      ui.$("#enrolment-link").value = created.enrolment_url;
      ui.$("#enrolment-token").value = created.enrolment_token;
      const expiry = ui.$("#enrolment-expiry");
      expiry.dateTime = created.enrolment_expires_at;
      expiry.textContent = when(created.enrolment_expires_at);
      addForm.reset();
      addForm.querySelector("button[type=submit]").disabled = true;
      result.hidden = false;
      ui.say("#form-status", ui.t("admin.created", { email: created.member.email }), "success");
      result.focus();
    };
    const fail = (error) => {
      if (error instanceof ApiError && error.status === 422) return ui.t("admin.error.invalid_email");
      return refusal(ui, error, "admin.error.email_taken");
    };
    run(create, fail);
  });

  ui.$("#copy-link").addEventListener("click", async () => {
    const copied = await copy(ui.$("#enrolment-link"));
    ui.say("#form-status", ui.t(copied ? "admin.copied" : "admin.copy_failed"), copied ? "success" : "error");
  });
  ui.$("#enrolment-done").addEventListener("click", () => {
    ui.$("#enrolment-link").value = "";
    ui.$("#enrolment-token").value = "";
    location.reload(); // the table then lists the new member; the link is gone for good
  });

  for (const form of document.querySelectorAll(".roles-form")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ui.say("#form-status", "");
      const roles = checkedValues(form, "roles");
      if (!roles.length) {
        ui.say("#form-error", ui.t("admin.error.no_role"), "error");
        form.querySelector("input[name=roles]").focus();
        return;
      }
      const id = encodeURIComponent(form.dataset.memberId);
      run(
        async (proof) => {
          await api("PUT", `/api/v1/admin/users/${id}/roles`, { roles, ...proof });
          reloadWith("admin.roles_saved");
        },
        (error) => refusal(ui, error, "admin.error.own_admin"),
      );
    });
  }

  const ACTIONS = {
    disable: { confirm: "admin.confirm_disable", path: "disable", done: "admin.disabled", conflict: "admin.error.state" },
    enable: { confirm: "admin.confirm_enable", path: "enable", done: "admin.enabled", conflict: "admin.error.state" },
    "reset-passkeys": {
      confirm: "admin.confirm_reset",
      path: "passkeys/reset",
      done: "admin.passkeys_reset",
      conflict: "admin.error.self",
    },
  };
  for (const button of document.querySelectorAll("button[data-action]")) {
    const action = ACTIONS[button.dataset.action];
    if (!action) continue;
    button.addEventListener("click", () => {
      ui.say("#form-status", "");
      if (!window.confirm(ui.t(action.confirm, { email: button.dataset.email }))) return;
      const id = encodeURIComponent(button.dataset.memberId);
      run(
        async (proof) => {
          await api("POST", `/api/v1/admin/users/${id}/${action.path}`, proof);
          reloadWith(action.done);
        },
        (error) => refusal(ui, error, action.conflict),
      );
    });
  }
}

// -- policies ----------------------------------------------------------------------------

export function policyPage(ui) {
  showFlash(ui);
  const run = freshProof(ui, "admin.error.reauth_passkey");
  const sendForm = ui.$("#send-policy-form");
  const passkeyForm = ui.$("#passkey-policy-form");

  sendForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.say("#form-status", "");
    const rules = {};
    for (const select of sendForm.querySelectorAll("select")) rules[select.name] = select.value;
    run(
      async (proof) => {
        await api("PUT", "/api/v1/admin/policy/send", { rules, ...proof });
        reloadWith("admin.policy_saved");
      },
      (error) => refusal(ui, error),
    );
  });

  passkeyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ui.say("#form-status", "");
    const roles = checkedValues(passkeyForm, "roles");
    run(
      async (proof) => {
        await api("PUT", "/api/v1/admin/policy/passkeys", { roles, ...proof });
        reloadWith("admin.passkey_policy_saved");
      },
      (error) => refusal(ui, error),
    );
  });
}
