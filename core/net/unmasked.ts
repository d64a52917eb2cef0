// WebSocket client frames with an all-zero masking key. RFC 6455 has clients mask every frame
// with an unpredictable key so that script in a browser cannot make a frame look like HTTP to
// a caching proxy on the way. A member dialling its peers, and the Node client library, run no
// untrusted script, so the key protects nothing there; but masking XORs every payload byte in
// JavaScript on the sender and again on the receiver (the snapshot stream's 1 MiB chunks
// included). ws skips both when the key is zero, and the frames stay valid WebSocket frames.

/** ws's `generateMask` option: fills the key it is handed with zeros. */
export function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}
