// First: the picker mock must be in place before the app's modules load.
import { willPick } from "./picker";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react-native";

import { createApi } from "../src/api";
import { StudioScreen } from "../src/screens/StudioScreen";
import { API, apiError, ID_TOKEN, stubNetwork } from "./network";

const api = () => createApi(`${API}/`, () => ID_TOKEN);
const THEMES = ["noir-editorial", "golden-hour", "teal-city", "pastel-spring", "neon-night"];
const STYLES = {
  body: {
    items: THEMES.map((theme, i) => ({
      resourceId: `s${i + 1}`,
      theme,
      gender: "female",
      skinTone: "medium",
      imageUrl: `http://cdn.test/${theme}.jpg`,
    })),
  },
};
const TICKET = {
  status: 201,
  body: { processId: "p1", upload: { url: "http://s3.test/bucket", fields: { key: "u/p1.jpg", policy: "x" } }, expiresIn: 300 },
};
const SELFIE = { uri: "file:///selfie.jpg", fileName: "selfie.jpg", mimeType: "image/jpeg", fileSize: 1234 };
const result = (resourceId: string) => ({
  resultId: `r-${resourceId}`,
  processId: "p1",
  resourceId,
  url: `http://cdn.test/result-${resourceId}.jpg`,
  createdAt: "2026-12-01T10:00:00Z",
});

test("lists the styles, picks the first four and never a fifth", async () => {
  stubNetwork({ "GET /apis/styles": STYLES, "GET /apis/images/user-1": { body: { items: [], nextToken: null } } });
  render(<StudioScreen api={api()} userId="user-1" />);
  expect(screen.getByLabelText("Loading styles…")).toBeTruthy();
  expect(await screen.findByText("Pick up to 4 (4 picked).")).toBeTruthy();
  expect(screen.getByRole("checkbox", { name: "noir-editorial" })).toBeChecked();
  expect(screen.getByRole("checkbox", { name: "neon-night" })).not.toBeChecked();
  fireEvent.press(screen.getByRole("checkbox", { name: "neon-night" }));
  expect(screen.getByRole("checkbox", { name: "neon-night" })).not.toBeChecked();
  fireEvent.press(screen.getByRole("checkbox", { name: "golden-hour" }));
  fireEvent.press(screen.getByRole("checkbox", { name: "neon-night" }));
  expect(screen.getByRole("checkbox", { name: "neon-night" })).toBeChecked();
  expect(await screen.findByText("No results yet.")).toBeTruthy();
});

test("a selfie from the camera is uploaded, followed style by style, and its results shown", async () => {
  let polls = 0;
  let listed = 0;
  const net = stubNetwork({
    "GET /apis/styles": STYLES,
    "GET /apis/images/user-1": () =>
      ++listed === 1 ? { body: { items: [], nextToken: null } } : { body: { items: ["s1", "s2"].map(result), nextToken: null } },
    "POST /apis/images/upload": TICKET,
    "POST /bucket": { status: 204 },
    "GET /apis/images/user-1/processes/p1": () =>
      ++polls === 1
        ? { body: { processId: "p1", status: "SWAPPING", styles: { s1: { status: "SWAPPING" }, s2: { status: "PENDING" } } } }
        : { body: { processId: "p1", status: "COMPLETED", styles: { s1: { status: "COMPLETED" }, s2: { status: "COMPLETED" } } } },
  });
  const picker = willPick([SELFIE]);
  render(<StudioScreen api={api()} userId="user-1" />);
  await screen.findByText("Pick up to 4 (4 picked).");
  fireEvent.press(screen.getByRole("checkbox", { name: "teal-city" }));
  fireEvent.press(screen.getByRole("checkbox", { name: "pastel-spring" }));
  fireEvent.press(screen.getByRole("button", { name: "Take a selfie" }));
  expect(await screen.findByText("noir-editorial: swapping")).toBeTruthy();
  expect(screen.getByText("golden-hour: pending")).toBeTruthy();
  expect(await screen.findByText("Styling done.", {}, { timeout: 5000 })).toBeTruthy();
  expect(picker.launchCameraAsync).toHaveBeenCalledWith(
    expect.objectContaining({ cameraType: "front", preferredAssetRepresentationMode: "compatible" }),
  );
  expect(net.of("POST", "/apis/images/upload")[0]!.body).toEqual({ contentType: "image/jpeg", resourceIds: ["s1", "s2"] });
  const form = net.of("POST", "/bucket")[0]!.body as FormData;
  expect([...form.keys()]).toEqual(["key", "policy", "file"]); // S3 reads the file last
  expect(await screen.findAllByTestId("result")).toHaveLength(2);
  expect(screen.getByLabelText("Result in style golden-hour")).toBeTruthy();
});

