import { fireEvent, render, screen, waitFor, within } from "@testing-library/react-native";

import { createApi } from "../src/api";
import { PeoplePanel } from "../src/screens/PeoplePanel";
import { API, apiError, ID_TOKEN, type Sent, stubNetwork } from "./network";

const api = () => createApi(`${API}/`, () => ID_TOKEN);
const face = (id: string, photoId = `ph-${id}`) => ({ faceId: id, photoId, box: [0, 0, 10, 10], score: 0.9, cropUrl: `http://cdn.test/${id}.jpg` });
const person = (clusterId: string, label: string | null, faceIds: string[]) => ({
  clusterId,
  label,
  size: faceIds.length,
  confidence: 0.8,
  faces: faceIds.map((f) => face(f)),
});
const ADA = person("c1", "Ada", ["f1", "f2", "f3"]);
const BOB = person("c2", null, ["f4"]);

function backend(extra: Record<string, any> = {}) {
  let people = [ADA, BOB];
  let edits: { editId: string; type: string; clusterId: string }[] = [];
  const net = stubNetwork({
    "GET /albums/a1/clusters": () => ({ body: { items: people, nextToken: null } }),
    "GET /albums/a1/edits": () => ({ body: { items: edits } }),
    "POST /albums/a1/clusters/merge": (req) => {
      people = [person("c3", "Ada", ["f1", "f2", "f3", "f4"])];
      edits = [{ editId: "e1", type: "MERGE", clusterId: "c3" }];
      return { body: { clusterId: "c3", merged: req.body.clusterIds } };
    },
    "POST /albums/a1/clusters/{id}/label": (req) => {
      people = people.map((p) => (p.clusterId === "c2" ? { ...p, label: req.body.name } : p));
      edits = [{ editId: "e2", type: "LABEL", clusterId: "c2" }];
      return { body: { ...BOB, label: req.body.name } };
    },
    "POST /albums/a1/clusters/{id}/split": (req) => {
      people = [person("c1", "Ada", ["f1", "f2"]), BOB, person("c9", null, req.body.faceIds)];
      edits = [{ editId: "e3", type: "SPLIT", clusterId: "c1" }];
      return { status: 201, body: { clusterId: "c9" } };
    },
    "POST /albums/a1/edits/undo": () => {
      people = [ADA, BOB];
      const undone = edits[0]!;
      edits = [];
      return { body: { editId: undone.editId, type: undone.type } };
    },
    ...extra,
  });
  return net;
}

test("people are chips with their names and faces; none yet is said plainly", async () => {
  stubNetwork({ "GET /albums/a1/clusters": { body: { items: [], nextToken: null } }, "GET /albums/a1/edits": { body: { items: [] } } });
  const { unmount } = render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  expect(screen.getByLabelText("Loading people…")).toBeTruthy();
  expect(await screen.findByText("No people found yet.")).toBeTruthy();
  unmount();
  backend();
  render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  expect(await screen.findByRole("checkbox", { name: "Ada, 3 faces" })).not.toBeChecked();
  expect(screen.getByRole("checkbox", { name: "Unnamed, 1 face" })).toBeTruthy();
  expect(screen.getByRole("button", { name: "Merge people" })).toBeDisabled();
  expect(screen.getByRole("button", { name: "Undo last change" })).toBeDisabled();
});

test("merge two people, then undo it", async () => {
  const net = backend();
  render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  fireEvent.press(await screen.findByRole("checkbox", { name: "Ada, 3 faces" }));
  fireEvent.press(screen.getByRole("checkbox", { name: "Unnamed, 1 face" }));
  fireEvent.press(screen.getByRole("button", { name: "Merge 2 people" }));
  expect(await screen.findByText("Merged 2 people.")).toBeTruthy();
  expect(net.of("POST", "/albums/a1/clusters/merge")[0]!.body).toEqual({ clusterIds: ["c1", "c2"] });
  expect(await screen.findByRole("checkbox", { name: "Ada, 4 faces" })).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Undo last change" }));
  expect(await screen.findByText("Undid the last merge.")).toBeTruthy();
  expect(await screen.findByRole("checkbox", { name: "Ada, 3 faces" })).toBeTruthy();
  await waitFor(() => expect(screen.getByRole("button", { name: "Undo last change" })).toBeDisabled());
});

