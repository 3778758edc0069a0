// The Style Backend client: openapi-fetch over the types generated from docs/openapi.json
// (schema.ts), plus the two things every app needs around it: the Cognito token on each request
// and the API's `{error: {code, message}}` bodies as thrown ApiErrors.
import createClient from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export {
  type AlbumStatusMessage,
  connectLive,
  type LiveConnection,
  type LiveMessage,
  type LiveOptions,
  type LiveState,
  type ProcessStatusMessage,
  type ShareStatusMessage,
} from "./live.js";

type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;
type Method<P extends keyof paths> = Exclude<keyof paths[P], "parameters">;

/** The JSON body of an operation's success (2xx) response, e.g. `ResponseBody<"/agree", "get">`. */
export type ResponseBody<P extends keyof paths, M extends Method<P>> = paths[P][M] extends {
  responses: infer R;
}
  ? Json<R[keyof R & (200 | 201 | 202)]>
  : never;

/** The JSON body an operation accepts, e.g. `RequestBody<"/apis/images/upload", "post">`. */
export type RequestBody<P extends keyof paths, M extends Method<P>> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? Json<NonNullable<B>>
  : never;

export type Agreement = ResponseBody<"/agree", "get">;
export type AgreementAccepted = ResponseBody<"/agree", "post">;
export type StyleList = ResponseBody<"/apis/styles", "get">;
export type UploadRequest = RequestBody<"/apis/images/upload", "post">;
export type UploadTicket = ResponseBody<"/apis/images/upload", "post">;
export type ResultsPage = ResponseBody<"/apis/images/{userId}", "get">;
export type ProcessProgress = ResponseBody<"/apis/images/{userId}/processes/{processId}", "get">;
export type ErasureReceipt = ResponseBody<"/apis/images/{userId}", "delete">;

/** A refused request: the API's (or S3's) error code and message, and the HTTP status. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(`${message} (${code})`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

type Token = string | null | undefined;

export interface StyleClientOptions {
  /** The API's base URL with its stage (style-api's `ApiUrl` output; the local `config.json`). */
  baseUrl: string;
  /** The Cognito ID token for the Authorization header, read before every request. */
  token: () => Token | Promise<Token>;
  /** A fetch other than the global one (React Native polyfills, a test server's). */
  fetch?: typeof globalThis.fetch;
}

export function createStyleClient(options: StyleClientOptions) {
  const http = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    fetch: options.fetch,
  });
  http.use({
    async onRequest({ request }) {
      const token = await options.token();
      if (token) request.headers.set("Authorization", token);
      return request;
    },
  });
  return {
    /** The typed openapi-fetch client itself, for calls the methods below do not name. */
    http,
    getAgreement: async () => unwrap(await http.GET("/agree")),
    agree: async (termsVersion: string) =>
      unwrap(await http.POST("/agree", { body: { termsVersion } })),
    listStyles: async () => unwrap(await http.GET("/apis/styles")),
    requestUpload: async (body: UploadRequest) =>
      unwrap(await http.POST("/apis/images/upload", { body })),
    listResults: async (userId: string, query: { limit?: number; nextToken?: string } = {}) =>
      unwrap(await http.GET("/apis/images/{userId}", { params: { path: { userId }, query } })),
    getProcess: async (userId: string, processId: string) =>
      unwrap(
        await http.GET("/apis/images/{userId}/processes/{processId}", {
          params: { path: { userId, processId } },
        }),
      ),
    eraseUserData: async (userId: string) =>
      unwrap(await http.DELETE("/apis/images/{userId}", { params: { path: { userId } } })),
  };
}

export type StyleClient = ReturnType<typeof createStyleClient>;

/** Sends the photo with the presigned POST of an upload ticket (straight to S3, no token). */
export async function uploadPhoto(
  upload: UploadTicket["upload"],
  photo: Blob,
  fetchImpl: typeof globalThis.fetch = globalThis.fetch,
): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", photo); // S3 reads the fields before the file: it must come last
  const response = await fetchImpl(upload.url, { method: "POST", body: form });
  if (response.ok) return;
  // S3 answers in XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>
  const text = await response.text().catch(() => "");
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? String(response.status);
  throw new ApiError(response.status, code, "The upload was refused");
}

function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  throw errorOf(result.response, result.error);
}

function errorOf(response: Response, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new ApiError(response.status, error.code, error.message);
  }
  return new ApiError(response.status, String(response.status), response.statusText || "Failed");
}
