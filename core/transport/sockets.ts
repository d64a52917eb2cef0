// Small helpers around `ws` sockets shared by the dialing and the listening side.
import WebSocket from 'ws';
import type { RawData } from 'ws';

/** Close frames use 1008 (policy violation) for a peer that broke the protocol. */
export const CLOSE_PROTOCOL = 1008;
/** 1001 (going away) when this member stops or drops the peer. */
export const CLOSE_GOING_AWAY = 1001;

/**
 * Closes a socket politely and resolves once it is closed, terminating it if the peer has
 * not completed the close handshake within `graceMs` (a stuck peer must not hang stop()).
 */
export function closeSocket(ws: WebSocket, code: number, reason: string, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    const timer = setTimeout(() => ws.terminate(), graceMs);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  });
}

/** The bytes of a received message (`ws` hands over a Buffer with the default binaryType). */
export function messageBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
