// Photos from the camera or the library (expo-image-picker), as the files the uploads read.
import * as ImagePicker from "expo-image-picker";

import type { PickedFile } from "./uploads";

const TYPES: Record<string, string> = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp" };

function asFile(asset: ImagePicker.ImagePickerAsset, index: number): PickedFile {
  const name = asset.fileName || asset.uri.split("/").pop() || `photo-${index + 1}.jpg`;
  const type = asset.mimeType || TYPES[name.split(".").pop()?.toLowerCase() ?? ""] || "image/jpeg";
  return { name, size: asset.fileSize ?? asset.file?.size ?? 0, type, uri: asset.uri, blob: asset.file };
}

/** null: the person cancelled, or refused the permission (`denied` says which). */
export async function pickPhotos(
  source: "camera" | "library",
  multiple: boolean,
): Promise<{ files: PickedFile[]; denied: boolean }> {
  const permission =
    source === "camera"
      ? await ImagePicker.requestCameraPermissionsAsync()
      : await ImagePicker.requestMediaLibraryPermissionsAsync();
  if (!permission.granted) return { files: [], denied: true };
  const options: ImagePicker.ImagePickerOptions = {
    mediaTypes: ["images"],
    allowsMultipleSelection: multiple,
    quality: 1,
    exif: false,
    // iOS: JPEG rather than the library's HEIC, which the API does not take.
    preferredAssetRepresentationMode: ImagePicker.UIImagePickerPreferredAssetRepresentationMode.Compatible,
  };
  const result =
    source === "camera"
      ? await ImagePicker.launchCameraAsync({ ...options, cameraType: ImagePicker.CameraType.front })
      : await ImagePicker.launchImageLibraryAsync(options);
  return { files: result.canceled ? [] : result.assets.map(asFile), denied: false };
}
