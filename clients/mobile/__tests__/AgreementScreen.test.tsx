import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";

import { createApi } from "../src/api";
import { AgreementScreen } from "../src/screens/AgreementScreen";
import { API, apiError, ID_TOKEN, stubNetwork } from "./network";

const api = () => createApi(`${API}/`, () => ID_TOKEN);

test("shows the terms version, and agreeing posts that version with the token", async () => {
  const net = stubNetwork({
    "GET /agree": { body: { agreed: false, termsVersion: "2024-06" } },
    "POST /agree": { status: 201, body: { agreed: true, termsVersion: "2024-06", agreedAt: "2026-01-01T00:00:00Z" } },
  });
  const onAgreed = jest.fn();
  render(<AgreementScreen api={api()} onAgreed={onAgreed} />);
  expect(screen.getByLabelText("Checking the terms…")).toBeTruthy();
  expect(await screen.findByText(/Terms version 2024-06/)).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "I agree" }));
  await waitFor(() => expect(onAgreed).toHaveBeenCalledTimes(1));
  expect(net.of("POST", "/agree")[0]!.body).toEqual({ termsVersion: "2024-06" });
});

test("someone who agreed already goes straight on", async () => {
  stubNetwork({ "GET /agree": { body: { agreed: true, termsVersion: "2024-06" } } });
  const onAgreed = jest.fn();
  render(<AgreementScreen api={api()} onAgreed={onAgreed} />);
  await waitFor(() => expect(onAgreed).toHaveBeenCalled());
  expect(screen.queryByRole("button", { name: "I agree" })).toBeNull();
});

test("an API error is shown in the API's words, and trying again works", async () => {
  let calls = 0;
  stubNetwork({
    "GET /agree": () =>
      ++calls === 1 ? apiError(503, "UNAVAILABLE", "The service is busy, try again") : { body: { agreed: false, termsVersion: "v2" } },
  });
  render(<AgreementScreen api={api()} onAgreed={jest.fn()} />);
  expect(await screen.findByRole("alert")).toHaveTextContent("The service is busy, try again (UNAVAILABLE)");
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByText(/Terms version v2/)).toBeTruthy();
  expect(screen.queryByRole("alert")).toBeNull();
});
