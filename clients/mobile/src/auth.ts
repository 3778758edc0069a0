// Cognito sign-up / sign-in / sign-out with amazon-cognito-identity-js: SRP against AWS (the
// password never leaves the device); against the local runtime (config.cognitoEndpoint) the
// USER_PASSWORD_AUTH flow its pool client allows, on moto's Cognito endpoint.
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
  type ICognitoStorage,
} from "amazon-cognito-identity-js";

import type { AppConfig } from "./config";

export interface Session {
  idToken: string;
  sub: string;
  email: string;
  expiresAt: number; // ms since the epoch
}

// Tokens stay in memory: a restarted app signs in again (nothing to steal from storage).
class MemoryStorage implements ICognitoStorage {
  private items = new Map<string, string>();
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  clear() {
    this.items.clear();
  }
}

/** A Cognito refusal, with Cognito's own code (NotAuthorizedException, …) and message. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

function asAuthError(err: unknown): AuthError {
  const e = err as { code?: string; name?: string; message?: string };
  return new AuthError(e.code || e.name || "AuthError", e.message || "Sign-in failed.");
}

export class Auth {
  private pool: CognitoUserPool;
  private user: CognitoUser | null = null;
  readonly local: boolean;

  constructor(config: AppConfig) {
    this.local = Boolean(config.cognitoEndpoint);
    this.pool = new CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.userPoolClientId,
      endpoint: config.cognitoEndpoint,
      Storage: new MemoryStorage(),
    });
  }

  private cognitoUser(email: string): CognitoUser {
    const user = new CognitoUser({ Username: email, Pool: this.pool, Storage: new MemoryStorage() });
    if (this.local) user.setAuthenticationFlowType("USER_PASSWORD_AUTH");
    return user;
  }

  /** Resolves `confirmed`: false when Cognito mailed a code to confirm the address with. */
  signUp(email: string, password: string): Promise<{ confirmed: boolean }> {
    const attributes = [new CognitoUserAttribute({ Name: "email", Value: email })];
    return new Promise((resolve, reject) => {
      this.pool.signUp(email, password, attributes, [], (err, result) => {
        if (err || !result) reject(asAuthError(err));
        else resolve({ confirmed: result.userConfirmed });
      });
    });
  }

  confirm(email: string, code: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.cognitoUser(email).confirmRegistration(code, true, (err) =>
        err ? reject(asAuthError(err)) : resolve(),
      );
    });
  }

  signIn(email: string, password: string): Promise<Session> {
    const user = this.cognitoUser(email);
    const details = new AuthenticationDetails({ Username: email, Password: password });
    return new Promise((resolve, reject) => {
      user.authenticateUser(details, {
        onSuccess: (session) => {
          this.user = user;
          const token = session.getIdToken();
          const claims = token.decodePayload() as { sub: string; email?: string; exp: number };
          resolve({
            idToken: token.getJwtToken(),
            sub: claims.sub,
            email: claims.email ?? email,
            expiresAt: claims.exp * 1000,
          });
        },
        onFailure: (err) => reject(asAuthError(err)),
        // The pool's MFA is optional (TOTP); a user who turned it on signs in on the web page.
        totpRequired: () =>
          reject(new AuthError("MFA_REQUIRED", "This account uses an authenticator app: not supported here yet.")),
        newPasswordRequired: () =>
          reject(new AuthError("NEW_PASSWORD_REQUIRED", "Set a new password on the web page first.")),
      });
    });
  }

  /** The ID token for the next request: Cognito's tokens last minutes (the stack's
   * token_validity_minutes, 15 by default), so an expired one is renewed first with the refresh
   * token. null when signed out. */
  token(): Promise<string | null> {
    const user = this.user;
    if (!user) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      user.getSession((err: Error | null, session: CognitoUserSession | null) => {
        if (err || !session) reject(asAuthError(err ?? new Error("Sign in again.")));
        else resolve(session.getIdToken().getJwtToken());
      });
    });
  }

  /** Revokes the refresh token (the pool client allows it), so a copy of it is worthless, and
   * forgets the tokens; signed out here even when Cognito cannot be reached. */
  signOut(): Promise<void> {
    const user = this.user;
    this.user = null;
    if (!user) return Promise.resolve();
    return new Promise((resolve) => user.signOut(() => resolve()));
  }
}
