// Calls to the gateway's JSON API with the agent's token; a failure is an ApiError with the server's message.
import { state } from "./state.js";

const JSON_TYPE = { "Content-Type": "application/json" };
const NETWORK_ERROR = "Could not reach the server. Check the connection and try again.";
const SESSION_ENDED = "Your session has ended or the token was not accepted. Sign in again.";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.details = Array.isArray(error.details) ? error.details : [];
  }

  get fieldViolations() {
    return this.details.flatMap((detail) => detail.fieldViolations || []);
  }
}

// Signing out needs modules that themselves call the API, so the entry point plugs it in here.
let sessionEnded = () => {};

export function onSessionEnded(handler) {
  sessionEnded = handler;
}

export function authorization() {
  return { Authorization: `Bearer ${state.token}` };
}

export function checkSession(response) {
  if (response.status === 401) sessionEnded(SESSION_ENDED);
}

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...authorization(), ...(body === undefined ? {} : JSON_TYPE) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: { message: NETWORK_ERROR } });
  }
  const data = await response.json().catch(() => null);
  checkSession(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data || {};
}

export function newRequestId() {
  // randomUUID exists only in secure contexts: plain http to a host other than localhost lacks it.
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
