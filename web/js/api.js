/**
 * The one way the portal talks to the SalesLens API: configuration, token storage,
 * the fetch wrapper (one refresh on a rejected token, then back to login) and the
 * renderer for the API's error shape `{"error": {code, message, details: [{field, problem}]}}`.
 */
import { el } from "./dom.js";

const FALLBACK_API_URL = "http://127.0.0.1:8000";
const TIMEOUT_MS = 30_000;
const EXPIRY_MARGIN_MS = 30_000;
const TOKEN_KEYS = {
  access: "saleslens.access_token",
  id: "saleslens.id_token",
  refresh: "saleslens.refresh_token",
  expiresAt: "saleslens.expires_at",
};

// ---------------------------------------------------------------- configuration

let configLoaded = null;

function normalizeConfig(loaded) {
  const values = loaded && typeof loaded === "object" ? loaded : {};
  return { stage: "dev", ...values, apiUrl: String(values.apiUrl || FALLBACK_API_URL).replace(/\/+$/, "") };
}

/** `{apiUrl, stage}` from `config.json` served next to the pages, or the local default. */
export function config() {
  configLoaded ??= fetch("config.json", { cache: "no-store" })
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}))
    .then(normalizeConfig);
  return configLoaded;
}

// ---------------------------------------------------------------- tokens

/** The signed-in user's tokens, kept for this browser tab only (sessionStorage). */
export const session = {
  save(tokens) {
    sessionStorage.setItem(TOKEN_KEYS.access, tokens.access_token);
    if (tokens.id_token) sessionStorage.setItem(TOKEN_KEYS.id, tokens.id_token);
    if (tokens.refresh_token) sessionStorage.setItem(TOKEN_KEYS.refresh, tokens.refresh_token);
    const lifetimeMs = Number(tokens.expires_in || 3600) * 1000;
    sessionStorage.setItem(TOKEN_KEYS.expiresAt, String(Date.now() + lifetimeMs));
  },
  get accessToken() {
    return sessionStorage.getItem(TOKEN_KEYS.access);
  },
  get refreshToken() {
    return sessionStorage.getItem(TOKEN_KEYS.refresh);
  },
  get signedIn() {
    return Boolean(this.accessToken);
  },
  get expired() {
    const expiresAt = Number(sessionStorage.getItem(TOKEN_KEYS.expiresAt) || 0);
    return Date.now() >= expiresAt - EXPIRY_MARGIN_MS;
  },
  clear() {
    for (const key of Object.values(TOKEN_KEYS)) sessionStorage.removeItem(key);
  },
};

// ---------------------------------------------------------------- errors

/** An API error (or a network failure, status 0) with the API's code, message and details. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}. Try again in a moment.`);
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || "http_error";
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

const networkError = () => new ApiError(0, { error: {
  code: "network_error",
  message: "Could not reach SalesLens. Check your connection and try again.",
} });

// ---------------------------------------------------------------- fetch wrapper

async function send(path, { method, body, token }) {
  const { apiUrl } = await config();
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(apiUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw networkError();
  }
}

async function read(response, as = "json") {
  if (response.status === 204) return null;
  const text = await response.text();
  if (as === "text" && response.ok) return text;
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A 401 about the token itself; `not_authorized` is a wrong password and is the caller's to show. */
async function tokenRejected(response) {
  if (response.status !== 401) return false;
  const body = await response.clone().json().catch(() => null);
  return body?.error?.code !== "not_authorized";
}

let refreshing = null;

/** Swap the refresh token for new tokens; concurrent callers share one attempt. */
function refreshSession() {
  refreshing ??= (async () => {
    const refreshToken = session.refreshToken;
    if (!refreshToken) return false;
    try {
      const response = await send("/auth/refresh", { method: "POST", body: { refresh_token: refreshToken } });
      session.save(await read(response));
      return true;
    } catch (error) {
      if (error.status === 0) throw error;
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * Call the API and return its JSON (null for 204); throws ApiError.
 * Authenticated calls (the default) refresh the tokens once when they are expired or
 * rejected, and send the user back to the login page when that does not help.
 * `as: "text"` returns the body as text (CSV downloads).
 */
export async function api(path, { method = "GET", body, auth = true, as = "json" } = {}) {
  if (!auth) return read(await send(path, { method, body }), as);
  let refreshed = false;
  if (session.expired && session.refreshToken) {
    refreshed = true;
    await refreshSession();
  }
  let response = await send(path, { method, body, token: session.accessToken });
  if (!refreshed && (await tokenRejected(response)) && (await refreshSession())) {
    response = await send(path, { method, body, token: session.accessToken });
  }
  if (await tokenRejected(response)) {
    session.clear();
    location.assign("index.html?expired=1");
  }
  return read(response, as);
}

// ---------------------------------------------------------------- error rendering

function errorBox(scope) {
  let box = scope.querySelector(".form-error");
  if (!box) {
    box = el("div", { class: "form-error", role: "alert" });
    scope.prepend(box);
  }
  return box;
}

function findControl(scope, field) {
  const control = scope.querySelector(`[name="${CSS.escape(field)}"]`);
  return control && !control.closest("[hidden]") ? control : null;
}

function markField(control, problem) {
  const id = `${control.id || control.name}-error`;
  const existing = document.getElementById(id);
  if (existing) {
    existing.append(` ${problem}`);
    return;
  }
  const note = el("p", { class: "field-error", id }, problem);
  control.dataset.describedby ??= control.getAttribute("aria-describedby") || "";
  control.setAttribute("aria-describedby", `${control.dataset.describedby} ${note.id}`.trim());
  control.setAttribute("aria-invalid", "true");
  control.after(note);
}

/** Remove every error message shown inside `scope` (a form or any container). */
export function clearErrors(scope) {
  for (const note of scope.querySelectorAll(".field-error")) note.remove();
  for (const control of scope.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
    const original = control.dataset.describedby;
    if (original) control.setAttribute("aria-describedby", original);
    else control.removeAttribute("aria-describedby");
    delete control.dataset.describedby;
  }
  const box = scope.querySelector(".form-error");
  if (box) {
    box.replaceChildren();
    box.hidden = true;
  }
}

/**
 * Show `error` inside `scope`: its message in the scope's `.form-error` box, each detail
 * beside the control named like its `field` (details without a visible control join the box).
 */
export function showError(scope, error) {
  if (!(error instanceof ApiError)) console.error(error);
  const problem = error instanceof ApiError ? error : new ApiError(0, { error: {
    code: "unexpected", message: "Something went wrong on this page. Reload it and try again.",
  } });
  clearErrors(scope);
  const unplaced = [];
  for (const { field, problem: text } of problem.details) {
    const control = field ? findControl(scope, field) : null;
    if (control) markField(control, text);
    else unplaced.push(field ? `${field}: ${text}` : text);
  }
  const box = errorBox(scope);
  box.append(el("p", {}, problem.message));
  if (unplaced.length) box.append(el("ul", {}, unplaced.map((text) => el("li", {}, text))));
  box.hidden = false;
  scope.querySelector("[aria-invalid]")?.focus();
}
