// Pictures from the phone's camera, made small enough to upload over a weak network: the longest
// side at most 1600 px, re-encoded as JPEG, as a data URL (the server checks and re-encodes it again).

export const LONGEST_SIDE = 1600;
// The server takes at most 2 MB per picture after base64 decoding.
const MAX_BYTES = 2_000_000;

async function bitmapOf(file) {
  if ("createImageBitmap" in window) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      // Some browsers refuse the options or the format here; an <img> below may still read it.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function decodedBytes(dataUrl) {
  const base64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
  return Math.floor((base64.length * 3) / 4);
}

export async function downscaledJpeg(file) {
  const picture = await bitmapOf(file);
  const width = picture.width || picture.naturalWidth;
  const height = picture.height || picture.naturalHeight;
  const scale = Math.min(1, LONGEST_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff"; // a transparent PNG gets a white background, as JPEG has no transparency
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(picture, 0, 0, canvas.width, canvas.height);
  if (picture.close) picture.close();
  let quality = 0.85;
  let dataUrl = canvas.toDataURL("image/jpeg", quality);
  while (decodedBytes(dataUrl) > MAX_BYTES && quality > 0.4) {
    quality -= 0.15;
    dataUrl = canvas.toDataURL("image/jpeg", quality);
  }
  return dataUrl;
}
