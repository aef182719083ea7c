// The customer being looked at: their name and identities above the timeline.
import { api } from "./api.js";
import { $, el, setStatus } from "./dom.js";
import { customerTitle, identityText } from "./labels.js";
import { showProfile } from "./profile.js";
import { state } from "./state.js";
import { clearTimeline, loadTimeline } from "./timeline.js";

const CUSTOMER_NAME = /^customers\/[A-Za-z0-9_-]+$/;

export async function openCustomer(name, { focus = true } = {}) {
  // The name becomes part of API paths: accept nothing but a customer's.
  if (!CUSTOMER_NAME.test(name)) {
    state.customer = "";
    return showCustomerError(`“${name}” is not a customer's name.`);
  }
  if (name !== state.customer) $("note-text").value = ""; // a draft belongs to the customer it was written for
  state.customer = name;
  markCurrentResult();
  $("customer-placeholder").hidden = true;
  $("customer-detail").hidden = false;
  $("customer-title").textContent = "Loading customer…";
  $("customer-identities").replaceChildren();
  $("customer-notice").hidden = true;
  $("note-errors").replaceChildren();
  $("note-status").textContent = "";
  clearTimeline();
  const view = ++state.view;
  try {
    const answer = await api(`/v1/${name}`);
    if (view !== state.view) return;
    showCustomerHead(answer.customer, answer.redirectedFrom);
    if (focus) $("customer-title").focus();
    await loadTimeline();
  } catch (error) {
    if (view === state.view) showCustomerError(error.message, () => openCustomer(name));
  }
}

function showCustomerError(message, retry = null) {
  clearTimeline();
  state.view += 1;
  $("customer-placeholder").hidden = true;
  $("customer-detail").hidden = false;
  $("customer-title").textContent = "Customer not available";
  $("customer-identities").replaceChildren();
  setStatus($("timeline-status"), message, { tone: "error", retry });
}

function showCustomerHead(customer, redirectedFrom) {
  if (customer.name !== state.customer) {
    state.customer = customer.name;
    history.replaceState(null, "", `#customer=${customer.name}`);
    markCurrentResult();
  }
  $("customer-title").textContent = customerTitle(customer);
  showProfile(customer);
  const identities = (customer.identities || []).map((identity) => el("li", {}, identityText(identity)));
  const merged = (customer.mergedFrom || []).length;
  if (merged) identities.push(el("li", { class: "merged" }, `Includes ${merged} merged record${merged === 1 ? "" : "s"}`));
  $("customer-identities").replaceChildren(...identities);
  if (redirectedFrom) {
    $("customer-notice").textContent = `${redirectedFrom} was merged into this customer: this is the merged history.`;
    $("customer-notice").hidden = false;
  }
}

function markCurrentResult() {
  for (const button of document.querySelectorAll(".result")) {
    if (button.dataset.customer === state.customer) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}
