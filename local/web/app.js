// Style Backend's local web page: plain JavaScript served as is (an ES module, no build step at
// run time). It calls the API only through the typed client (clients/typescript, bundled into
// client.js by `make`) exactly as a client app would: config.json, Cognito ID token, presigned S3
// POST; only sign-up / sign-in go through the local-only /local/auth helper (see docs/local.md).
// Progress comes over the WebSocket API (`connectLive`) while it is open, and by polling the REST
// API while it is not: the window events "live-message" (detail: the message) and "live-state"
// (detail: "connecting" | "open" | "closed") tell the page's modules.
import { connectLive, createStyleClient, uploadPhoto } from "./client.js";

const $ = (id) => document.getElementById(id);
const state = {
  client: null,
  token: null,
  sub: null,
  email: null,
  styles: [],
  picked: new Set(),
  websocketUrl: "",
  live: null, // the live connection, once signed in
};
const POLL_MS = 1000;
const TERMINAL = new Set(["COMPLETED", "FAILED"]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

// Signed in: pushes from now on. A dropped socket opens again by itself (a fresh token each
// time); meanwhile `liveOpen()` is false and whoever watches something polls.
function startLive() {
  if (!state.websocketUrl || state.live) return;
  const badge = $("live-state");
  badge.hidden = false;
  state.live = connectLive({
    url: state.websocketUrl,
    token: () => state.token,
    onMessage: (message) => window.dispatchEvent(new CustomEvent("live-message", { detail: message })),
    onState: (live) => {
      badge.dataset.state = live;
      badge.textContent = live === "open" ? "live" : "polling";
      window.dispatchEvent(new CustomEvent("live-state", { detail: live }));
    },
  });
}

const liveOpen = () => state.live?.state === "open";

// The next push about `processId`, or null once `ms` passed or the socket closed.
function nextPush(test, ms) {
  return new Promise((resolve) => {
    const done = (value) => {
      clearTimeout(timer);
      window.removeEventListener("live-message", onMessage);
      window.removeEventListener("live-state", onState);
      resolve(value);
    };
    const onMessage = (event) => test(event.detail) && done(event.detail);
    const onState = (event) => event.detail !== "open" && done(null);
    const timer = setTimeout(() => done(null), ms);
    window.addEventListener("live-message", onMessage);
    window.addEventListener("live-state", onState);
  });
}

async function afterSignIn() {
  startLive();
  window.dispatchEvent(new Event("signed-in")); // albums.js opens the albums view
  $("who").textContent = state.email;
  $("sign-out").hidden = false;
  const agreement = await state.client.getAgreement();
  if (!agreement.agreed) {
    $("terms-version").textContent = agreement.termsVersion;
    $("agree").dataset.version = agreement.termsVersion;
    show("terms-view");
    return;
  }
  await openStudio();
}

// One upload takes at most this many styles (the API's resourceIds maxItems): the first ones are
// picked, and a box past the limit does not tick.
const MAX_STYLES_PER_UPLOAD = 4;

async function openStudio() {
  show(["create-view", "results-view"]);
  const { items } = await state.client.listStyles();
  state.styles = items;
  state.picked = new Set(items.slice(0, MAX_STYLES_PER_UPLOAD).map((s) => s.resourceId));
  const grid = $("styles");
  grid.replaceChildren(
    ...items.map((style) => {
      const card = document.createElement("label");
      card.className = "card";
      card.dataset.resourceId = style.resourceId;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = state.picked.has(style.resourceId);
      box.value = style.resourceId;
      box.addEventListener("change", () => {
        if (box.checked && state.picked.size >= MAX_STYLES_PER_UPLOAD) {
          box.checked = false;
          return;
        }
        box.checked ? state.picked.add(style.resourceId) : state.picked.delete(style.resourceId);
      });
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
  const ticket = await state.client.requestUpload({ contentType: mediaType(file), resourceIds });
  await uploadPhoto(ticket.upload, file);
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

// Read once, then follow the pushes while the socket is open; poll while it is not. A quiet
// minute on an open socket is read again too (a push lost on the way is not waited for forever).
async function watch(processId) {
  let progress = await state.client.getProcess(state.sub, processId);
  for (;;) {
    renderProgress(progress);
    if (TERMINAL.has(progress.status)) return progress;
    const pushed = liveOpen()
      ? await nextPush((m) => m.type === "process.status" && m.processId === processId, 60_000)
      : await sleep(POLL_MS).then(() => null);
    progress = pushed ?? (await state.client.getProcess(state.sub, processId));
  }
}

// `expected`: "processId/resourceId" of results that must be listed. The gallery (its own table)
// may lag a moment behind a COMPLETED status: the completion writes a result's row after it ends
// the style. The page asks again briefly rather than show an incomplete gallery.
async function loadResults(expected = []) {
  let page;
  for (let attempt = 0; ; attempt++) {
    page = await state.client.listResults(state.sub, { limit: 50 });
    const listed = new Set(page.items.map((item) => `${item.processId}/${item.resourceId}`));
    if (attempt >= 10 || expected.every((key) => listed.has(key))) break;
    await sleep(POLL_MS);
  }
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

// albums.js (FaceFlow albums) shares the page's state, its client and its error handling.
// Some browsers give a HEIC or AVIF file no type (Chrome where the system knows none): its
// extension says it, and the API still checks the bytes.
const BY_EXTENSION = { heic: "image/heic", heif: "image/heif", avif: "image/avif" };

function mediaType(file) {
  const extension = file.name.split(".").pop().toLowerCase();
  return file.type || BY_EXTENSION[extension] || "application/octet-stream";
}

export { $, guard, liveOpen, mediaType, say, state };

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
  await state.client.agree($("agree").dataset.version);
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
    const completed = Object.entries(done.styles).filter(([, s]) => s.status === "COMPLETED");
    await loadResults(completed.map(([id]) => `${processId}/${id}`));
  } finally {
    $("upload").disabled = false;
  }
}));
$("refresh-results").addEventListener("click", guard(() => loadResults()));
$("delete-data").addEventListener("click", guard(async () => {
  if (!confirm("Delete every photo and result of yours?")) return;
  await state.client.eraseUserData(state.sub);
  await loadResults();
  $("progress").replaceChildren();
  say("Your data was deleted.");
}));
$("sign-out").addEventListener("click", () => {
  state.live?.close();
  sessionStorage.removeItem("idToken");
  location.reload();
});

(async () => {
  const config = await (await fetch("/config.json")).json();
  state.client = createStyleClient({ baseUrl: config.apiUrl, token: () => state.token });
  state.websocketUrl = config.websocketUrl || "";
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
