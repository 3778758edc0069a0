// Style Backend's local web page: plain JavaScript, no build step.
// It talks to the API exactly as a client app would (config.json, Cognito ID token, presigned
// S3 POST); only sign-up / sign-in go through the local-only /local/auth helper (see docs/local.md).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { config: null, token: null, sub: null, email: null, styles: [], picked: new Set() };
const POLL_MS = 1000;
const TERMINAL = new Set(["COMPLETED", "FAILED"]);

function show(view) {
  for (const v of ["auth-view", "terms-view", "create-view", "results-view"]) {
    $(v).hidden = !(Array.isArray(view) ? view.includes(v) : v === view);
  }
}

function say(text, isError = false) {
  $("message").textContent = text || "";
  $("message").className = isError ? "error" : "";
}

function claimsOf(jwt) {
  const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
}

async function api(method, path, body) {
  const res = await fetch(state.config.apiUrl.replace(/\/$/, "") + path, {
    method,
    headers: { Authorization: state.token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = data.error || { code: String(res.status), message: res.statusText };
    throw Object.assign(new Error(`${err.message} (${err.code})`), { status: res.status });
  }
  return data;
}

async function authenticate(action) {
  const body = { email: $("email").value, password: $("password").value };
  const res = await fetch(`/local/auth/${action}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${data.error.message} (${data.error.code})`);
  state.token = data.idToken;
  const claims = claimsOf(data.idToken);
  state.sub = claims.sub;
  state.email = claims.email || body.email;
  sessionStorage.setItem("idToken", data.idToken);
  await afterSignIn();
}

async function afterSignIn() {
  window.dispatchEvent(new Event("signed-in")); // albums.js opens the albums view
  $("who").textContent = state.email;
  $("sign-out").hidden = false;
  const agreement = await api("GET", "/agree");
  if (!agreement.agreed) {
    $("terms-version").textContent = agreement.termsVersion;
    $("agree").dataset.version = agreement.termsVersion;
    show("terms-view");
    return;
  }
  await openStudio();
}

async function openStudio() {
  show(["create-view", "results-view"]);
  const { items } = await api("GET", "/apis/styles");
  state.styles = items;
  state.picked = new Set(items.map((s) => s.resourceId));
  const grid = $("styles");
  grid.replaceChildren(
    ...items.map((style) => {
      const card = document.createElement("label");
      card.className = "card";
      card.dataset.resourceId = style.resourceId;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.value = style.resourceId;
      box.addEventListener("change", () =>
        box.checked ? state.picked.add(style.resourceId) : state.picked.delete(style.resourceId));
      const img = document.createElement("img");
      img.src = style.imageUrl;
      img.alt = `${style.theme} style`;
      const caption = document.createElement("span");
      caption.textContent = `${style.theme} · ${style.resourceId}`;
      card.append(box, img, caption);
      return card;
    }),
  );
  await loadResults();
}

async function upload(file) {
  const resourceIds = [...state.picked];
  if (!resourceIds.length) throw new Error("Pick at least one style.");
  const ticket = await api("POST", "/apis/images/upload", { contentType: file.type, resourceIds });
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.upload.fields)) form.append(name, value);
  form.append("file", file);
  const res = await fetch(ticket.upload.url, { method: "POST", body: form });
  if (!res.ok) throw new Error(`The upload was refused (${res.status}).`);
  return ticket.processId;
}

function renderProgress(progress) {
  const box = $("progress");
  box.dataset.status = progress.status;
  const rows = Object.entries(progress.styles).map(([id, s]) => {
    const row = document.createElement("div");
    row.className = `style-progress ${s.status.toLowerCase()}`;
    row.dataset.resourceId = id;
    row.dataset.status = s.status;
    // A process that failed before swapping never started its styles: say so, not "PENDING".
    const shown = progress.status === "FAILED" && s.status === "PENDING" ? "not started" : s.status;
    row.textContent = `${id}: ${shown}${s.error ? ` — ${s.error.message}` : ""}`;
    return row;
  });
  const head = document.createElement("div");
  head.className = "process-status";
  head.textContent = `Process ${progress.status}` +
    (progress.error ? `: ${progress.error.message} (${progress.error.code})` : "");
  box.replaceChildren(head, ...rows);
}

async function watch(processId) {
  for (;;) {
    const progress = await api("GET", `/apis/images/${state.sub}/processes/${processId}`);
    renderProgress(progress);
    if (TERMINAL.has(progress.status)) return progress;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function loadResults() {
  const page = await api("GET", `/apis/images/${state.sub}?limit=50`);
  $("results").replaceChildren(
    ...page.items.map((item) => {
      const fig = document.createElement("figure");
      fig.className = "result";
      fig.dataset.resourceId = item.resourceId;
      fig.dataset.processId = item.processId;
      const img = document.createElement("img");
      img.src = item.url;
      img.alt = `Result in style ${item.resourceId}`;
      const cap = document.createElement("figcaption");
      cap.textContent = `${item.resourceId} · ${new Date(item.createdAt).toLocaleString()}`;
      fig.append(img, cap);
      return fig;
    }),
  );
  if (!page.items.length) $("results").textContent = "No results yet.";
}

function guard(fn) {
  return async (event) => {
    event?.preventDefault?.();
    say("");
    try {
      await fn(event);
    } catch (err) {
      say(err.message, true);
    }
  };
}

$("auth-form").addEventListener("submit", guard(() => authenticate("signin")));
$("sign-up").addEventListener("click", guard(() => authenticate("signup")));
$("agree").addEventListener("click", guard(async () => {
  await api("POST", "/agree", { termsVersion: $("agree").dataset.version });
  await openStudio();
}));
$("upload-form").addEventListener("submit", guard(async () => {
  const file = $("photo").files[0];
  $("upload").disabled = true;
  try {
    const processId = await upload(file);
    say("Uploaded. Styling…");
    const done = await watch(processId);
    say(done.status === "COMPLETED" ? "Done." : `Failed: ${done.error?.message || "see above"}`,
      done.status !== "COMPLETED");
    await loadResults();
  } finally {
    $("upload").disabled = false;
  }
}));
$("refresh-results").addEventListener("click", guard(loadResults));
$("delete-data").addEventListener("click", guard(async () => {
  if (!confirm("Delete every photo and result of yours?")) return;
  await api("DELETE", `/apis/images/${state.sub}`);
  await loadResults();
  $("progress").replaceChildren();
  say("Your data was deleted.");
}));
$("sign-out").addEventListener("click", () => {
  sessionStorage.removeItem("idToken");
  location.reload();
});

(async () => {
  state.config = await (await fetch("/config.json")).json();
  const saved = sessionStorage.getItem("idToken");
  if (saved && claimsOf(saved).exp * 1000 > Date.now()) {
    state.token = saved;
    const claims = claimsOf(saved);
    state.sub = claims.sub;
    state.email = claims.email || "";
    await guard(afterSignIn)();
  } else {
    show("auth-view");
  }
})();
