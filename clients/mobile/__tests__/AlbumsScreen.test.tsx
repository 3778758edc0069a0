// First: the picker mock must be in place before the app's modules load.
import { willPick } from "./picker";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react-native";
import { AppState } from "react-native";

import { createApi } from "../src/api";
import { AlbumsScreen } from "../src/screens/AlbumsScreen";
import { pendingUploads } from "../src/uploads";
import { API, apiError, ID_TOKEN, stubNetwork } from "./network";

const api = () => createApi(`${API}/`, () => ID_TOKEN);
const ALBUM = { albumId: "a1", name: "Holiday", createdAt: "2026-12-01T10:00:00Z", photoCount: 0 };
const counts = (c: Partial<Record<string, number>> = {}) => ({ total: 0, processed: 0, duplicates: 0, failed: 0, pending: 0, ...c });
const IDLE = { body: { albumId: "a1", status: "IDLE", photos: counts(), faces: 0, clusters: 0, jobs: [] } };
const EMPTY = { body: { items: [], nextToken: null } };
const QUIET = {
  "GET /albums/a1/status": IDLE,
  "GET /albums/a1/photos": EMPTY,
  "GET /albums/a1/clusters": EMPTY,
  "GET /albums/a1/edits": { body: { items: [] } },
};
const asset = (name: string, bytes: string) => ({
  uri: `http://device.test/${name}`,
  fileName: name,
  mimeType: "image/jpeg",
  fileSize: bytes.length,
  file: new Blob([bytes]) as File,
});

test("no albums yet: says so; creating one opens it", async () => {
  const net = stubNetwork({
    "GET /albums": EMPTY,
    "POST /albums": { status: 201, body: { albumId: "a1", name: "Holiday", createdAt: ALBUM.createdAt } },
    ...QUIET,
  });
  render(<AlbumsScreen api={api()} />);
  expect(screen.getByLabelText("Loading albums…")).toBeTruthy();
  expect(await screen.findByText("No albums yet: create one above.")).toBeTruthy();
  expect(screen.getByRole("button", { name: "Create album" })).toBeDisabled();
  fireEvent.changeText(screen.getByLabelText("New album name"), "  Holiday ");
  fireEvent.press(screen.getByRole("button", { name: "Create album" }));
  expect(await screen.findByRole("heading", { name: "Holiday" })).toBeTruthy();
  expect(net.of("POST", "/albums")[0]!.body).toEqual({ name: "Holiday", purgeOriginals: false });
  expect(await screen.findByText("No photos yet: add some.")).toBeTruthy();
  expect(screen.getByTestId("album-status")).toHaveTextContent(
    "Ready: 0 photos, 0 processed, 0 duplicates, 0 failed, 0 pending; 0 people",
  );
  expect(await screen.findByText("No people found yet.")).toBeTruthy();
});

