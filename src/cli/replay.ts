/** Placeholder until replay lands. */
export function replayMain(_cmd: string, _args: string[]): Promise<number> {
  console.error("migscope: replay is not implemented yet");
  return Promise.resolve(2);
}
