// The OS photo picker and camera (expo-image-picker's native side) are outside the app: tests
// say what the person picked, or that they refused the permission.
import * as ImagePicker from "expo-image-picker";

jest.mock("expo-image-picker", () => ({
  CameraType: { front: "front", back: "back" },
  UIImagePickerPreferredAssetRepresentationMode: { Compatible: "compatible" },
  requestCameraPermissionsAsync: jest.fn(),
  requestMediaLibraryPermissionsAsync: jest.fn(),
  launchCameraAsync: jest.fn(),
  launchImageLibraryAsync: jest.fn(),
}));

const picker = ImagePicker as jest.Mocked<typeof ImagePicker>;

export function willPick(assets: Partial<ImagePicker.ImagePickerAsset>[], granted = true) {
  const permission = { granted, status: granted ? "granted" : "denied", canAskAgain: true, expires: "never" } as never;
  picker.requestCameraPermissionsAsync.mockResolvedValue(permission);
  picker.requestMediaLibraryPermissionsAsync.mockResolvedValue(permission);
  const result = { canceled: false, assets: assets as ImagePicker.ImagePickerAsset[] } as never;
  picker.launchCameraAsync.mockResolvedValue(result);
  picker.launchImageLibraryAsync.mockResolvedValue(result);
  return picker;
}