test("a failed process says why, and which styles never started", async () => {
  stubNetwork({
    "GET /apis/styles": STYLES,
    "GET /apis/images/user-1": { body: { items: [], nextToken: null } },
    "POST /apis/images/upload": TICKET,
    "POST /bucket": { status: 204 },
    "GET /apis/images/user-1/processes/p1": {
      body: {
        processId: "p1",
        status: "FAILED",
        styles: { s1: { status: "PENDING" } },
        error: { code: "NO_FACE", message: "No face was found in the photo" },
      },
    },
  });
  willPick([SELFIE]);
  render(<StudioScreen api={api()} userId="user-1" />);
  await screen.findByText("Pick up to 4 (4 picked).");
  fireEvent.press(screen.getByRole("button", { name: "Choose a selfie" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Styling failed: No face was found in the photo");
  expect(within(screen.getByTestId("process")).getByText("noir-editorial: not started")).toBeTruthy();
});

test("a refused upload shows the API's message and code, and S3's refusal its own", async () => {
  let tries = 0;
  stubNetwork({
    "GET /apis/styles": STYLES,
    "GET /apis/images/user-1": { body: { items: [], nextToken: null } },
    "POST /apis/images/upload": () =>
      ++tries === 1 ? apiError(403, "TERMS_NOT_ACCEPTED", "Accept the terms first") : TICKET,
    "POST /bucket": {
      status: 400,
      body: "<Error><Code>EntityTooLarge</Code><Message>too big</Message></Error>",
    },
  });
  willPick([SELFIE]);
  render(<StudioScreen api={api()} userId="user-1" />);
  await screen.findByText("Pick up to 4 (4 picked).");
  fireEvent.press(screen.getByRole("button", { name: "Choose a selfie" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Accept the terms first (TERMS_NOT_ACCEPTED)");
  fireEvent.press(screen.getByRole("button", { name: "Choose a selfie" }));
  await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent(/EntityTooLarge/));
  expect(screen.getByRole("button", { name: "Choose a selfie" })).toBeEnabled();
});

test("without the camera permission it says where to allow it", async () => {
  stubNetwork({ "GET /apis/styles": STYLES, "GET /apis/images/user-1": { body: { items: [], nextToken: null } } });
  const picker = willPick([], false);
  render(<StudioScreen api={api()} userId="user-1" />);
  await screen.findByText("Pick up to 4 (4 picked).");
  fireEvent.press(screen.getByRole("button", { name: "Take a selfie" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Allow access to the camera in Settings.");
  expect(picker.launchCameraAsync).not.toHaveBeenCalled();
});

test("styles that fail to load can be loaded again; no styles is said plainly", async () => {
  let calls = 0;
  stubNetwork({
    "GET /apis/styles": () => (++calls === 1 ? apiError(500, "INTERNAL", "Something went wrong") : { body: { items: [] } }),
    "GET /apis/images/user-1": { body: { items: [], nextToken: null } },
  });
  render(<StudioScreen api={api()} userId="user-1" />);
  expect(await screen.findByRole("alert")).toHaveTextContent("Something went wrong (INTERNAL)");
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByText("No styles are available yet.")).toBeTruthy();
  expect(screen.getByRole("button", { name: "Take a selfie" })).toBeDisabled();
});

test("deleting my data asks first, then erases everything and empties the gallery", async () => {
  let erased = false;
  const net = stubNetwork({
    "GET /apis/styles": STYLES,
    "GET /apis/images/user-1": () => ({ body: { items: erased ? [] : [result("s1")], nextToken: null } }),
    "DELETE /apis/images/user-1": () => {
      erased = true;
      return { body: { userId: "user-1", deleted: {} } };
    },
  });
  render(<StudioScreen api={api()} userId="user-1" />);
  expect(await screen.findAllByTestId("result")).toHaveLength(1);
  fireEvent.press(screen.getByRole("button", { name: "Delete my photos and results" }));
  fireEvent.press(screen.getByRole("button", { name: "Keep them" }));
  expect(net.of("DELETE", "/apis/images/user-1")).toHaveLength(0);
  fireEvent.press(screen.getByRole("button", { name: "Delete my photos and results" }));
  fireEvent.press(screen.getByRole("button", { name: "Yes, delete everything" }));
  expect(await screen.findByText("Your photos and results were deleted.")).toBeTruthy();
  expect(screen.getByText("No results yet.")).toBeTruthy();
  expect(net.of("DELETE", "/apis/images/user-1")).toHaveLength(1);
});
