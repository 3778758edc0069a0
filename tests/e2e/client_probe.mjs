// The page's bundle of the typed client (local/web/client.js), driven from Node against the local
// backend as a mobile app would use the package: prints what each call answered, as JSON.
// Usage: node client_probe.mjs BUNDLE.mjs API_URL ID_TOKEN USER_ID
import { pathToFileURL } from "node:url";

const [bundle, apiUrl, token, userId] = process.argv.slice(2);
const { ApiError, createStyleClient } = await import(pathToFileURL(bundle).href);

async function refusal(call) {
  try {
    return { answered: await call() };
  } catch (err) {
    return { apiError: err instanceof ApiError, status: err.status, code: err.code, message: err.message };
  }
}

const client = createStyleClient({ baseUrl: `${apiUrl}/`, token: async () => token });
const before = await client.getAgreement();
const out = {
  before,
  wrongVersion: await refusal(() => client.agree("1999-01-01")),
  accepted: await client.agree(before.termsVersion),
  after: await client.getAgreement(),
  styles: (await client.listStyles()).items.map((style) => style.resourceId),
  results: await client.listResults(userId, { limit: 5 }),
  otherUsersResults: await refusal(() => client.listResults("someone-else")),
  badUpload: await refusal(() => client.requestUpload({ contentType: "image/gif", resourceIds: [] })),
  unknownProcess: await refusal(() => client.getProcess(userId, "no-such-process")),
  anonymous: await refusal(() =>
    createStyleClient({ baseUrl: apiUrl, token: () => null }).getAgreement()),
};
console.log(JSON.stringify(out));
