// FaceFlow sharing on the local page: the share dialog of the open album (pick people, type the
// recipients, see how many photos the share holds, choose whether their location goes with them,
// share), the album's shares (status, location kept or removed, copy the link, revoke) and the local outbox (the emails the local SES sent, with their links). An ES
// module imported by albums.js, which calls `showShares(albumId)` whenever it shows an album;
// everything else it builds itself inside #album-detail and #albums-view. The people ticked on
// the album's chips (albums.js's "people-selection" event) come ticked in the dialog. API calls go through
// the typed client (`state.client.http`); the outbox is the local-only GET /local/outbox.
import { ApiError } from "./client.js";
import { $, guard, say, state } from "./app.js";

const shares = { albumId: null, polling: null, run: 0, people: [], ticked: new Set() };
window.addEventListener("people-selection", (event) => {
  shares.ticked = new Set(event.detail.map((person) => person.clusterId));
});
const DAYS = [1, 3, 7];

async function api(method, path, params = {}, body = undefined) {
  const result = await state.client.http[method](path, { params: { path: params }, body });
  if (result.response.ok && result.error === undefined) return result.data;
  const error = result.error?.error;
  throw new ApiError(
    result.response.status,
    error?.code ?? String(result.response.status),
    error?.message ?? (result.response.statusText || "Failed"),
  );
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function build() {
  if ($("share-open")) return;
  const days = el("select", { id: "share-days", ariaLabel: "Expires in" },
    ...DAYS.map((d) => el("option", { value: String(d), textContent: `${d} day${d > 1 ? "s" : ""}` })));
  days.value = "3";
  const dialog = el("dialog", { id: "share-dialog" },
    el("h3", { textContent: "Share photos of people" }),
    el("div", { id: "share-people", className: "share-people" }),
    el("p", { id: "share-count", textContent: "Pick people to see how many photos the share holds." }),
    el("label", { textContent: "Recipients (one email per line) " },
      el("textarea", { id: "share-recipients", rows: 3, placeholder: "friend@example.com" })),
    el("label", { textContent: "Expires in " }, days),
    // Off by default: the photos go without where they were taken (GPS, XMP location).
    el("label", { className: "share-location" },
      el("input", { type: "checkbox", id: "share-keep-location" }),
      " Include where each photo was taken (its location, often someone's home)"),
    el("div", { className: "row" },
      el("button", { type: "button", id: "share-create", textContent: "Share" }),
      el("button", { type: "button", id: "share-cancel", textContent: "Close" })),
  );
  const open = el("button", { type: "button", id: "share-open", textContent: "Share people…" });
  const list = el("ul", { id: "share-list", className: "share-list", ariaLive: "polite" });
  const section = el("section", { id: "shares" }, el("h3", { textContent: "Shares" }), list);
  const people = document.querySelector("#people .row"); // beside the people's own actions
  if (people) {
    people.append(open);
    $("people").after(dialog, section);
  } else {
    $("album-detail").prepend(open, dialog, section);
  }
  const outbox = el("details", { id: "outbox" },
    el("summary", { textContent: "Local outbox (emails the local SES sent)" }),
    el("button", { type: "button", id: "outbox-refresh", textContent: "Refresh" }),
    el("ul", { id: "outbox-list" }));
  $("albums-view").append(outbox);

  open.addEventListener("click", guard(openDialog));
  $("share-cancel").addEventListener("click", () => dialog.close());
  $("share-people").addEventListener("change", guard(previewCount));
  $("share-create").addEventListener("click", guard(createShare));
  list.addEventListener("click", guard(onShareAction));
  $("outbox-refresh").addEventListener("click", guard(loadOutbox));
  outbox.addEventListener("toggle", guard(async () => outbox.open && loadOutbox()));
}

function picked() {
  return [...document.querySelectorAll("#share-people input:checked")].map((i) => i.value);
}

async function openDialog() {
  const page = await api("GET", "/albums/{albumId}/clusters", { albumId: shares.albumId });
  shares.people = page.items;
  $("share-people").replaceChildren(
    ...page.items.map((person) => {
      const box = el("input", {
        type: "checkbox",
        value: person.clusterId,
        checked: shares.ticked.has(person.clusterId),
      });
      const face = person.faces[0];
      const label = el("label", { className: "share-person" }, box);
      label.dataset.clusterId = person.clusterId;
      if (face?.cropUrl) label.append(el("img", { src: face.cropUrl, alt: "" }));
      label.append(` ${person.label || "Unnamed"} (${person.size})`);
      return label;
    }),
  );
  if (!page.items.length) $("share-people").textContent = "No people found in this album yet.";
  $("share-dialog").showModal();
  await previewCount();
}

async function previewCount() {
  const clusterIds = picked();
  if (!clusterIds.length) {
    $("share-count").textContent = "Pick people to see how many photos the share holds.";
    return;
  }
  const { photoCount } = await api("POST", "/albums/{albumId}/share/preview",
    { albumId: shares.albumId }, { filters: { clusterIds } });
  $("share-count").textContent = `${photoCount} photo${photoCount === 1 ? "" : "s"} will be shared.`;
  $("share-count").dataset.count = String(photoCount);
}

async function createShare() {
  const recipients = $("share-recipients").value.split(/[\n,;]+/).map((r) => r.trim()).filter(Boolean);
  const share = await api("POST", "/albums/{albumId}/share", { albumId: shares.albumId }, {
    recipients,
    filters: { clusterIds: picked() },
    expiresInDays: Number($("share-days").value),
    keepLocation: $("share-keep-location").checked,
  });
  $("share-dialog").close();
  $("share-recipients").value = "";
  $("share-keep-location").checked = false;
  say(`Sharing ${share.photoCount} photos with ${share.recipients.join(", ")}…`);
  await loadShares();
}

// The album's shares, again every second while one is still building. Only the latest call
// draws the list (calls overlap: a share just made, the poll, another album opened).
async function loadShares() {
  clearTimeout(shares.polling);
  if (!shares.albumId) return;
  const run = ++shares.run;
  const page = await api("GET", "/albums/{albumId}/shares", { albumId: shares.albumId });
  const rows = await Promise.all(page.items.map(async (s) =>
    s.status === "READY" ? api("GET", "/shares/{shareId}", { shareId: s.shareId }) : s));
  if (run !== shares.run) return;
  $("share-list").replaceChildren(...rows.map(shareRow));
  if (!rows.length) $("share-list").append(el("li", { textContent: "Not shared yet." }));
  if (rows.some((s) => s.status === "BUILDING")) shares.polling = setTimeout(guard(loadShares), 1000);
}

function shareRow(share) {
  const until = new Date(share.expiresAt).toLocaleString();
  const row = el("li", {},
    el("strong", { textContent: share.status }),
    ` · ${share.photoCount} photos to ${share.recipients.join(", ")} · until ${until}`,
    ` · ${share.keepLocation ? "with their location" : "location removed"} `);
  row.dataset.shareId = share.shareId;
  row.dataset.keepLocation = String(share.keepLocation);
  row.dataset.status = share.status;
  if (share.error) row.append(` (${share.error.message}) `);
  if (share.archiveUrl) {
    row.dataset.archiveUrl = share.archiveUrl;
    row.append(el("a", { href: share.archiveUrl, textContent: "Download", className: "share-link" }), " ",
      el("button", { type: "button", textContent: "Copy link", className: "share-copy" }));
  }
  if (share.status !== "REVOKED") {
    row.append(el("button", { type: "button", textContent: "Revoke", className: "share-revoke danger" }));
  }
  return row;
}

async function onShareAction(event) {
  const row = event.target.closest("li");
  if (!row?.dataset.shareId) return;
  if (event.target.classList.contains("share-copy")) {
    await copy(row.dataset.archiveUrl);
    say("Link copied.");
  } else if (event.target.classList.contains("share-revoke")) {
    if (!confirm("Revoke this share? Its links stop working at once.")) return;
    await api("DELETE", "/shares/{shareId}", { shareId: row.dataset.shareId });
    await loadShares();
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (plain http, headless): select a field holding it and copy that.
    const field = el("textarea", { value: text });
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
}

async function loadOutbox() {
  const res = await fetch("/local/outbox");
  if (!res.ok) throw new Error(`outbox: ${res.status}`);
  const { items } = await res.json();
  $("outbox-list").replaceChildren(...items.map((m) => {
    const row = el("li", { textContent: `To ${m.to.join(", ")}: ${m.subject} ` });
    for (const link of m.links) row.append(el("a", { href: link, textContent: "open link", className: "outbox-link" }));
    return row;
  }));
  if (!items.length) $("outbox-list").append(el("li", { textContent: "No email sent yet." }));
}

// albums.js calls this whenever it shows an album (or none).
export async function showShares(albumId) {
  build();
  if (albumId === shares.albumId) return;
  shares.albumId = albumId;
  shares.run += 1; // a call still drawing the previous album's shares draws nothing
  clearTimeout(shares.polling);
  $("share-list").replaceChildren();
  if (albumId) await loadShares();
}
