// Compile-time checks of the client's types (`npm run check`; never run, never shipped). Every
// line marked to expect an error must be one: an operation typed `any` or `never` fails the check.
import {
  type Agreement,
  ApiError,
  connectLive,
  createStyleClient,
  type LiveConnection,
  type LiveMessage,
  type LiveState,
  type ProcessProgress,
  type ResultsPage,
  type UploadTicket,
  uploadPhoto,
} from "../src/index.js";

export async function usage(photo: Blob): Promise<string[]> {
  const client = createStyleClient({ baseUrl: "https://api.example.com/prod", token: () => "t" });

  const agreement: Agreement = await client.getAgreement();
  const agreed: boolean = agreement.agreed;
  // @ts-expect-error the terms version is a string
  await client.agree(20261101);
  await client.agree(agreement.termsVersion);

  const { items } = await client.listStyles();
  const resourceIds: string[] = items.map((style) => style.resourceId);
  // @ts-expect-error an upload names its styles
  await client.requestUpload({ contentType: "image/jpeg" });
  const ticket: UploadTicket = await client.requestUpload({ contentType: "image/jpeg", resourceIds });
  await uploadPhoto(ticket.upload, photo);

  const progress: ProcessProgress = await client.getProcess("sub", ticket.processId);
  // @ts-expect-error a status is one of the documented values, not any string
  const unknownStatus: typeof progress.status = "SOMETHING";
  const page: ResultsPage = await client.listResults("sub", { limit: 50 });
  // @ts-expect-error limit is a number
  await client.listResults("sub", { limit: "50" });
  // @ts-expect-error the raw client knows the paths
  await client.http.GET("/apis/unknown");
  await client.eraseUserData("sub");

  try {
    await client.getAgreement();
  } catch (err) {
    if (err instanceof ApiError) return [err.code, String(err.status)];
  }
  return [String(agreed), unknownStatus, ...page.items.map((item) => item.url)];
}

export function live(token: string): LiveConnection {
  const seen: string[] = [];
  const connection = connectLive({
    url: "wss://live.example.com/prod",
    token: () => token,
    onMessage: (message: LiveMessage) => {
      if (message.type === "album.status") seen.push(message.albumId, String(message.photos.pending));
      else if (message.type === "process.status") seen.push(message.processId, message.status);
      // @ts-expect-error a share message has no photo counts
      else seen.push(String(message.photos));
    },
    onState: (state: LiveState) => seen.push(state),
  });
  // @ts-expect-error the state is read-only
  connection.state = "open";
  return connection;
}
