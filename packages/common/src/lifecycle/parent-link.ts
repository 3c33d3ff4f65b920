/**
 * `etl run` and `etl serve` start each service with an IPC channel. The channel is the lifeline: the
 * kernel closes it when the parent dies, whatever killed it (kill -9 included), so the service can stop
 * instead of living on as an orphan. Cloud Run starts services without one; then nothing here applies.
 */
export interface ListeningMessage {
  type: 'listening';
  url: string;
}

export function isListeningMessage(message: unknown): message is ListeningMessage {
  const candidate = message as Partial<ListeningMessage> | null;
  return candidate?.type === 'listening' && typeof candidate.url === 'string';
}

/** Tells the parent, if any, where the service listens. */
export function announceListening(url: string): void {
  const message: ListeningMessage = { type: 'listening', url };
  process.send?.(message);
}

/** Calls `onGone` once when the parent that started this process with an IPC channel is gone. */
export function onParentGone(onGone: () => void): void {
  if (process.channel) process.once('disconnect', onGone);
}
