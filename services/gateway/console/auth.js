// Signing in with an agent's bearer token, kept for the browser tab so a reload stays signed in.
import { $, el } from "./dom.js";
import { openCustomer } from "./customer.js";
import { stopStream } from "./live.js";
import { state } from "./state.js";

const TOKEN_KEY = "crm.console.token";

export function hashParams() {
  return new URLSearchParams(location.hash.slice(1));
}

function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

export function start() {
  const params = hashParams();
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const customer = params.get("customer");
    history.replaceState(null, "", location.pathname + location.search + (customer ? `#customer=${customer}` : ""));
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else showSignIn("");
}

export function signIn(token) {
  const claims = tokenClaims(token);
  if (claims && claims.exp && claims.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("This token has expired. Paste a new one.");
    return;
  }
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("agent-name").replaceChildren(claims ? claims.sub : "Signed in");
  if (claims && claims.role) $("agent-name").append(el("span", { class: "agent-role" }, ` · ${claims.role}`));
  $("sign-in-view").hidden = true;
  $("console-view").hidden = false;
  $("session").hidden = false;
  const customer = hashParams().get("customer");
  if (customer) openCustomer(customer);
  else $("search-input").focus();
}

export function signOut(message) {
  stopStream();
  state.view += 1;
  state.token = "";
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn(message);
}

function showSignIn(message) {
  $("console-view").hidden = true;
  $("session").hidden = true;
  $("sign-in-view").hidden = false;
  $("sign-in-message").textContent = message;
  $("sign-in-message").hidden = !message;
  $("token-input").value = "";
  $("token-input").focus();
}
