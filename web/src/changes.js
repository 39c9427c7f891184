// Account and organisation changes made from a page (passkeys, the admin pages): when the
// server answers reauthentication_required (a login older than its window) the page asks
// for the password and a code and sends the change again; a change's message is said once
// the page has reloaded with the new state.
import { ApiError } from "./api.js";

const FLASH = "scelle-flash";

// Say a message (a key of the page's words) once the page has reloaded.
export function reloadWith(message) {
  sessionStorage.setItem(FLASH, message);
  location.reload();
}

export function showFlash(ui) {
  const flash = sessionStorage.getItem(FLASH);
  if (!flash) return;
  sessionStorage.removeItem(FLASH);
  ui.say("#form-status", ui.t(flash), "success");
}

// Run `action(proof)`; on `reauthentication_required` show the proof form and run it
// again with the password and code (once per proof: the code is spent).
export function freshProof(ui, passkeyMessage) {
  const form = ui.$("#reauth-form");
  let pending = null;

  const run = async (action, fail, proof) => {
    ui.say("#form-error", "");
    try {
      await action(proof);
      form.hidden = true;
    } catch (error) {
      if (error instanceof ApiError && error.code === "reauthentication_required") {
        if (proof) {
          form.hidden = true;
          ui.say("#form-error", ui.t(passkeyMessage), "error");
          return;
        }
        pending = { action, fail };
        form.reset();
        form.hidden = false;
        ui.say("#form-status", ui.t("status.reauth"));
        ui.$("#reauth-password").focus();
        return;
      }
      if (proof && error instanceof ApiError && error.status === 401) {
        pending = { action, fail }; // a wrong password or code: the form stays, try again
        ui.$("#reauth-password").focus();
      } else {
        form.hidden = true;
      }
      ui.say("#form-status", "");
      ui.say("#form-error", fail(error), "error");
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const proof = { password: String(data.get("password") || ""), otp: String(data.get("otp") || "").trim() };
    if (!pending || !proof.password || !proof.otp) {
      ui.say("#form-error", ui.t("error.no_otp"), "error");
      return;
    }
    const { action, fail } = pending;
    pending = null;
    form.reset();
    ui.say("#form-status", "");
    run(action, fail, proof);
  });
  ui.$("#reauth-cancel").addEventListener("click", () => {
    pending = null;
    form.hidden = true;
    ui.say("#form-status", "");
  });
  return run;
}
