// Every API call of the app, through the typed client (@style-backend/client): the Style methods
// it names, and FaceFlow's album routes through its openapi-fetch client (`http`), typed by the
// same generated schema. Refusals become ApiErrors carrying the API's `{error: {code, message}}`.
import { ApiError, createStyleClient, type components } from "@style-backend/client";

export type Schemas = components["schemas"];
export type Album = Schemas["AlbumSummary"];
export type AlbumStatus = Schemas["AlbumStatus"];
export type Photo = Schemas["Photo"];
export type Cluster = Schemas["Cluster"];
export type Style = Schemas["Style"];
export type Result = Schemas["Result"];
export type Progress = Schemas["Progress"];
export type PhotoUploadTicket = Schemas["PhotoUploadTicket"];
export type UploadProgress = Schemas["UploadProgress"];
export type ShareCreated = Schemas["ShareCreated"];
export type ShareSummary = Schemas["ShareSummary"];
export type Edit = Schemas["Edit"];
export { ApiError };

type Outcome<T> = { data?: T; error?: unknown; response: Response };

function unwrap<T>(result: Outcome<T>): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  const error = (result.error as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    throw new ApiError(result.response.status, error.code, error.message);
  }
  throw new ApiError(
    result.response.status,
    String(result.response.status),
    result.response.statusText || "The request failed",
  );
}

export function createApi(apiUrl: string, token: () => string | null | Promise<string | null>) {
  const style = createStyleClient({
    baseUrl: apiUrl,
    token,
    // The global fetch as it is when called (a test's stub, React Native's polyfill).
    fetch: (input, init) => globalThis.fetch(input, init),
  });
  const http = style.http;
  const album = (albumId: string) => ({ params: { path: { albumId } } });
  const cluster = (albumId: string, clusterId: string) => ({
    params: { path: { albumId, clusterId } },
  });
  const photo = (albumId: string, photoId: string) => ({ params: { path: { albumId, photoId } } });
  return {
    style,
    listAlbums: async () => unwrap(await http.GET("/albums")),
    createAlbum: async (name: string) =>
      unwrap(await http.POST("/albums", { body: { name, purgeOriginals: false } })),
    albumStatus: async (albumId: string) =>
      unwrap(await http.GET("/albums/{albumId}/status", album(albumId))),
    listPhotos: async (albumId: string) =>
      unwrap(await http.GET("/albums/{albumId}/photos", album(albumId))),
    requestPhotoUpload: async (albumId: string, body: Schemas["PhotoUploadRequest"]) =>
      unwrap(await http.POST("/albums/{albumId}/uploadUrl", { ...album(albumId), body })),
    uploadProgress: async (albumId: string, photoId: string) =>
      unwrap(await http.GET("/albums/{albumId}/photos/{photoId}/upload", photo(albumId, photoId))),
    completeUpload: async (albumId: string, photoId: string, parts: Schemas["CompletedPart"][]) =>
      unwrap(
        await http.POST("/albums/{albumId}/photos/{photoId}/complete", {
          ...photo(albumId, photoId),
          body: { parts },
        }),
      ),
    listPeople: async (albumId: string) => {
      const people: Cluster[] = [];
      let nextToken: string | undefined;
      do {
        const page = unwrap(
          await http.GET("/albums/{albumId}/clusters", {
            params: { path: { albumId }, query: nextToken ? { nextToken } : {} },
          }),
        );
        people.push(...page.items);
        nextToken = page.nextToken ?? undefined;
      } while (nextToken);
      return people;
    },
    listEdits: async (albumId: string) =>
      unwrap(await http.GET("/albums/{albumId}/edits", album(albumId))),
    label: async (albumId: string, clusterId: string, name: string) =>
      unwrap(
        await http.POST("/albums/{albumId}/clusters/{clusterId}/label", {
          ...cluster(albumId, clusterId),
          body: { name },
        }),
      ),
    merge: async (albumId: string, clusterIds: string[]) =>
      unwrap(
        await http.POST("/albums/{albumId}/clusters/merge", { ...album(albumId), body: { clusterIds } }),
      ),
    split: async (albumId: string, clusterId: string, faceIds: string[]) =>
      unwrap(
        await http.POST("/albums/{albumId}/clusters/{clusterId}/split", {
          ...cluster(albumId, clusterId),
          body: { faceIds },
        }),
      ),
    undo: async (albumId: string) =>
      unwrap(await http.POST("/albums/{albumId}/edits/undo", album(albumId))),
    previewShare: async (albumId: string, clusterIds: string[]) =>
      unwrap(
        await http.POST("/albums/{albumId}/share/preview", {
          ...album(albumId),
          body: { filters: { clusterIds } },
        }),
      ),
    share: async (albumId: string, body: Schemas["CreateShare"]) =>
      unwrap(await http.POST("/albums/{albumId}/share", { ...album(albumId), body })),
    listShares: async (albumId: string) =>
      unwrap(await http.GET("/albums/{albumId}/shares", album(albumId))),
  };
}

export type Api = ReturnType<typeof createApi>;

/** What a person reads for a failure: the API's own message and code, or the error's text. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.message; // "message (CODE)"
  if (err instanceof Error) return err.message;
  return String(err);
}
