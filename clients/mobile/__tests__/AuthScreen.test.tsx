import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";

import { Auth } from "../src/auth";
import { AuthScreen } from "../src/screens/AuthScreen";
import { CONFIG, ID_TOKEN, LOCAL_CONFIG, stubNetwork } from "./network";

const TOKENS = { AuthenticationResult: { IdToken: ID_TOKEN, AccessToken: ID_TOKEN, RefreshToken: "r" } };
const PASSWORD = "Correct-Horse-9!"; // pragma: allowlist secret (a test value)

function fill(email = "ada@example.com", password = PASSWORD) {
  fireEvent.changeText(screen.getByLabelText("Email"), email);
  fireEvent.changeText(screen.getByLabelText("Password"), password);
}

test("against the local runtime, signs in with USER_PASSWORD_AUTH on its Cognito endpoint", async () => {
  const net = stubNetwork({ "cognito InitiateAuth": { body: TOKENS } });
  const onSignedIn = jest.fn();
  render(<AuthScreen auth={new Auth(LOCAL_CONFIG)} onSignedIn={onSignedIn} />);
  expect(screen.getByRole("button", { name: "Sign in" })).toBeDisabled();
  fill();
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  await waitFor(() => expect(onSignedIn).toHaveBeenCalled());
  expect(onSignedIn.mock.calls[0][0]).toMatchObject({ idToken: ID_TOKEN, sub: "user-1", email: "ada@example.com" });
  const [call] = net.cognito("InitiateAuth");
  expect(call!.url).toBe("http://cognito.test/");
  expect(call!.body).toMatchObject({
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: "testclient",
    AuthParameters: { USERNAME: "ada@example.com", PASSWORD },
  });
});

test("against AWS, signs in with SRP: the password itself is never sent", async () => {
  const net = stubNetwork({
    "cognito InitiateAuth": {
      body: {
        ChallengeName: "PASSWORD_VERIFIER",
        ChallengeParameters: {
          SALT: "a1b2c3d4e5f6", // pragma: allowlist secret (a test value)
          SECRET_BLOCK: "c2VjcmV0", // pragma: allowlist secret (a test value)
          SRP_B: "7d3f".repeat(96),
          USERNAME: "user-1",
          USER_ID_FOR_SRP: "user-1",
        },
      },
    },
    "cognito RespondToAuthChallenge": { body: TOKENS },
  });
  const onSignedIn = jest.fn();
  render(<AuthScreen auth={new Auth(CONFIG)} onSignedIn={onSignedIn} />);
  fill();
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  await waitFor(() => expect(onSignedIn).toHaveBeenCalled(), { timeout: 10000 });
  const [start] = net.cognito("InitiateAuth");
  expect(start!.url).toBe("https://cognito-idp.us-west-2.amazonaws.com/");
  expect(start!.body.AuthFlow).toBe("USER_SRP_AUTH");
  expect(start!.body.AuthParameters.SRP_A).toMatch(/^[0-9a-f]+$/);
  const [answer] = net.cognito("RespondToAuthChallenge");
  expect(answer!.body.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE).toBeTruthy();
  expect(JSON.stringify(net.sent.map((r) => r.body))).not.toContain(PASSWORD);
});

test("a refused sign-in shows Cognito's message and keeps the form", async () => {
  stubNetwork({
    "cognito InitiateAuth": {
      status: 400,
      body: { __type: "NotAuthorizedException", message: "Incorrect username or password." },
    },
  });
  const onSignedIn = jest.fn();
  render(<AuthScreen auth={new Auth(LOCAL_CONFIG)} onSignedIn={onSignedIn} />);
  fill();
  fireEvent.press(screen.getByRole("button", { name: "Sign in" }));
  expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect username or password.");
  expect(screen.getByLabelText("Email")).toHaveProp("value", "ada@example.com");
  expect(onSignedIn).not.toHaveBeenCalled();
});

test("sign-up asks for the emailed code, confirms it, then signs in", async () => {
  const net = stubNetwork({
    "cognito SignUp": { body: { UserConfirmed: false, UserSub: "user-1" } },
    "cognito ConfirmSignUp": { body: {} },
    "cognito InitiateAuth": { body: TOKENS },
  });
  const onSignedIn = jest.fn();
  render(<AuthScreen auth={new Auth(LOCAL_CONFIG)} onSignedIn={onSignedIn} />);
  fireEvent.press(screen.getByRole("button", { name: "I need an account" }));
  expect(screen.getByRole("heading")).toHaveTextContent("Create an account");
  fill();
  fireEvent.press(screen.getByRole("button", { name: "Sign up" }));
  expect(await screen.findByText(/We sent a code to ada@example.com/)).toBeTruthy();
  expect(net.cognito("SignUp")[0]!.body).toMatchObject({
    Username: "ada@example.com",
    UserAttributes: [{ Name: "email", Value: "ada@example.com" }],
  });
  expect(screen.getByRole("button", { name: "Confirm" })).toBeDisabled();
  fireEvent.changeText(screen.getByLabelText("Confirmation code"), " 123456 ");
  fireEvent.press(screen.getByRole("button", { name: "Confirm" }));
  await waitFor(() => expect(onSignedIn).toHaveBeenCalled());
  expect(net.cognito("ConfirmSignUp")[0]!.body).toMatchObject({ Username: "ada@example.com", ConfirmationCode: "123456" });
});

test("a password Cognito's policy refuses is explained on the sign-up form", async () => {
  stubNetwork({
    "cognito SignUp": {
      status: 400,
      body: { __type: "InvalidPasswordException", message: "Password did not conform with policy: Password not long enough" },
    },
  });
  render(<AuthScreen auth={new Auth(LOCAL_CONFIG)} onSignedIn={jest.fn()} />);
  fireEvent.press(screen.getByRole("button", { name: "I need an account" }));
  fill("ada@example.com", "short");
  fireEvent.press(screen.getByRole("button", { name: "Sign up" }));
  expect(await screen.findByRole("alert")).toHaveTextContent(/Password not long enough/);
  expect(screen.getByRole("heading")).toHaveTextContent("Create an account");
});
