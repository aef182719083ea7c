// Finding a customer: the text itself says whether to search emails, phones or names.
import { api } from "./api.js";
import { $, el, setStatus } from "./dom.js";
import { customerTitle, identityText } from "./labels.js";
import { state } from "./state.js";

let nextSearch = null; // loads the last search's next page, when it has one

function searchParams(text) {
  if (text.includes("@")) return { label: "email", params: new URLSearchParams({ "identity.email": text }) };
  const digits = (text.match(/\d/g) || []).length;
  if (/^[\d\s+()-]+$/.test(text) && digits >= 6) {
    return { label: "phone", params: new URLSearchParams({ "identity.phone": text }) };
  }
  return { label: "name", params: new URLSearchParams({ name: text, pageSize: "20" }) };
}

export async function search(text, pageToken = "") {
  const { label, params } = searchParams(text);
  if (pageToken) params.set("pageToken", pageToken);
  if (!pageToken) $("results").replaceChildren();
  $("more-results").hidden = true;
  setStatus($("search-status"), `Searching by ${label}…`);
  try {
    const answer = await api(`/v1/customers:search?${params}`);
    const customers = answer.customers || [];
    customers.forEach((customer) => $("results").append(resultItem(customer)));
    const count = $("results").children.length;
    setStatus($("search-status"), count ? `${count} found by ${label}` : `No customer found by ${label}.`);
    nextSearch = answer.nextPageToken ? () => search(text, answer.nextPageToken) : null;
    $("more-results").hidden = !answer.nextPageToken;
  } catch (error) {
    setStatus($("search-status"), error.message, { retry: () => search(text, pageToken) });
  }
}

export function searchMore() {
  if (nextSearch) nextSearch();
}

function resultItem(customer) {
  const identities = (customer.identities || []).map(identityText).filter(Boolean);
  const button = el(
    "button",
    { type: "button", class: "result", "aria-current": customer.name === state.customer ? "true" : null },
    el("span", { class: "result-name" }, customerTitle(customer)),
    el("span", { class: "result-detail" }, customer.displayName ? identities.join(" · ") : identities.slice(1).join(" · ")),
  );
  button.dataset.customer = customer.name;
  button.addEventListener("click", () => showCustomer(customer.name));
  return el("li", {}, button);
}

function showCustomer(name) {
  location.hash = `customer=${name}`; // the hashchange listener opens it, and reload keeps it
  if (state.customer === name) $("customer-title").focus();
}