test("lists albums; an error is shown in the API's words", async () => {
  let calls = 0;
  stubNetwork({
    "GET /albums": () => (++calls === 1 ? apiError(502, "BAD_GATEWAY", "Try again in a moment") : { body: { items: [ALBUM, { ...ALBUM, albumId: "a2", name: "Wedding", photoCount: 1 }], nextToken: null } }),
    "POST /albums": apiError(400, "VALIDATION_ERROR", "name: at most 100 characters"),
  });
  render(<AlbumsScreen api={api()} />);
  expect(await screen.findByRole("alert")).toHaveTextContent("Try again in a moment (BAD_GATEWAY)");
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByRole("button", { name: "Wedding (1 photo)" })).toBeTruthy();
  expect(screen.getByRole("button", { name: "Holiday (0 photos)" })).toBeTruthy();
  fireEvent.changeText(screen.getByLabelText("New album name"), "x");
  fireEvent.press(screen.getByRole("button", { name: "Create album" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("name: at most 100 characters (VALIDATION_ERROR)");
});

async function openHoliday() {
  render(<AlbumsScreen api={api()} />);
  fireEvent.press(await screen.findByRole("button", { name: "Holiday (0 photos)" }));
  await screen.findByText("No photos yet: add some.");
}

test("many photos upload with a progress bar each; a duplicate is not sent", async () => {
  const photos = [
    { photoId: "ph1", fileName: "one.jpg", status: "PROCESSED", duplicateOf: null, width: 10, height: 10, takenAt: null, faces: 1, thumbnailUrl: "http://cdn.test/t1.jpg", error: null },
  ];
  let listed = 0;
  const net = stubNetwork({
    "GET /albums": { body: { items: [ALBUM], nextToken: null } },
    ...QUIET,
    "GET /albums/a1/photos": () => (++listed > 1 ? { body: { items: photos, nextToken: null } } : EMPTY),
    "POST /albums/a1/uploadUrl": (req) =>
      req.body.fileName === "two.jpg"
        ? { status: 201, body: { photoId: "ph2", upload: null, duplicateOf: "ph1" } }
        : { status: 201, body: { photoId: "ph1", upload: { method: "PUT", url: "http://s3.test/put/ph1", headers: { "Content-Type": "image/jpeg" } } } },
    "PUT /put/ph1": { status: 200, headers: { ETag: '"e1"' } },
  });
  const picker = willPick([asset("one.jpg", "abcdef"), asset("two.jpg", "abcdef")]);
  await openHoliday();
  fireEvent.press(screen.getByRole("button", { name: "Add photos" }));
  expect(await screen.findByText("one.jpg: uploaded")).toBeTruthy();
  expect(screen.getByText("two.jpg: already in the album (duplicate), not uploaded (already in the album)")).toBeTruthy();
  expect(picker.launchImageLibraryAsync).toHaveBeenCalledWith(expect.objectContaining({ allowsMultipleSelection: true }));
  expect(screen.getByRole("progressbar", { name: "one.jpg upload" })).toHaveProp("aria-valuenow", 100);
  expect(net.of("POST", "/albums/a1/uploadUrl").map((r) => r.body)).toEqual([
    { fileName: "one.jpg", contentType: "image/jpeg", size: 6 },
    { fileName: "two.jpg", contentType: "image/jpeg", size: 6 },
  ]);
  expect(net.of("PUT", /^\/put\//)).toHaveLength(1);
  expect(await screen.findByLabelText("one.jpg: processed")).toBeTruthy();
});

test("a multipart upload cut off by the background goes on from the stored part list", async () => {
  let part2Tries = 0;
  const net = stubNetwork({
    "GET /albums": { body: { items: [ALBUM], nextToken: null } },
    ...QUIET,
    "POST /albums/a1/uploadUrl": {
      status: 201,
      body: {
        photoId: "big",
        upload: {
          method: "MULTIPART",
          uploadId: "u1",
          partSize: 5,
          parts: [1, 2].map((n) => ({ partNumber: n, url: `http://s3.test/part/${n}` })),
        },
      },
    },
    "PUT /part/1": { headers: { ETag: '"p1"' } },
    // The OS suspended the app mid-part: the connection broke (XHR status 0).
    "PUT /part/2": () => (++part2Tries === 1 ? { status: 0 } : { headers: { ETag: '"p2"' } }),
    "GET /albums/a1/photos/big/upload": {
      body: {
        photoId: "big",
        upload: { method: "MULTIPART", uploadId: "u1", partSize: 5, parts: [1, 2].map((n) => ({ partNumber: n, url: `http://s3.test/part/${n}` })) },
        received: [{ partNumber: 1, etag: '"p1"', size: 5 }],
      },
    },
    "POST /albums/a1/photos/big/complete": { body: { photoId: "big", status: "PROCESSING" } },
    // The picked file, read again from its URI when the upload resumes.
    "GET /big.jpg": { body: new Blob(["0123456789"]) },
  });
  const appState = jest.spyOn(AppState, "addEventListener");
  willPick([asset("big.jpg", "0123456789")]);
  await openHoliday();
  fireEvent.press(screen.getByRole("button", { name: "Add photos" }));
  expect(await screen.findByText("big.jpg: paused (the connection was lost)")).toBeTruthy();
  expect(await pendingUploads()).toEqual({
    "big.jpg|10": expect.objectContaining({ albumId: "a1", photoId: "big", name: "big.jpg" }),
  });
  expect(screen.getByText("Unfinished uploads: big.jpg.")).toBeTruthy();

  const onChange = appState.mock.calls.at(-1)![1];
  await act(async () => onChange("active"));
  expect(await screen.findByText("big.jpg: uploaded")).toBeTruthy();
  expect(net.of("PUT", "/part/1")).toHaveLength(1); // S3 had it: not sent again
  expect(net.of("POST", "/albums/a1/photos/big/complete")[0]!.body).toEqual({
    parts: [
      { partNumber: 1, etag: '"p1"' },
      { partNumber: 2, etag: '"p2"' },
    ],
  });
  expect(await pendingUploads()).toEqual({});
  await waitFor(() => expect(screen.queryByText(/Unfinished uploads/)).toBeNull());
});

test("a refused photo fails alone with the API's reason; the album's status is followed", async () => {
  let polls = 0;
  stubNetwork({
    "GET /albums": { body: { items: [ALBUM], nextToken: null } },
    ...QUIET,
    "GET /albums/a1/status": () =>
      ++polls < 2
        ? IDLE
        : { body: { albumId: "a1", status: "PROCESSING", photos: counts({ total: 1, pending: 1 }), faces: 0, clusters: 0, jobs: [] } },
    "POST /albums/a1/uploadUrl": apiError(413, "PHOTO_TOO_LARGE", "Photos are limited to 25 MB"),
  });
  willPick([asset("huge.jpg", "x")]);
  await openHoliday();
  fireEvent.press(screen.getByRole("button", { name: "Add photos" }));
  expect(await screen.findByText("huge.jpg: failed (Photos are limited to 25 MB (PHOTO_TOO_LARGE))")).toBeTruthy();
  await waitFor(() => expect(screen.getByTestId("album-status")).toHaveTextContent(/^Processing: 1 photos.*1 pending/), { timeout: 5000 });
  expect(within(screen.getByTestId("upload-row")).getByRole("progressbar")).toBeTruthy();
});

test("an upload remembered from before that the API says is done is forgotten", async () => {
  const AsyncStorage = require("@react-native-async-storage/async-storage");
  await AsyncStorage.setItem(
    "albumUploads",
    JSON.stringify({
      "old.jpg|10": { albumId: "a1", photoId: "old", name: "old.jpg", size: 10, type: "image/jpeg", uri: "http://device.test/old.jpg" },
    }),
  );
  stubNetwork({
    "GET /albums": { body: { items: [ALBUM], nextToken: null } },
    ...QUIET,
    "GET /albums/a1/photos/old/upload": apiError(409, "ALREADY_UPLOADED", "This photo is uploaded already"),
  });
  await openHoliday();
  expect(await screen.findByText("Unfinished uploads: old.jpg.")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Resume uploads" }));
  expect(await screen.findByText("old.jpg: failed (This photo is uploaded already (ALREADY_UPLOADED))")).toBeTruthy();
  await waitFor(() => expect(screen.queryByText(/Unfinished uploads/)).toBeNull());
  expect(await pendingUploads()).toEqual({});
});
