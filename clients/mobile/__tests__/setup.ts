// The native modules jest cannot load, as their own packages document: AsyncStorage's in-memory
// mock (the real JS API over a Map), the safe-area insets of a device.
jest.mock("@react-native-async-storage/async-storage", () =>
  require("@react-native-async-storage/async-storage/jest/async-storage-mock"),
);
jest.mock("react-native-safe-area-context", () => require("react-native-safe-area-context/jest/mock").default);

// Where config.json is (a phone's EXPO_PUBLIC_CONFIG_URL); the network stub answers it.
process.env.EXPO_PUBLIC_CONFIG_URL = "http://backend.test/config.json";

// What react-native-get-random-values gives the app on a phone (index.ts): a CSPRNG for SRP.
// Node's webcrypto refuses typed arrays of jest's other realm; randomFillSync takes them.
const { randomFillSync } = require("node:crypto");
Object.defineProperty(globalThis, "crypto", {
  configurable: true,
  value: { getRandomValues: <T extends ArrayBufferView>(array: T) => randomFillSync(array) },
});
