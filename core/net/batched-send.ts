// Sends WebSocket frames so that all the frames of one event-loop turn leave in one socket
// write. Under load a member answers dozens of requests per turn (one apply completes many
// writes), and a client sends many; one write syscall per frame was a large share of both
// sides' CPU. The first send of a turn corks the TCP socket; setImmediate uncorks it, which
// hands every queued frame to the kernel in a single writev.
import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/** The TCP socket under a ws WebSocket (ws keeps it in `_socket`, pinned with ws 8.18). */
function socketOf(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: unknown })._socket;
  return socket !== null && typeof socket === 'object' && 'cork' in socket ? socket as Socket : undefined;
}

export class BatchedSender {
  private corked: Socket | undefined;

  constructor(private readonly ws: WebSocket) {}

  send(data: string | Uint8Array): void {
    if (this.corked === undefined) {
      const socket = socketOf(this.ws);
      if (socket !== undefined) {
        socket.cork();
        this.corked = socket;
        setImmediate(() => this.flush());
      }
    }
    this.ws.send(data);
  }

  /** Hands everything sent since the first send of this turn to the kernel. */
  flush(): void {
    const socket = this.corked;
    this.corked = undefined;
    socket?.uncork();
  }
}
