// Setting or correcting the customer's name: a change with who and why, shown on their timeline.
import { api, newRequestId } from "./api.js";
import { $, announce, el } from "./dom.js";
import { customerTitle } from "./labels.js";
import { showWritesUpTo } from "./notes.js";
import { state } from "./state.js";

const CHANGED_MEANWHILE = "Someone changed this customer since you opened it. Open the customer again and retry.";
let shown = null; // the customer as last read, with the etag a change must match
let pending = null; // a save being retried keeps its request id, so it changes the customer once

export function showProfile(customer) {
  shown = customer;
  $("rename-open").textContent = customer.displayName ? "Correct name" : "Set name";
  closeRename();
}

// Another agent changed the profile: show it, unless this agent is editing it (a save then meets the etag check).
export async function refreshProfile() {
  if (!$("rename-form").hidden) return;
  const customer = state.customer;
  try {
    const answer = await api(`/v1/${customer}`);
    if (customer !== state.customer || !$("rename-form").hidden) return;
    $("customer-title").textContent = customerTitle(answer.customer);
    showProfile(answer.customer);
  } catch {
    // The heading stays as it was; the timeline entry already says what changed.
  }
}

export function openRename() {
  $("rename-form").hidden = false;
  $("rename-open").setAttribute("aria-expanded", "true");
  $("rename-input").value = (shown && shown.displayName) || "";
  $("rename-reason").value = "";
  $("rename-status").textContent = "";
  showErrors([]);
  $("rename-input").focus();
}

export function closeRename() {
  $("rename-form").hidden = true;
  $("rename-open").setAttribute("aria-expanded", "false");
}

export async function saveName(event) {
  event.preventDefault();
  const displayName = $("rename-input").value.trim();
  const reason = $("rename-reason").value.trim();
  showErrors([]);
  if (!displayName) return showErrors(["Write the name first."]);
  const customer = state.customer;
  if (!pending || pending.customer !== customer || pending.displayName !== displayName || pending.reason !== reason) {
    pending = { customer, displayName, reason, requestId: newRequestId() };
  }
  $("rename-submit").disabled = true;
  $("rename-status").textContent = "Saving…";
  try {
    const body = {
      customer: { displayName, etag: (shown && shown.etag) || "" },
      updateMask: "displayName",
      requestId: pending.requestId,
      reason,
    };
    const answer = await api(`/v1/${customer}`, { method: "PATCH", body });
    pending = null;
    if (customer !== state.customer) return;
    $("customer-title").textContent = customerTitle(answer.customer);
    showProfile(answer.customer);
    announce(`Name saved: ${displayName}`);
    await showWritesUpTo(answer.commitPosition, $("rename-status"), "Name saved");
  } catch (error) {
    $("rename-status").textContent = "";
    const fields = error.fieldViolations.map((violation) => violation.description || violation.field);
    showErrors(error.status === 409 ? [CHANGED_MEANWHILE] : fields.length ? fields : [error.message]);
  } finally {
    $("rename-submit").disabled = false;
  }
}

function showErrors(messages) {
  $("rename-errors").replaceChildren(...messages.map((message) => el("p", {}, message)));
  if (messages.length) {
    $("rename-input").setAttribute("aria-invalid", "true");
    $("rename-input").focus();
  } else {
    $("rename-input").removeAttribute("aria-invalid");
  }
}
