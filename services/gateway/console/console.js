// The agent console: sign in, find a customer, read and follow their timeline, add notes, set their name.
// API data only ever reaches the page through textContent and attributes, never as HTML.
import { onSessionEnded } from "./api.js";
import { hashParams, signIn, signOut, start } from "./auth.js";
import { openCustomer } from "./customer.js";
import { $ } from "./dom.js";
import { buildFilters } from "./filters.js";
import { addNote } from "./notes.js";
import { closeRename, openRename, refreshProfile, saveName } from "./profile.js";
import { search, searchMore } from "./search.js";
import { state } from "./state.js";
import { onCustomerMoved, onProfileChanged } from "./timeline.js";

onSessionEnded(signOut);
onCustomerMoved(() => openCustomer(state.customer, { focus: false }));
onProfileChanged(refreshProfile);

buildFilters();
$("zone").textContent = `Times in ${Intl.DateTimeFormat().resolvedOptions().timeZone}`;
$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token-input").value.trim();
  if (token) signIn(token);
});
$("sign-out").addEventListener("click", () => signOut("You have signed out."));
$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("search-input").value.trim();
  if (text) search(text);
});
$("more-results").addEventListener("click", searchMore);
$("note-form").addEventListener("submit", addNote);
$("rename-open").addEventListener("click", openRename);
$("rename-cancel").addEventListener("click", closeRename);
$("rename-form").addEventListener("submit", saveName);
window.addEventListener("hashchange", () => {
  const customer = hashParams().get("customer");
  if (state.token && customer && customer !== state.customer) openCustomer(customer);
});

start();
