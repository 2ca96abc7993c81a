/** Which devices have a live socket on this process (the bus shares it across replicas). */
export class Presence {
  private sockets = new Map<string, number>();

  connected(deviceId: string): void {
    this.sockets.set(deviceId, (this.sockets.get(deviceId) ?? 0) + 1);
  }

  disconnected(deviceId: string): void {
    const left = (this.sockets.get(deviceId) ?? 1) - 1;
    if (left <= 0) this.sockets.delete(deviceId);
    else this.sockets.set(deviceId, left);
  }

  isOnline(deviceId: string): boolean {
    return this.sockets.has(deviceId);
  }

  get onlineDevices(): number {
    return this.sockets.size;
  }

  devices(): string[] {
    return [...this.sockets.keys()];
  }
}
