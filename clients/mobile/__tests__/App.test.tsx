import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";
import * as ReactNative from "react-native";

import App from "../src/App";
import { ID_TOKEN, jwt, LOCAL_CONFIG, stubNetwork } from "./network";

// Cognito's access token names its origin when the client allows revocation (origin_jti).
const ACCESS = jwt({ sub: "user-1", origin_jti: "o-1", iat: Math.floor(Date.now() / 1000), exp: 4102444800 });
const TOKENS = { AuthenticationResult: { IdToken: ID_TOKEN, AccessToken: ACCESS, RefreshToken: "r" } };
const SIGNED_IN = {
  "cognito InitiateAuth": { body: TOKENS },
  "cognito RevokeToken": { body: {} },
  "GET /agree": { body: { agreed: false, termsVersion: "v1" } },
  "POST /agree": { status: 201, body: { agreed: true, termsVersion: "v1", agreedAt: "2026-12-01T00:00:00Z" } },
  "GET /apis/styles": { body: { items: [] } },
  "GET /apis/images/user-1": { body: { items: [], nextToken: null } },
  "GET /albums": { body: { items: [], nextToken: null } },
};

test("a config.json that cannot be read is said, and trying again connects", async () => {
  let tries = 0;
  stubNetwork({ "GET /config.json": () => (++tries === 1 ? { status: 404, body: {} } : { body: LOCAL_CONFIG }) });
  render(<App />);
  expect(screen.getByLabelText("Connecting…")).toBeTruthy();
  expect(await screen.findByRole("alert")).toHaveTextContent("Could not load http://backend.test/config.json (HTTP 404).");
  fireEvent.press(screen.getByRole("button", { name: "Try again" }));
  expect(await screen.findByRole("heading", { name: "Sign in" })).toBeTruthy();
});

test("a config.json without the Cognito client is refused by name", async () => {
  stubNetwork({ "GET /config.json": { body: { ...LOCAL_CONFIG, userPoolClientId: "" } } });
  render(<App />);
  expect(await screen.findByRole("alert")).toHaveTextContent("http://backend.test/config.json has no userPoolClientId.");
});

test("a phone built for a deployed stack takes its outputs from EXPO_PUBLIC_CONFIG", async () => {
  const net = stubNetwork({});
  process.env.EXPO_PUBLIC_CONFIG = JSON.stringify({ ...LOCAL_CONFIG, cognitoEndpoint: undefined });
  try {
    render(<App />);
    expect(await screen.findByRole("heading", { name: "Sign in" })).toBeTruthy();
  } finally {
    delete process.env.EXPO_PUBLIC_CONFIG;
  }
  expect(net.sent).toEqual([]); // nothing fetched
});

test("sign in, agree, switch tabs, sign out", async () => {
  const net = stubNetwork({ "GET /config.json": { body: LOCAL_CONFIG }, ...SIGNED_IN });
  render(<App />);
  fireEvent.changeText(await screen.findByLabelText("Email"), "ada@example.com");
  fireEvent.changeText(screen.getByLabelText("Password"), "Correct-Horse-9!");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  fireEvent.press(await screen.findByRole("button", { name: "I agree" }));
  expect(await screen.findByText("Signed in as ada@example.com")).toBeTruthy();
  expect(await screen.findByText("No styles are available yet.")).toBeTruthy();
  // Every API call carries the Cognito ID token.
  const apiCalls = (net.fetch.mock.calls as [Request][]).map(([r]) => r).filter((r) => r instanceof Request);
  expect(apiCalls.length).toBeGreaterThan(2);
  for (const r of apiCalls) expect(r.headers.get("Authorization")).toBe(ID_TOKEN);
  fireEvent.press(screen.getByRole("button", { name: "Albums" }));
  expect(await screen.findByText("No albums yet: create one above.")).toBeTruthy();
  fireEvent.press(screen.getByRole("button", { name: "Sign out" }));
  expect(await screen.findByRole("heading", { name: "Sign in" })).toBeTruthy();
  await waitFor(() => expect(net.cognito("RevokeToken")).toHaveLength(1));
  expect(net.cognito("RevokeToken")[0]!.body).toMatchObject({ Token: "r", ClientId: "testclient" });
});

test("an expired ID token is renewed with the refresh token before the next call", async () => {
  const now = Math.floor(Date.now() / 1000);
  // Cognito's tokens last minutes: this one is past its expiry as soon as it is issued.
  const expired = jwt({ sub: "user-1", email: "ada@example.com", iat: now, exp: now });
  const fresh = jwt({ sub: "user-1", email: "ada@example.com", iat: now, exp: now + 900 });
  const net = stubNetwork({
    "GET /config.json": { body: LOCAL_CONFIG },
    ...SIGNED_IN,
    "cognito InitiateAuth": (req) =>
      req.body.AuthFlow === "REFRESH_TOKEN_AUTH"
        ? { body: { AuthenticationResult: { IdToken: fresh, AccessToken: fresh } } }
        : { body: { AuthenticationResult: { IdToken: expired, AccessToken: expired, RefreshToken: "refresh-1" } } },
  });
  render(<App />);
  fireEvent.changeText(await screen.findByLabelText("Email"), "ada@example.com");
  fireEvent.changeText(screen.getByLabelText("Password"), "Correct-Horse-9!");
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByRole("button", { name: "I agree" })).toBeTruthy();
  const refresh = net.cognito("InitiateAuth").find((r) => r.body.AuthFlow === "REFRESH_TOKEN_AUTH");
  expect(refresh!.body.AuthParameters.REFRESH_TOKEN).toBe("refresh-1");
  const agree = (net.fetch.mock.calls as [Request][]).map(([r]) => r).find((r) => r instanceof Request);
  expect(agree!.headers.get("Authorization")).toBe(fresh);
});

test("follows the OS's dark setting", async () => {
  jest.spyOn(ReactNative, "useColorScheme").mockReturnValue("dark");
  stubNetwork({ "GET /config.json": { body: LOCAL_CONFIG } });
  render(<App />);
  const title = await screen.findByRole("heading", { name: "Sign in" });
  expect(title).toHaveStyle({ color: "#eef1f4" });
});
