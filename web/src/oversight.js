// The oversight pages' one form: create an organisation (and, optionally, its first admin).
// The tables are server-rendered; this only posts the form to the API (with the CSRF token,
// through api()) and shows the one-time enrolment link, whose token is in the fragment.
import { ApiError, api } from "./api.js";

// As the server's rule (accounts/service.py ORG_NAME), checked before the request.
const ORG_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

export function orgsPage({ t, say, explain }) {
  const form = document.getElementById("create-org-form");
  if (!form) return;
  const nameInput = document.getElementById("org-name");
  const emailInput = document.getElementById("admin-email");
  const result = document.getElementById("enrolment-result");
  const link = document.getElementById("enrolment-link");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("#form-error", "");
    say("#form-status", "");
    result.hidden = true;
    const name = String(nameInput.value || "").trim().toLowerCase();
    const email = String(emailInput.value || "").trim();
    if (!ORG_NAME.test(name)) {
      say("#form-error", t("error.org_name"), "error");
      nameInput.focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const created = await api("POST", "/api/v1/admin/orgs", { name, admin_email: email || null });
      say("#form-status", t("status.org_created", { name: created.organisation.name }), "success");
      form.reset();
      if (created.enrolment_url) {
        link.href = created.enrolment_url;
        link.textContent = created.enrolment_url;
        result.hidden = false;
        link.focus();
      }
      appendRow(created.organisation);
    } catch (error) {
      let text = explain(error);
      if (error instanceof ApiError && error.status === 409) text = t("error.org_exists");
      else if (error instanceof ApiError && error.status === 422) {
        text = email ? t("error.bad_email") : t("error.org_name");
      }
      say("#form-error", text, "error");
      nameInput.focus();
    } finally {
      submit.disabled = false;
    }
  });
}

function appendRow(org) {
  const table = document.getElementById("orgs-table");
  const body = table && table.querySelector("tbody");
  if (!body) return;
  const row = document.createElement("tr");
  row.dataset.org = org.name;
  const name = document.createElement("th");
  name.scope = "row";
  name.textContent = org.name;
  const created = document.createElement("td");
  const time = document.createElement("time");
  time.dateTime = org.created_at;
  time.textContent = org.created_at.slice(0, 16).replace("T", " ") + " UTC";
  created.append(time);
  row.append(name, created);
  for (const value of [org.members, org.active, org.pending, org.disabled]) {
    const cell = document.createElement("td");
    cell.textContent = String(value);
    row.append(cell);
  }
  const roles = document.createElement("td");
  roles.textContent = org.passkey_roles.join(", ") || table.dataset.noRole;
  row.append(roles);
  body.append(row);
}