test("one person selected: name them, or split faces off (never all of them)", async () => {
  const net = backend();
  render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  fireEvent.press(await screen.findByRole("checkbox", { name: "Unnamed, 1 face" }));
  const editor = screen.getByTestId("person");
  fireEvent.changeText(within(editor).getByLabelText("Name"), "Bob");
  fireEvent.press(within(editor).getByRole("button", { name: "Save name" }));
  expect(await screen.findByText("Named Bob.")).toBeTruthy();
  expect(net.of("POST", "/albums/a1/clusters/c2/label")[0]!.body).toEqual({ name: "Bob" });
  expect(await screen.findByRole("checkbox", { name: "Bob, 1 face" })).toBeChecked();
  // Bob's only face cannot be split off him.
  fireEvent.press(within(screen.getByTestId("person")).getByRole("checkbox", { name: "Face 1" }));
  expect(screen.getByRole("button", { name: "Split 1 face off" })).toBeDisabled();

  fireEvent.press(screen.getByRole("checkbox", { name: "Bob, 1 face" }));
  fireEvent.press(screen.getByRole("checkbox", { name: "Ada, 3 faces" }));
  fireEvent.press(within(screen.getByTestId("person")).getByRole("checkbox", { name: "Face 3" }));
  fireEvent.press(screen.getByRole("button", { name: "Split 1 face off" }));
  expect(await screen.findByText("Split 1 face off into a new person.")).toBeTruthy();
  expect(net.of("POST", "/albums/a1/clusters/c1/split")[0]!.body).toEqual({ faceIds: ["f3"] });
  expect(await screen.findByRole("checkbox", { name: "Ada, 2 faces" })).toBeChecked();
});

test("a refused edit shows the API's reason and the people as the API has them", async () => {
  backend({
    "POST /albums/a1/clusters/merge": apiError(409, "CLUSTER_CHANGED", "Someone changed these people: look again"),
    "POST /albums/a1/share/preview": { body: { photoCount: 4 } },
  });
  render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  fireEvent.press(await screen.findByRole("checkbox", { name: "Ada, 3 faces" }));
  fireEvent.press(screen.getByRole("checkbox", { name: "Unnamed, 1 face" }));
  fireEvent.press(screen.getByRole("button", { name: "Merge 2 people" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Someone changed these people: look again (CLUSTER_CHANGED)");
  expect(screen.getByRole("checkbox", { name: "Ada, 3 faces" })).toBeChecked();
});

test("share the selected people's photos: the count first, then the share", async () => {
  const net = backend({
    "POST /albums/a1/share/preview": (req: Sent) => ({ body: { photoCount: req.body.filters.clusterIds.length === 2 ? 4 : 3 } }),
    "POST /albums/a1/share": (req: Sent) =>
      req.body.recipients.includes("not-an-email")
        ? apiError(400, "VALIDATION_ERROR", "recipients: not-an-email is not an email address")
        : { status: 201, body: { shareId: "s1", status: "BUILDING", expiresAt: "2026-12-10T00:00:00Z", recipients: req.body.recipients, photoCount: 3 } },
  });
  render(<PeoplePanel api={api()} albumId="a1" reloadKey="" />);
  fireEvent.press(await screen.findByRole("checkbox", { name: "Ada, 3 faces" }));
  const share = screen.getByTestId("share");
  expect(await within(share).findByText("3 photos of Ada will be shared.")).toBeTruthy();
  expect(within(share).getByRole("button", { name: "Share" })).toBeDisabled();
  fireEvent.changeText(within(share).getByLabelText("Recipients (emails)"), "not-an-email");
  fireEvent.press(within(share).getByRole("button", { name: "Share" }));
  expect(await within(share).findByRole("alert")).toHaveTextContent(
    "recipients: not-an-email is not an email address (VALIDATION_ERROR)",
  );
  fireEvent.changeText(within(share).getByLabelText("Recipients (emails)"), "bea@example.com, cy@example.com");
  fireEvent.press(within(share).getByRole("checkbox", { name: "Expires in 7 days" }));
  fireEvent.press(within(share).getByRole("button", { name: "Share" }));
  expect(await screen.findByTestId("share-created")).toHaveTextContent(/Shared 3 photos with bea@example.com, cy@example.com \(building/);
  expect(net.of("POST", "/albums/a1/share").at(-1)!.body).toEqual({
    recipients: ["bea@example.com", "cy@example.com"],
    filters: { clusterIds: ["c1"] },
    expiresInDays: 7,
    keepLocation: false, // location stays home unless asked
  });
});
