// A clock that moves only when told to: a test's fake `clock` for startApp.
export function fakeClock(start = Date.UTC(2026, 0, 1, 12)) {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
    date: () => new Date(now),
  };
}
